package slacktestx

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack/slacktest"
)

// BotUserID and BotID are the bot's IDs on the messages it posts.
const (
	BotUserID = "UBREADCRUMB"
	BotID     = "BBREADCRUMB"
)

// Call is one Web API call as the server received it.
type Call struct {
	Method string
	// Form holds the form fields, or the top-level string fields of a
	// JSON body.
	Form url.Values
	// JSON is the body when it was JSON.
	JSON json.RawMessage
	At   time.Time
}

// Message is a message as the server keeps it.
type Message struct {
	Channel  string
	TS       string
	ThreadTS string
	User     string
	BotID    string
	Text     string
	Blocks   json.RawMessage
	Metadata json.RawMessage
	// Updates counts the chat.update calls it received.
	Updates int
}

// Ephemeral is a message only one user sees.
type Ephemeral struct {
	Channel  string
	User     string
	ThreadTS string
	Text     string
	Blocks   json.RawMessage
}

// Channel is a conversation the server knows.
type Channel struct {
	ID       string
	Name     string
	Topic    string
	Archived bool
	Private  bool
	Members  []string
}

// File is an uploaded file and where it was shared.
type File struct {
	ID       string
	Name     string
	Title    string
	Content  []byte
	Channel  string
	ThreadTS string
	Shared   bool
}

// View is an opened modal.
type View struct {
	ID      string
	Trigger string
	View    json.RawMessage
}

// Fault is a failure the server plays for one call of a method.
type Fault struct {
	// Status is the HTTP status to answer (429, 500, 503…).
	Status int
	// RetryAfter is the Retry-After header of a 429, in seconds.
	RetryAfter int
	// SlackError answers 200 with {"ok":false,"error":SlackError}.
	SlackError string
	// Delay holds the answer back (past the client's timeout, say).
	Delay time.Duration
	// Applied makes the call take effect before the fault is played: a
	// post that is made although its caller sees a failure.
	Applied bool
}

// User is a workspace member for users.info.
type User struct {
	ID, Name, RealName, Email string
}

// Server is slack-go's slacktest server with the Web API methods the bot
// uses, keeping what it was sent, and able to fail on demand.
type Server struct {
	*slacktest.Server

	mu        sync.Mutex
	calls     []Call
	messages  []*Message
	ephemeral []Ephemeral
	channels  []*Channel
	users     map[string]User
	files     []*File
	views     []View
	reactions []url.Values
	faults    map[string][]Fault
	lastTS    time.Time

	ws      *websocket.Conn
	wsMu    sync.Mutex
	acks    chan json.RawMessage
	wsReady chan struct{}
	// invalid keeps what was refused for breaking Slack's block limits.
	invalid []string
}

// New starts a server; Close stops it.
func New() *Server {
	s := &Server{users: map[string]User{}, faults: map[string][]Fault{}, acks: make(chan json.RawMessage, 100), wsReady: make(chan struct{})}
	handlers := map[string]http.HandlerFunc{
		"chat.postMessage":             s.postMessage,
		"chat.update":                  s.update,
		"chat.postEphemeral":           s.postEphemeral,
		"chat.getPermalink":            s.permalink,
		"conversations.create":         s.create,
		"conversations.list":           s.list,
		"conversations.invite":         s.invite,
		"conversations.setTopic":       s.setTopic,
		"conversations.history":        s.history,
		"conversations.replies":        s.replies,
		"views.open":                   s.openView,
		"files.getUploadURLExternal":   s.uploadURL,
		"files.completeUploadExternal": s.completeUpload,
		"users.info":                   s.userInfo,
		"reactions.add":                s.reaction,
		"reactions.remove":             s.reaction,
		"apps.connections.open":        s.connectionsOpen,
	}
	s.Server = slacktest.NewTestServer(func(c slacktest.Customize) {
		for method, h := range handlers {
			c.Handle("/"+method, s.recorded(method, h))
		}
		c.Handle("/upload/", s.upload)
		c.Handle("/socket", s.socket)
	})
	s.Start()
	return s
}

// Close stops the server.
func (s *Server) Close() {
	s.wsMu.Lock()
	if s.ws != nil {
		_ = s.ws.Close()
	}
	s.wsMu.Unlock()
	s.Stop()
}

// APIURL is the address to give the client (SLACK_API_URL).
func (s *Server) APIURL() string { return s.GetAPIURL() }

// Fail queues faults for the next calls of method, one a call.
func (s *Server) Fail(method string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[method] = append(s.faults[method], faults...)
}

// Calls returns the calls of method (all calls when method is "").
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// Messages returns copies of the messages of channel, oldest first,
// replies included.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.messages {
		if m.Channel == channel {
			out = append(out, *m)
		}
	}
	return out
}

// Ephemerals returns the ephemeral messages sent so far.
func (s *Server) Ephemerals() []Ephemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Ephemeral(nil), s.ephemeral...)
}

// Channels returns copies of the channels.
func (s *Server) Channels() []Channel {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Channel
	for _, c := range s.channels {
		cc := *c
		cc.Members = append([]string(nil), c.Members...)
		out = append(out, cc)
	}
	return out
}

// Files returns copies of the uploaded files.
func (s *Server) Files() []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []File
	for _, f := range s.files {
		out = append(out, *f)
	}
	return out
}

// Views returns the modals opened.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]View(nil), s.views...)
}

// AddChannel adds a channel and returns its ID.
func (s *Server) AddChannel(name string, archived bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addChannel(name, archived).ID
}

func (s *Server) addChannel(name string, archived bool) *Channel {
	c := &Channel{ID: fmt.Sprintf("C%07d", len(s.channels)+1), Name: name, Archived: archived}
	s.channels = append(s.channels, c)
	return c
}

// AddUser makes a user known to users.info.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = u
}

// AddMessage puts a message written by user in channel (in a thread when
// threadTS is set) and returns its ts.
func (s *Server) AddMessage(channel, user, text, threadTS string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &Message{Channel: channel, TS: s.newTS(), ThreadTS: threadTS, User: user, Text: text}
	s.messages = append(s.messages, m)
	return m.TS
}

// newTS returns a ts after every earlier one, near the present.
func (s *Server) newTS() string {
	now := time.Now().Truncate(time.Microsecond)
	if !now.After(s.lastTS) {
		now = s.lastTS.Add(time.Microsecond)
	}
	s.lastTS = now
	return fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000)
}

// recorded keeps the call and plays a queued fault around h.
func (s *Server) recorded(method string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		call := Call{Method: method, Form: url.Values{}, At: time.Now()}
		body, _ := io.ReadAll(r.Body)
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/json" {
			call.JSON = body
			var top map[string]any
			if json.Unmarshal(body, &top) == nil {
				for k, v := range top {
					if sv, ok := v.(string); ok {
						call.Form.Set(k, sv)
					}
				}
			}
		} else {
			v, _ := url.ParseQuery(string(body))
			for k, vs := range r.URL.Query() {
				v[k] = append(v[k], vs...)
			}
			call.Form = v
		}
		s.mu.Lock()
		s.calls = append(s.calls, call)
		var f *Fault
		if q := s.faults[method]; len(q) > 0 {
			f = &q[0]
			s.faults[method] = q[1:]
		}
		s.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.Form = call.Form
		if f == nil {
			h(w, r)
			return
		}
		rec := httptest.NewRecorder()
		if f.Applied {
			h(rec, r)
		}
		if f.Delay > 0 {
			select {
			case <-time.After(f.Delay):
			case <-r.Context().Done():
				return
			}
		}
		switch {
		case f.Status == http.StatusTooManyRequests:
			w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
			w.WriteHeader(http.StatusTooManyRequests)
		case f.Status != 0:
			w.WriteHeader(f.Status)
			_, _ = io.WriteString(w, "<html>server error</html>")
		case f.SlackError != "":
			writeJSON(w, map[string]any{"ok": false, "error": f.SlackError})
		case f.Applied:
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
		default:
			h(w, r)
		}
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// refuseBlocks answers invalid_blocks, as Slack does, when errs says
// the blocks break its limits, and keeps what was wrong for Invalid. The
// caller holds s.mu.
func (s *Server) refuseBlocks(w http.ResponseWriter, method string, errs []string) bool {
	if len(errs) == 0 {
		return false
	}
	for _, e := range errs {
		s.invalid = append(s.invalid, method+": "+e)
	}
	writeJSON(w, map[string]any{"ok": false, "error": "invalid_blocks", "errors": errs})
	return true
}

// Invalid lists what the server refused for breaking Slack's block
// limits, by method: a test that posts through it can say none was.
func (s *Server) Invalid() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.invalid...)
}

func fail(w http.ResponseWriter, code string) {
	writeJSON(w, map[string]any{"ok": false, "error": code})
}

func (s *Server) channelByID(id string) *Channel {
	for _, c := range s.channels {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// channelOf resolves a channel ID or name; an unknown ID that looks like
// one is made, as Slack would know it.
func (s *Server) channelOf(ref string) *Channel {
	if c := s.channelByID(ref); c != nil {
		return c
	}
	name := strings.TrimPrefix(ref, "#")
	for _, c := range s.channels {
		if c.Name == name {
			return c
		}
	}
	if strings.HasPrefix(ref, "C") || strings.HasPrefix(ref, "G") || strings.HasPrefix(ref, "D") {
		c := &Channel{ID: ref, Name: strings.ToLower(ref)}
		s.channels = append(s.channels, c)
		return c
	}
	return nil
}

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.Form.Get("channel")
	c := s.channelOf(id)
	if c == nil && (strings.HasPrefix(id, "U") || strings.HasPrefix(id, "W")) {
		// As Slack does, a user's ID as the channel posts in the direct
		// message between the app and that user.
		c = &Channel{ID: id, Name: id}
		s.channels = append(s.channels, c)
	}
	if c == nil {
		fail(w, "channel_not_found")
		return
	}
	if c.Archived {
		fail(w, "is_archived")
		return
	}
	if s.refuseBlocks(w, "chat.postMessage", checkBlocks(rawOrNil(r.Form.Get("blocks")), limitMessageBlocks)) {
		return
	}
	m := &Message{
		Channel: c.ID, TS: s.newTS(), ThreadTS: r.Form.Get("thread_ts"), User: BotUserID, BotID: BotID,
		Text: r.Form.Get("text"), Blocks: rawOrNil(r.Form.Get("blocks")), Metadata: rawOrNil(r.Form.Get("metadata")),
	}
	s.messages = append(s.messages, m)
	writeJSON(w, map[string]any{"ok": true, "channel": c.ID, "ts": m.TS, "message": messageJSON(m, true)})
}

func rawOrNil(s string) json.RawMessage {
	if s == "" || !json.Valid([]byte(s)) {
		return nil
	}
	return json.RawMessage(s)
}

func messageJSON(m *Message, metadata bool) map[string]any {
	out := map[string]any{"type": "message", "ts": m.TS, "text": m.Text}
	if m.User != "" {
		out["user"] = m.User
	}
	if m.BotID != "" {
		out["bot_id"] = m.BotID
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	if m.Blocks != nil {
		out["blocks"] = m.Blocks
	}
	if metadata && m.Metadata != nil {
		out["metadata"] = m.Metadata
	}
	return out
}

func (s *Server) find(channel, ts string) *Message {
	for _, m := range s.messages {
		if m.Channel == channel && m.TS == ts {
			return m
		}
	}
	return nil
}

func (s *Server) update(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.find(r.Form.Get("channel"), r.Form.Get("ts"))
	if m == nil {
		fail(w, "message_not_found")
		return
	}
	if s.refuseBlocks(w, "chat.update", checkBlocks(rawOrNil(r.Form.Get("blocks")), limitMessageBlocks)) {
		return
	}
	m.Text = r.Form.Get("text")
	if b := rawOrNil(r.Form.Get("blocks")); b != nil {
		m.Blocks = b
	}
	m.Updates++
	writeJSON(w, map[string]any{"ok": true, "channel": m.Channel, "ts": m.TS, "text": m.Text})
}

func (s *Server) postEphemeral(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuseBlocks(w, "chat.postEphemeral", checkBlocks(rawOrNil(r.Form.Get("blocks")), limitMessageBlocks)) {
		return
	}
	e := Ephemeral{Channel: r.Form.Get("channel"), User: r.Form.Get("user"), ThreadTS: r.Form.Get("thread_ts"), Text: r.Form.Get("text"), Blocks: rawOrNil(r.Form.Get("blocks"))}
	s.ephemeral = append(s.ephemeral, e)
	writeJSON(w, map[string]any{"ok": true, "message_ts": s.newTS()})
}

func (s *Server) permalink(w http.ResponseWriter, r *http.Request) {
	ch, ts := r.Form.Get("channel"), r.Form.Get("message_ts")
	s.mu.Lock()
	m := s.find(ch, ts)
	s.mu.Unlock()
	if m == nil {
		fail(w, "message_not_found")
		return
	}
	writeJSON(w, map[string]any{"ok": true, "channel": ch, "permalink": "https://breadcrumb-test.slack.com/archives/" + ch + "/p" + strings.ReplaceAll(ts, ".", "")})
}

func channelJSON(c *Channel) map[string]any {
	return map[string]any{
		"id": c.ID, "name": c.Name, "is_channel": !c.Private, "is_private": c.Private, "is_archived": c.Archived,
		"is_member": true, "topic": map[string]any{"value": c.Topic},
	}
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := r.Form.Get("name")
	for _, c := range s.channels {
		if c.Name == name {
			fail(w, "name_taken")
			return
		}
	}
	c := s.addChannel(name, false)
	c.Private = r.Form.Get("is_private") == "true"
	writeJSON(w, map[string]any{"ok": true, "channel": channelJSON(c)})
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, c := range s.channels {
		if c.Archived && r.Form.Get("exclude_archived") == "true" {
			continue
		}
		out = append(out, channelJSON(c))
	}
	writeJSON(w, map[string]any{"ok": true, "channels": out, "response_metadata": map[string]any{"next_cursor": ""}})
}

func (s *Server) invite(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channelByID(r.Form.Get("channel"))
	if c == nil {
		fail(w, "channel_not_found")
		return
	}
	for _, u := range strings.Split(r.Form.Get("users"), ",") {
		for _, m := range c.Members {
			if m == u {
				fail(w, "already_in_channel")
				return
			}
		}
		c.Members = append(c.Members, u)
	}
	writeJSON(w, map[string]any{"ok": true, "channel": channelJSON(c)})
}

func (s *Server) setTopic(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channelByID(r.Form.Get("channel"))
	if c == nil {
		fail(w, "channel_not_found")
		return
	}
	c.Topic = r.Form.Get("topic")
	writeJSON(w, map[string]any{"ok": true, "channel": channelJSON(c)})
}

// tsBetween reports whether ts is within the request's oldest and latest.
func tsBetween(ts string, r *http.Request) bool {
	inclusive := r.Form.Get("inclusive") == "1" || r.Form.Get("inclusive") == "true"
	f, _ := strconv.ParseFloat(ts, 64)
	if o := r.Form.Get("oldest"); o != "" {
		of, _ := strconv.ParseFloat(o, 64)
		if f < of || (!inclusive && ts == o) {
			return false
		}
	}
	if l := r.Form.Get("latest"); l != "" {
		lf, _ := strconv.ParseFloat(l, 64)
		if f > lf || (!inclusive && ts == l) {
			return false
		}
	}
	return true
}

func limitOf(r *http.Request) int {
	n, err := strconv.Atoi(r.Form.Get("limit"))
	if err != nil || n <= 0 {
		return 100
	}
	return n
}

func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := r.Form.Get("channel")
	meta := r.Form.Get("include_all_metadata") == "1" || r.Form.Get("include_all_metadata") == "true"
	var out []map[string]any
	// Newest first, top-level messages and thread parents only.
	for i := len(s.messages) - 1; i >= 0 && len(out) < limitOf(r); i-- {
		m := s.messages[i]
		if m.Channel != ch || (m.ThreadTS != "" && m.ThreadTS != m.TS) || !tsBetween(m.TS, r) {
			continue
		}
		out = append(out, messageJSON(m, meta))
	}
	writeJSON(w, map[string]any{"ok": true, "messages": out, "has_more": false})
}

func (s *Server) replies(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ts := r.Form.Get("channel"), r.Form.Get("ts")
	meta := r.Form.Get("include_all_metadata") == "1" || r.Form.Get("include_all_metadata") == "true"
	m := s.find(ch, ts)
	if m == nil {
		fail(w, "thread_not_found")
		return
	}
	root := m.TS
	if m.ThreadTS != "" {
		root = m.ThreadTS
	}
	var thread []*Message
	for _, x := range s.messages {
		if x.Channel == ch && (x.TS == root || x.ThreadTS == root) {
			thread = append(thread, x)
		}
	}
	sort.Slice(thread, func(i, j int) bool { return thread[i].TS < thread[j].TS })
	var out []map[string]any
	for _, x := range thread {
		if len(out) >= limitOf(r) {
			break
		}
		// Slack gives the thread's parent first whatever the bounds.
		if x.TS == root || tsBetween(x.TS, r) {
			out = append(out, messageJSON(x, meta))
		}
	}
	writeJSON(w, map[string]any{"ok": true, "messages": out, "has_more": false})
}

func (s *Server) openView(w http.ResponseWriter, r *http.Request) {
	var req struct {
		TriggerID string          `json:"trigger_id"`
		View      json.RawMessage `json:"view"`
	}
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &req); err != nil || req.TriggerID == "" {
		fail(w, "invalid_arguments")
		return
	}
	s.mu.Lock()
	if s.refuseBlocks(w, "views.open", checkView(req.View)) {
		s.mu.Unlock()
		return
	}
	v := View{ID: fmt.Sprintf("V%07d", len(s.views)+1), Trigger: req.TriggerID, View: req.View}
	s.views = append(s.views, v)
	s.mu.Unlock()
	writeJSON(w, map[string]any{"ok": true, "view": map[string]any{"id": v.ID}})
}

func (s *Server) uploadURL(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	f := &File{ID: fmt.Sprintf("F%07d", len(s.files)+1), Name: r.Form.Get("filename")}
	s.files = append(s.files, f)
	s.mu.Unlock()
	writeJSON(w, map[string]any{"ok": true, "file_id": f.ID, "upload_url": s.APIURL() + "upload/" + f.ID})
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/upload/")
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		http.Error(w, "not multipart", http.StatusBadRequest)
		return
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	var content []byte
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		if p.FormName() == "file" {
			content, _ = io.ReadAll(p)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.files {
		if f.ID == id {
			f.Content = content
			_, _ = io.WriteString(w, "OK - "+strconv.Itoa(len(content)))
			return
		}
	}
	http.NotFound(w, r)
}

func (s *Server) completeUpload(w http.ResponseWriter, r *http.Request) {
	var sums []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	if err := json.Unmarshal([]byte(r.Form.Get("files")), &sums); err != nil {
		fail(w, "invalid_arguments")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, sum := range sums {
		for _, f := range s.files {
			if f.ID == sum.ID {
				f.Title = sum.Title
				f.Channel = r.Form.Get("channel_id")
				f.ThreadTS = r.Form.Get("thread_ts")
				f.Shared = true
				out = append(out, map[string]any{"id": f.ID, "title": f.Title})
			}
		}
	}
	if len(out) == 0 {
		fail(w, "file_not_found")
		return
	}
	writeJSON(w, map[string]any{"ok": true, "files": out})
}

func (s *Server) userInfo(w http.ResponseWriter, r *http.Request) {
	id := r.Form.Get("user")
	s.mu.Lock()
	u, ok := s.users[id]
	s.mu.Unlock()
	if !ok {
		u = User{ID: id, Name: strings.ToLower(id)}
	}
	writeJSON(w, map[string]any{"ok": true, "user": map[string]any{
		"id": u.ID, "name": u.Name, "real_name": u.RealName,
		"profile": map[string]any{"display_name": u.Name, "real_name": u.RealName, "email": u.Email},
	}})
}

func (s *Server) reaction(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.reactions = append(s.reactions, r.Form)
	s.mu.Unlock()
	writeJSON(w, map[string]any{"ok": true})
}

// connectionsOpen gives Socket Mode the server's own WebSocket.
func (s *Server) connectionsOpen(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, map[string]any{"ok": true, "url": "ws://" + s.ServerAddr + "/socket"})
}

// upgrader accepts the Origin slack-go sends (https://api.slack.com).
var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// socket is a Socket Mode connection: it says hello, then carries the
// envelopes SendEnvelope is given and collects the acknowledgements.
func (s *Server) socket(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	s.wsMu.Lock()
	if s.ws != nil {
		_ = s.ws.Close()
	}
	s.ws = conn
	err = conn.WriteJSON(map[string]any{"type": "hello", "num_connections": 1, "connection_info": map[string]any{"app_id": "A0BREADCRUMB"}})
	first := s.wsReady != nil
	if first && err == nil {
		close(s.wsReady)
		s.wsReady = nil
	}
	s.wsMu.Unlock()
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		select {
		case s.acks <- json.RawMessage(data):
		default:
		}
	}
}

// WaitSocket waits until a Socket Mode client is connected.
func (s *Server) WaitSocket(timeout time.Duration) error {
	s.wsMu.Lock()
	ready := s.wsReady
	s.wsMu.Unlock()
	if ready == nil {
		return nil
	}
	select {
	case <-ready:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("slacktestx: no socket mode client within %s", timeout)
	}
}

// SendEnvelope sends a Socket Mode envelope to the connected client.
func (s *Server) SendEnvelope(envelope any) error {
	s.wsMu.Lock()
	defer s.wsMu.Unlock()
	if s.ws == nil {
		return fmt.Errorf("slacktestx: no socket mode client")
	}
	return s.ws.WriteJSON(envelope)
}

// Acks carries what the Socket Mode client sent back (its
// acknowledgements).
func (s *Server) Acks() <-chan json.RawMessage { return s.acks }
