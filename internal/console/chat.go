package console

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
	"github.com/breadcrumb-oncall/breadcrumb/bot/localchat"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/report"
)

// ChatConfig is what the console's local chat needs. Bot and Chat are
// required: Chat is the chat the bot speaks in.
type ChatConfig struct {
	Bot  bot.Handler
	Chat *localchat.Chat
	// PinEmoji is the reaction the pin control sends; empty means
	// "pushpin", the bot's default.
	PinEmoji string
	// Logger receives what goes wrong; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Stop, once done, answers the pending polls at once, so that a page
	// left open does not hold up a graceful shutdown; nil means never.
	Stop context.Context
	// SecureCookies marks the chat's cookies Secure on plain HTTP
	// requests too: the service is reached over HTTPS through a proxy.
	SecureCookies bool
}

// GeneralChannel is the channel the chat makes when it starts, for
// commands typed outside any incident.
const GeneralChannel = "general"

// Paths of the chat, under /chat.
const (
	chatRoot   = "/chat"
	chatPrefix = "/chat/"
)

// The chat's cookie: the name its user goes by. Its forms are guarded
// by the console's form token (forms.go).
const (
	nameCookie = "breadcrumb_chat_name"
	// defaultUser is the name of a user who gave none.
	defaultUser = "console"
	// maxBody bounds a POST's form.
	maxBody = 64 << 10
	// pollWait is how long a poll waits for a change before it answers.
	pollWait = 25 * time.Second
	// shownEphemerals is how many of a user's private replies a channel
	// shows.
	shownEphemerals = 20
)

// chat is the console's local chat: it shows a localchat.Chat and turns
// what its user types and presses into calls on the bot.
type chat struct {
	bot   bot.Handler
	lc    *localchat.Chat
	pin   string
	log   *slog.Logger
	now   func() time.Time
	stop  context.Context
	pages *template.Template
	// secureCookies is ChatConfig.SecureCookies.
	secureCookies bool

	mu sync.Mutex
	// triggers maps the trigger of each command and click to its user,
	// so that the forms the bot opens reach that user only.
	triggers map[string]string
	// pinned holds the messages pinned through the console.
	pinned map[bot.MessageRef]bool
}

// NewChat returns the local chat's handler, to be mounted at /chat and
// /chat/ behind the console's token (Config.Chat). It makes the
// "general" channel. Its pages: GET /chat (the general channel), GET
// /chat/c/{channel} (a channel; ?thread=TS opens a thread), GET
// /chat/poll?v=N (waits for a change, for the page's script), GET
// /chat/files/{n} (a shared file, as a download); and the POSTs /chat/say
// (a command or a message), /chat/click, /chat/pin, /chat/submit,
// /chat/dismiss and /chat/name.
func NewChat(cfg ChatConfig) http.Handler {
	if cfg.Bot == nil || cfg.Chat == nil {
		panic("console: NewChat needs a bot and its chat")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PinEmoji == "" {
		cfg.PinEmoji = "pushpin"
	}
	if cfg.Stop == nil {
		cfg.Stop = context.Background()
	}
	c := &chat{bot: cfg.Bot, lc: cfg.Chat, pin: strings.Trim(cfg.PinEmoji, ": "), log: cfg.Logger, now: cfg.Now, stop: cfg.Stop,
		secureCookies: cfg.SecureCookies, triggers: map[string]string{}, pinned: map[bot.MessageRef]bool{}}
	c.pages = chatPages()
	c.lc.CreateChannel(GeneralChannel, "Anything that is not an incident's")
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+chatRoot, c.index)
	mux.HandleFunc("GET "+chatPrefix+"{$}", c.index)
	mux.HandleFunc("GET "+chatPrefix+"c/{channel}", c.channel)
	mux.HandleFunc("GET "+chatPrefix+"poll", c.poll)
	mux.HandleFunc("GET "+chatPrefix+"files/{n}", c.file)
	mux.HandleFunc("POST "+chatPrefix+"say", c.guard(c.say))
	mux.HandleFunc("POST "+chatPrefix+"click", c.guard(c.click))
	mux.HandleFunc("POST "+chatPrefix+"pin", c.guard(c.pinMessage))
	mux.HandleFunc("POST "+chatPrefix+"submit", c.guard(c.submit))
	mux.HandleFunc("POST "+chatPrefix+"dismiss", c.guard(c.dismiss))
	mux.HandleFunc("POST "+chatPrefix+"name", c.guard(c.setName))
	return mux
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// guard lets a POST through only when checkForm does.
func (c *chat) guard(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if checkForm(w, r, maxBody) {
			next(w, r)
		}
	}
}

// user is the console user the request speaks for: the name in its
// cookie, else "console".
func user(r *http.Request) bot.User {
	name := defaultUser
	if ck, err := r.Cookie(nameCookie); err == nil {
		if n, err := url.QueryUnescape(ck.Value); err == nil && validName(n) {
			name = n
		}
	}
	return bot.User{ID: name, Name: name}
}

// validName accepts a short name of letters, digits, ".", "-" and "_".
func validName(n string) bool {
	if n == "" || len(n) > 40 {
		return false
	}
	for _, r := range n {
		ok := r == '.' || r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !ok {
			return false
		}
	}
	return true
}

// newTrigger returns a trigger for an action of u, so that a form the
// bot opens for it reaches u.
func (c *chat) newTrigger(u bot.User) string {
	t := randomHex(12)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.triggers[t] = u.ID
	return t
}

// forgetUnused drops a trigger that opened no form, so that only the
// triggers of forms are kept.
func (c *chat) forgetUnused(trigger string) {
	forms := c.lc.Forms()
	for i := len(forms) - 1; i >= 0; i-- {
		if forms[i].Trigger == trigger {
			return
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.triggers, trigger)
}

func (c *chat) index(w http.ResponseWriter, r *http.Request) {
	info, _ := c.lc.Channel(GeneralChannel)
	http.Redirect(w, r, chatPrefix+"c/"+url.PathEscape(info.ID), http.StatusSeeOther)
}

// back sends the browser to the channel (and thread) it acted in.
func back(w http.ResponseWriter, r *http.Request, place bot.Place) {
	u := chatPrefix + "c/" + url.PathEscape(place.Channel)
	if place.Thread != "" {
		u += "?thread=" + url.QueryEscape(place.Thread)
	}
	http.Redirect(w, r, u, http.StatusSeeOther)
}

// place reads the channel and thread a POST acts in; the channel must
// exist.
func (c *chat) place(r *http.Request) (bot.Place, bool) {
	info, ok := c.lc.Channel(r.PostFormValue("channel"))
	if !ok || info.ID != r.PostFormValue("channel") {
		return bot.Place{}, false
	}
	return bot.Place{Channel: info.ID, Thread: r.PostFormValue("thread")}, true
}

func (c *chat) say(w http.ResponseWriter, r *http.Request) {
	place, ok := c.place(r)
	if !ok {
		http.Error(w, "there is no such channel", http.StatusNotFound)
		return
	}
	u := user(r)
	text := strings.TrimSpace(r.PostFormValue("text"))
	if text == "" {
		back(w, r, place)
		return
	}
	if name, rest, ok := slashCommand(text); ok {
		cmd := bot.Command{Name: name, Text: rest, User: u, Place: place, Trigger: c.newTrigger(u), Key: "web-" + randomHex(12), At: c.now()}
		answer := c.bot.Command(r.Context(), cmd)
		c.forgetUnused(cmd.Trigger)
		if len(answer.Blocks) > 0 || answer.Text != "" {
			// The command is shown above its answer, for its user only,
			// as a chat shows nothing of a slash command to the others.
			shown := bot.Message{Text: answer.Text, Blocks: append([]bot.Block{&bot.Context{Text: bot.Text{
				{Text: "/" + name + " " + rest, Style: bot.Monospace}}}}, answer.Blocks...)}
			if len(answer.Blocks) == 0 {
				shown.Blocks = append(shown.Blocks, &bot.Section{Text: bot.Text{bot.P(answer.Text)}})
			}
			c.whisper(r.Context(), place, u, shown)
		}
		back(w, r, place)
		return
	}
	if _, err := c.lc.Say(place, u, text); err != nil {
		if errors.Is(err, localchat.ErrNotFound) {
			http.Error(w, "there is no such channel", http.StatusNotFound)
			return
		}
		c.log.Error("chat: say", "channel", place.Channel, "err", err)
		http.Error(w, "the message could not be posted", http.StatusInternalServerError)
		return
	}
	back(w, r, place)
}

// slashCommand splits "/runbook disk full" into "runbook" and "disk
// full".
func slashCommand(text string) (name, rest string, ok bool) {
	if !strings.HasPrefix(text, "/") || strings.HasPrefix(text, "//") {
		return "", "", false
	}
	name, rest, _ = strings.Cut(text[1:], " ")
	if name == "" {
		return "", "", false
	}
	return name, strings.TrimSpace(rest), true
}

// whisper keeps a reply for its user; the chat holds it (and wakes the
// pages that wait), so it survives a reload.
func (c *chat) whisper(ctx context.Context, to bot.Place, u bot.User, m bot.Message) {
	if err := c.lc.Whisper(ctx, to, u, m); err != nil {
		c.log.Error("chat: keep a reply", "channel", to.Channel, "err", err)
	}
}

// click presses a button of a message in the chat, or of one of the
// user's private replies. The button is found where it was shown, so
// that a form can press only buttons the bot made.
func (c *chat) click(w http.ResponseWriter, r *http.Request) {
	place, ok := c.place(r)
	if !ok {
		http.Error(w, "there is no such channel", http.StatusNotFound)
		return
	}
	u := user(r)
	blockN, err1 := strconv.Atoi(r.PostFormValue("block"))
	buttonN, err2 := strconv.Atoi(r.PostFormValue("button"))
	if err1 != nil || err2 != nil {
		http.Error(w, "which button?", http.StatusBadRequest)
		return
	}
	var msg bot.Message
	var ref bot.MessageRef
	if ts := r.PostFormValue("ts"); ts != "" {
		p, found := c.lc.Get(bot.MessageRef{Channel: place.Channel, TS: ts})
		if !found {
			http.Error(w, "that message is gone", http.StatusNotFound)
			return
		}
		msg, ref = p.Message, p.Ref
		if p.Thread != "" {
			place.Thread = p.Thread
		}
	} else {
		n, err := strconv.Atoi(r.PostFormValue("ephemeral"))
		mine := c.lc.Ephemerals(u.ID)
		if err != nil || n < 0 || n >= len(mine) || mine[n].To.Channel != place.Channel {
			http.Error(w, "that reply is gone", http.StatusNotFound)
			return
		}
		msg, ref = mine[n].Message, bot.MessageRef{Channel: place.Channel}
		place.Thread = mine[n].To.Thread
	}
	btn, found := buttonAt(msg, blockN, buttonN)
	if !found {
		http.Error(w, "that button is gone", http.StatusNotFound)
		return
	}
	trigger := c.newTrigger(u)
	answer := c.bot.Click(r.Context(), bot.Click{Action: btn.Action, Value: btn.Value, User: u, Place: place, Message: ref,
		Trigger: trigger, Key: "web-" + randomHex(12), At: c.now()})
	c.forgetUnused(trigger)
	if answer != nil {
		c.whisper(r.Context(), place, u, *answer)
	}
	back(w, r, bot.Place{Channel: place.Channel, Thread: r.PostFormValue("thread")})
}

func buttonAt(m bot.Message, block, button int) (bot.Button, bool) {
	if block < 0 || block >= len(m.Blocks) {
		return bot.Button{}, false
	}
	a, ok := m.Blocks[block].(*bot.Actions)
	if !ok || button < 0 || button >= len(a.Buttons) {
		return bot.Button{}, false
	}
	return a.Buttons[button], true
}

// pinMessage adds the pin reaction to a message, or removes it.
func (c *chat) pinMessage(w http.ResponseWriter, r *http.Request) {
	place, ok := c.place(r)
	if !ok {
		http.Error(w, "there is no such channel", http.StatusNotFound)
		return
	}
	ref := bot.MessageRef{Channel: place.Channel, TS: r.PostFormValue("ts")}
	if _, found := c.lc.Get(ref); !found {
		http.Error(w, "that message is gone", http.StatusNotFound)
		return
	}
	add := r.PostFormValue("pin") != "off"
	c.mu.Lock()
	if add {
		c.pinned[ref] = true
	} else {
		delete(c.pinned, ref)
	}
	c.mu.Unlock()
	c.bot.React(r.Context(), bot.Reaction{Emoji: c.pin, Added: add, User: user(r), Message: ref, Key: "web-" + randomHex(12), At: c.now()})
	back(w, r, place)
}

// openForm is a form the bot opened for a user.
type openForm struct {
	Trigger string
	Form    bot.Form
}

// formsFor returns the forms still open for a user, oldest first.
func (c *chat) formsFor(u bot.User) []openForm {
	all := c.lc.Forms()
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []openForm
	for _, f := range all {
		if c.triggers[f.Trigger] == u.ID {
			out = append(out, openForm{Trigger: f.Trigger, Form: f.Form})
		}
	}
	return out
}

func (c *chat) findForm(u bot.User, trigger string) (openForm, bool) {
	for _, f := range c.formsFor(u) {
		if f.Trigger == trigger {
			return f, true
		}
	}
	return openForm{}, false
}

// closeForm forgets a form that was submitted or dismissed: its trigger
// no longer names an owner, so it is shown to no one.
func (c *chat) closeForm(trigger string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.triggers, trigger)
}

// submit sends a filled form to the bot; a *bot.FormError shows the form
// again with its messages.
func (c *chat) submit(w http.ResponseWriter, r *http.Request) {
	place, ok := c.place(r)
	if !ok {
		http.Error(w, "there is no such channel", http.StatusNotFound)
		return
	}
	u := user(r)
	f, ok := c.findForm(u, r.PostFormValue("trigger"))
	if !ok {
		back(w, r, place) // submitted already, or someone else's
		return
	}
	values := map[string]string{}
	for _, fld := range f.Form.Fields {
		values[fld.ID] = strings.TrimSpace(r.PostFormValue("f_" + fld.ID))
	}
	err := c.bot.Submit(r.Context(), bot.Submission{Form: f.Form.ID, State: f.Form.State, Values: values, User: u,
		Key: "web-" + f.Trigger, At: c.now()})
	var fe *bot.FormError
	switch {
	case errors.As(err, &fe):
		c.render(w, r, place, http.StatusUnprocessableEntity, &formRetry{Trigger: f.Trigger, Values: values, Problems: fe.Fields})
		return
	case err != nil:
		c.log.Error("chat: submit a form", "form", f.Form.ID, "err", err)
		c.render(w, r, place, http.StatusInternalServerError, &formRetry{Trigger: f.Trigger, Values: values,
			Problems: map[string]string{"": "The form could not be taken; the log says why. Try again in a moment."}})
		return
	}
	c.closeForm(f.Trigger)
	back(w, r, place)
}

func (c *chat) dismiss(w http.ResponseWriter, r *http.Request) {
	place, ok := c.place(r)
	if !ok {
		http.Error(w, "there is no such channel", http.StatusNotFound)
		return
	}
	if f, ok := c.findForm(user(r), r.PostFormValue("trigger")); ok {
		c.closeForm(f.Trigger)
	}
	back(w, r, place)
}

func (c *chat) setName(w http.ResponseWriter, r *http.Request) {
	place, ok := c.place(r)
	if !ok {
		place = bot.Place{}
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	if !validName(name) {
		http.Error(w, "a name is 1 to 40 letters, digits, '.', '-' or '_'", http.StatusBadRequest)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: nameCookie, Value: url.QueryEscape(name), Path: chatRoot, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: c.secure(r), MaxAge: 365 * 24 * 3600})
	if place.Channel == "" {
		http.Redirect(w, r, chatRoot, http.StatusSeeOther)
		return
	}
	back(w, r, place)
}

// poll answers once the chat has changed past version v, or after a
// while; the page's script then fetches the page again.
func (c *chat) poll(w http.ResponseWriter, r *http.Request) {
	after, _ := strconv.ParseUint(r.URL.Query().Get("v"), 10, 64)
	ctx, cancel := context.WithTimeout(r.Context(), pollWait)
	defer cancel()
	unhook := context.AfterFunc(c.stop, cancel)
	defer unhook()
	v := c.lc.Wait(ctx, after)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]uint64{"version": v})
}

// fileTypes maps a bot.File's type to the content type it is served
// with.
var fileTypes = map[string]string{
	"markdown": "text/markdown; charset=utf-8",
	"html":     "text/html; charset=utf-8",
	"json":     "application/json",
}

// file serves a shared file as a download.
func (c *chat) file(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("n"))
	ups := c.lc.Uploads()
	if err != nil || n < 0 || n >= len(ups) {
		http.Error(w, "there is no such file", http.StatusNotFound)
		return
	}
	f := ups[n].File
	typ := fileTypes[f.Type]
	if typ == "" {
		typ = "application/octet-stream"
	}
	name := f.Name
	if name == "" {
		name = "file"
	}
	w.Header().Set("Content-Type", typ)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// A report in HTML is the incident's text: should a browser show it,
	// it runs nothing.
	w.Header().Set("Content-Security-Policy", report.ContentSecurityPolicy)
	_, _ = w.Write(f.Content)
}

// formRetry is a form sent back with its problems.
type formRetry struct {
	Trigger  string
	Values   map[string]string
	Problems map[string]string
}

// channelView is what the chat page shows.
type channelView struct {
	Title     string
	Chat      bool
	Channels  []localchat.ChannelInfo
	Current   localchat.ChannelInfo
	Thread    string
	Parent    template.HTML
	Messages  []template.HTML
	Replies   []template.HTML
	Mine      []template.HTML
	Files     []fileView
	Forms     []template.HTML
	User      string
	CSRF      string
	Version   uint64
	Live      bool
	FormError string
}

type fileView struct {
	N     int
	Name  string
	Title string
	At    time.Time
}

func (c *chat) channel(w http.ResponseWriter, r *http.Request) {
	info, ok := c.lc.Channel(r.PathValue("channel"))
	if !ok || info.ID != r.PathValue("channel") {
		http.Error(w, "there is no such channel", http.StatusNotFound)
		return
	}
	c.render(w, r, bot.Place{Channel: info.ID, Thread: r.URL.Query().Get("thread")}, http.StatusOK, nil)
}

// render shows a channel: with ?part=live, only the part the script
// replaces as the chat changes.
func (c *chat) render(w http.ResponseWriter, r *http.Request, place bot.Place, status int, retry *formRetry) {
	info, _ := c.lc.Channel(place.Channel)
	u := user(r)
	tok := formToken(w, r, c.secure(r))
	v := c.lc.Version() // read first: a change after it shows at the next poll
	rd := renderer{csrf: tok, channel: info.ID, thread: place.Thread, pages: c.pages}
	c.mu.Lock()
	pinned := make(map[bot.MessageRef]bool, len(c.pinned))
	for k := range c.pinned {
		pinned[k] = true
	}
	c.mu.Unlock()
	view := channelView{Title: "#" + info.Name, Chat: true, Channels: c.lc.Channels(), Current: info, Thread: place.Thread,
		User: u.ID, CSRF: tok, Version: v}
	all := c.lc.All(info.ID)
	replies := map[string]int{}
	for _, p := range all {
		if p.Thread != "" {
			replies[p.Thread]++
		}
	}
	for _, p := range all {
		if p.Thread != "" {
			continue
		}
		view.Messages = append(view.Messages, rd.posted(p, replies[p.Ref.TS], pinned[p.Ref], true))
		if p.Ref.TS == place.Thread {
			view.Parent = rd.posted(p, 0, pinned[p.Ref], false)
		}
	}
	if place.Thread != "" {
		for _, p := range all {
			if p.Thread == place.Thread {
				view.Replies = append(view.Replies, rd.posted(p, 0, pinned[p.Ref], false))
			}
		}
		if view.Parent == "" {
			view.Thread = ""
		}
	}
	// The user's answers sit under the input, newest first.
	mine := c.lc.Ephemerals(u.ID)
	for i := len(mine) - 1; i >= 0 && len(view.Mine) < shownEphemerals; i-- {
		if mine[i].To.Channel == info.ID {
			view.Mine = append(view.Mine, rd.ephemeral(i, mine[i]))
		}
	}
	for i, up := range c.lc.Uploads() {
		if up.To.Channel == info.ID {
			view.Files = append(view.Files, fileView{N: i, Name: up.File.Name, Title: up.File.Title, At: up.At})
		}
	}
	for _, f := range c.formsFor(u) {
		var fr *formRetry
		if retry != nil && retry.Trigger == f.Trigger {
			fr = retry
			view.FormError = retry.Problems[""]
		}
		view.Forms = append(view.Forms, rd.form(f, fr))
	}
	name := "chat.html"
	if r.URL.Query().Get("part") == "live" {
		name = "chatlive"
	}
	var buf bytes.Buffer
	if err := c.pages.ExecuteTemplate(&buf, name, view); err != nil {
		c.log.Error("chat page failed", "channel", info.ID, "err", err)
		http.Error(w, "this page could not be rendered; the log says why", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// chatPages parses the chat's templates: its pages and their parts.
func chatPages() *template.Template {
	return template.Must(template.New("").Funcs(template.FuncMap{
		"when":  func(t time.Time) string { return t.UTC().Format("15:04:05") },
		"esc":   url.PathEscape,
		"query": url.QueryEscape,
	}).ParseFS(templateFS, "templates/layout.html", "templates/chat*.html"))
}

// renderer makes the views of the bot's messages and forms, which the
// templates in chat_parts.html write as HTML. html/template escapes every
// text; the renderer decides what the bot's markup means here: what is
// Plain is shown as typed, a link is live only when it goes to http(s) or
// to a path of this site, and a button presses only through a form of
// this chat.
type renderer struct {
	csrf, channel, thread string
	pages                 *template.Template
}

// safeURL reports whether u may be followed: http(s) only, or a path on
// this site.
func safeURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	switch strings.ToLower(p.Scheme) {
	case "http", "https":
		return p.Host != ""
	case "":
		return strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//") && !strings.HasPrefix(u, "/\\")
	}
	return false
}

// hiddenView is the hidden fields every form of the chat carries, and
// the form's own.
type hiddenView struct {
	CSRF, Channel, Thread string
	Extra                 []nameValue
}

type nameValue struct{ Name, Value string }

// hidden returns the hidden fields with extra name, value pairs.
func (rd renderer) hidden(extra ...string) hiddenView {
	h := hiddenView{CSRF: rd.csrf, Channel: rd.channel, Thread: rd.thread}
	for i := 0; i+1 < len(extra); i += 2 {
		h.Extra = append(h.Extra, nameValue{extra[i], extra[i+1]})
	}
	return h
}

// msgView is a message of the channel, or a reply only its user sees
// (Mine).
type msgView struct {
	Mine           bool
	Anchor, Author string
	At             string
	Edited         bool
	Body           bodyView
	Pin            hiddenView
	PinLabel       string
	// ThreadURL leads to the message's thread, in the channel's list.
	ThreadURL, ThreadText string
}

// bodyView is a message's text, or its blocks when it has some.
type bodyView struct {
	Text   string
	Blocks []blockView
}

type blockView struct {
	Kind    string // header, section, code, context, divider, actions
	Text    string
	Spans   []spanView
	Fields  [][]spanView
	Buttons []buttonView
}

type spanView struct {
	Style string // bold, italic, code, link, mention, newline, or plain
	Text  string
	// URL is a link's address when it may be followed; a link without
	// one shows its text alone.
	URL string
	// Lines is plain text cut at its line breaks.
	Lines []string
}

type buttonView struct {
	Label, Class string
	// Link marks a button that opens URL (empty when it may not be
	// followed); the others press through a form with Hidden and Action.
	Link   bool
	URL    string
	Action string
	Hidden hiddenView
}

// formView is a form the bot opened.
type formView struct {
	ID, Title, Submit string
	Hidden, Dismiss   hiddenView
	Fields            []fieldView
}

type fieldView struct {
	Label, Name, Value, Hint, Problem string
	Optional, Multiline               bool
	Options                           []optionView
}

type optionView struct {
	Label, Value string
	Selected     bool
}

// execute writes a part of the chat; the templates are the chat's own,
// checked by its tests, so a failure is a bug that the page shows.
func (rd renderer) execute(name string, v any) template.HTML {
	var b bytes.Buffer
	if err := rd.pages.ExecuteTemplate(&b, name, v); err != nil {
		return template.HTML("<p class=\"err\">" + template.HTMLEscapeString(err.Error()) + "</p>") //nolint:gosec // escaped
	}
	return template.HTML(b.String()) //nolint:gosec // written by html/template
}

// posted renders a message of the channel, with its pin control and, in
// the channel's list, the way to its thread.
func (rd renderer) posted(p localchat.Posted, replies int, pinned, inList bool) template.HTML {
	v := msgView{Anchor: strings.ReplaceAll(p.Ref.TS, ".", "-"), Author: authorName(p.Author), At: p.At.UTC().Format("15:04:05"),
		Edited: p.Edits > 0, Body: rd.body(p.Message, "ts", p.Ref.TS), PinLabel: "📌 Pin", Pin: rd.hidden("ts", p.Ref.TS, "pin", "on")}
	if pinned {
		v.PinLabel, v.Pin = "Unpin", rd.hidden("ts", p.Ref.TS, "pin", "off")
	}
	if inList {
		v.ThreadText = "Reply in thread"
		if replies == 1 {
			v.ThreadText = "1 reply"
		} else if replies > 1 {
			v.ThreadText = strconv.Itoa(replies) + " replies"
		}
		v.ThreadURL = "/chat/c/" + url.PathEscape(rd.channel) + "?thread=" + url.QueryEscape(p.Ref.TS)
	}
	return rd.execute("chatmsg", v)
}

// ephemeral renders a reply only its user sees.
func (rd renderer) ephemeral(n int, e localchat.Ephemeral) template.HTML {
	return rd.execute("chatmsg", msgView{Mine: true, At: e.At.UTC().Format("15:04:05"), Body: rd.body(e.Message, "ephemeral", strconv.Itoa(n))})
}

func authorName(u bot.User) string {
	if u.Name != "" {
		return u.Name
	}
	return u.ID
}

// body makes the view of a message's blocks; its buttons name the
// message by key ("ts" or "ephemeral") and id.
func (rd renderer) body(m bot.Message, key, id string) bodyView {
	v := bodyView{Text: m.Text}
	for i, blk := range m.Blocks {
		switch blk := blk.(type) {
		case *bot.Header:
			v.Blocks = append(v.Blocks, blockView{Kind: "header", Text: blk.Text})
		case *bot.Section:
			bv := blockView{Kind: "section", Spans: spans(blk.Text)}
			for _, f := range blk.Fields {
				bv.Fields = append(bv.Fields, spans(f))
			}
			v.Blocks = append(v.Blocks, bv)
		case *bot.Code:
			v.Blocks = append(v.Blocks, blockView{Kind: "code", Text: blk.Text})
		case *bot.Context:
			v.Blocks = append(v.Blocks, blockView{Kind: "context", Spans: spans(blk.Text)})
		case *bot.Divider:
			v.Blocks = append(v.Blocks, blockView{Kind: "divider"})
		case *bot.Actions:
			bv := blockView{Kind: "actions"}
			for k, btn := range blk.Buttons {
				b := buttonView{Label: btn.Label, Class: "button"}
				if btn.Style == "primary" || btn.Style == "danger" {
					b.Class += " " + btn.Style
				}
				if btn.URL != "" {
					b.Link = true
					if safeURL(btn.URL) {
						b.URL = btn.URL
					}
				} else {
					b.Action, b.Hidden = btn.Action, rd.hidden(key, id, "block", strconv.Itoa(i), "button", strconv.Itoa(k))
				}
				bv.Buttons = append(bv.Buttons, b)
			}
			v.Blocks = append(v.Blocks, bv)
		}
	}
	return v
}

// spans makes the view of formatted text.
func spans(t bot.Text) []spanView {
	out := make([]spanView, 0, len(t))
	for _, s := range t {
		switch s.Style {
		case bot.Bold:
			out = append(out, spanView{Style: "bold", Text: s.Text})
		case bot.Italic:
			out = append(out, spanView{Style: "italic", Text: s.Text})
		case bot.Monospace:
			out = append(out, spanView{Style: "code", Text: s.Text})
		case bot.Link:
			v := spanView{Style: "link", Text: cmp.Or(s.Text, s.URL)}
			if safeURL(s.URL) {
				v.URL = s.URL
			}
			out = append(out, v)
		case bot.Mention:
			out = append(out, spanView{Style: "mention", Text: s.User})
		case bot.Newline:
			out = append(out, spanView{Style: "newline"})
		default:
			out = append(out, plainSpans(s.Text)...)
		}
	}
	return out
}

// plainSpans shows plain text as Slack shows it: text between two
// backticks on one line is inline code (a runbook step's `kubectl get
// pods`), the rest is text, line by line.
func plainSpans(text string) []spanView {
	var out []spanView
	plain := func(s string) {
		if s != "" {
			out = append(out, spanView{Lines: strings.Split(s, "\n")})
		}
	}
	for {
		open := strings.IndexByte(text, '`')
		if open < 0 {
			break
		}
		end := strings.IndexByte(text[open+1:], '`')
		if end <= 0 || strings.ContainsRune(text[open+1:open+1+end], '\n') {
			// No closing backtick on the line, or an empty pair: text.
			plain(text[:open+1])
			text = text[open+1:]
			continue
		}
		plain(text[:open])
		out = append(out, spanView{Style: "code", Text: text[open+1 : open+1+end]})
		text = text[open+1+end+1:]
	}
	plain(text)
	return out
}

// form renders a form the bot opened, with the values and problems of a
// refused submission.
func (rd renderer) form(f openForm, retry *formRetry) template.HTML {
	v := formView{ID: f.Form.ID, Title: f.Form.Title, Submit: cmp.Or(f.Form.Submit, "Submit"),
		Hidden: rd.hidden("trigger", f.Trigger), Dismiss: rd.hidden("trigger", f.Trigger)}
	for _, fld := range f.Form.Fields {
		fv := fieldView{Label: fld.Label, Name: "f_" + fld.ID, Value: fld.Initial, Hint: fld.Hint, Optional: fld.Optional, Multiline: fld.Multiline}
		if retry != nil {
			fv.Value, fv.Problem = retry.Values[fld.ID], retry.Problems[fld.ID]
		}
		for _, o := range fld.Options {
			fv.Options = append(fv.Options, optionView{Label: o.Label, Value: o.Value, Selected: o.Value == fv.Value})
		}
		v.Fields = append(v.Fields, fv)
	}
	return rd.execute("chatform", v)
}

// secure says whether the chat's cookies must be Secure: the request came
// over TLS, here or at a proxy in front.
func (c *chat) secure(r *http.Request) bool {
	return secureRequest(r, c.secureCookies)
}
