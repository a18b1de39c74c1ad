package console_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
	"github.com/breadcrumb-oncall/breadcrumb/bot/localchat"
	"github.com/breadcrumb-oncall/breadcrumb/examples"
	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
	"github.com/breadcrumb-oncall/breadcrumb/internal/console"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
	"github.com/breadcrumb-oncall/breadcrumb/search"
)

// wait bounds every wait on the bot's background work: generous, so that
// a loaded machine is slow rather than failing.
const wait = 20 * time.Second

const payments5xx = "examples:payments/PaymentsAPIHigh5xxRate.md"

// The example runbooks and their index are built once: nothing changes
// them.
var (
	examplesOnce sync.Once
	exampleLib   *runbooks.Library
	exampleIx    *search.Index
	examplesErr  error
	exampleDir   string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if exampleIx != nil {
		_ = exampleIx.Close()
	}
	if exampleDir != "" {
		_ = os.RemoveAll(exampleDir)
	}
	os.Exit(code)
}

func examplesIndexed(t testing.TB) (*runbooks.Library, *search.Index) {
	t.Helper()
	examplesOnce.Do(func() {
		exampleLib = runbooks.NewLibrary(runbooks.LibraryOptions{})
		if examplesErr = exampleLib.Add(runbooks.NewFSSource("examples", examples.Runbooks()), runbooks.SourceConfig{}); examplesErr != nil {
			return
		}
		if _, examplesErr = exampleLib.Refresh(context.Background()); examplesErr != nil {
			return
		}
		// The index outlives any one test's TempDir: TestMain removes it.
		if exampleDir, examplesErr = os.MkdirTemp("", "console-search-"); examplesErr != nil {
			return
		}
		if exampleIx, examplesErr = search.Open(search.Config{Dir: exampleDir}); examplesErr != nil {
			return
		}
		_, examplesErr = exampleIx.Update(exampleLib.Pages(), nil)
	})
	if examplesErr != nil {
		t.Fatal(examplesErr)
	}
	return exampleLib, exampleIx
}

// chatWorld is the console with its local chat over a real bot, a real
// incident service on bbolt and the example runbooks, and a browser-like
// client signed in with the write token.
type chatWorld struct {
	t      testing.TB
	srv    *httptest.Server
	svc    *incidents.Service
	lc     *localchat.Chat
	client *http.Client
	// stop stops the chat's polls, as a shutdown does.
	stop context.CancelFunc
}

const chatToken = "chat-s3cret"

func newChatWorld(t testing.TB) *chatWorld {
	t.Helper()
	lib, ix := examplesIndexed(t)
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "incidents.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc := incidents.NewService(st, incidents.Options{})
	lc := localchat.New(localchat.Options{PermalinkBase: "http://console.example/chat"})
	b, err := bot.New(bot.Config{Source: "web"}, bot.Deps{Incidents: svc, Search: bot.SearchIndex(ix), Runbooks: lib, Chat: lc,
		PageURL: func(id, anchor string) string { return "/runbooks/" + id }})
	if err != nil {
		t.Fatal(err)
	}
	svc.Subscribe(b)
	t.Cleanup(func() {
		_ = b.Close()
		_ = st.Close()
	})
	stop, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c, err := console.New(console.Config{Incidents: svc, Library: lib, Search: ix, Token: secret.New(chatToken),
		Chat: console.NewChat(console.ChatConfig{Bot: b, Chat: lc, Stop: stop})})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	c.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	w := &chatWorld{t: t, srv: srv, svc: svc, lc: lc, client: &http.Client{Jar: jar, Timeout: 2 * wait}, stop: cancel}
	resp, err := w.client.PostForm(srv.URL+"/signin", url.Values{"token": {chatToken}, "next": {"/chat"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/chat/c/C0001" {
		t.Fatalf("signing in and opening the chat ended at %d %s, want 200 at the general channel", resp.StatusCode, resp.Request.URL)
	}
	return w
}

// page is a chat page as the client last saw it.
type page struct {
	path string
	body string
}

func (w *chatWorld) get(path string) page {
	w.t.Helper()
	resp, err := w.client.Get(w.srv.URL + path)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		w.t.Fatalf("GET %s: got %d, want 200; body:\n%s", path, resp.StatusCode, b)
	}
	return page{path: resp.Request.URL.RequestURI(), body: string(b)}
}

// post sends a form as the page's own forms do: from this site, with the
// form token.
func (w *chatWorld) post(path string, vals url.Values) (int, page) {
	w.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, w.srv.URL+path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", w.srv.URL)
	resp, err := w.client.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, page{path: resp.Request.URL.RequestURI(), body: string(b)}
}

var (
	hiddenRE = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)
	formRE   = regexp.MustCompile(`(?s)<form method="post" action="(/chat/[a-z]+)"[^>]*>(.*?)</form>`)
)

// hiddenFields reads the hidden inputs of a piece of a page.
func hiddenFields(s string) url.Values {
	v := url.Values{}
	for _, m := range hiddenRE.FindAllStringSubmatch(s, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// say types text in the page's input.
func (w *chatWorld) say(p page, text string) page {
	w.t.Helper()
	for _, m := range formRE.FindAllStringSubmatch(p.body, -1) {
		if m[1] == "/chat/say" {
			v := hiddenFields(m[2])
			v.Set("text", text)
			code, next := w.post("/chat/say", v)
			if code != http.StatusOK {
				w.t.Fatalf("typing %q: got %d, want 200; body:\n%s", text, code, next.body)
			}
			return next
		}
	}
	w.t.Fatalf("the page %s has no input; body:\n%s", p.path, p.body)
	return page{}
}

// press presses the last button on the page whose action starts with
// action (the newest message's), and returns the page it leads to.
func (w *chatWorld) press(p page, action string) (int, page) {
	w.t.Helper()
	var found url.Values
	for _, m := range formRE.FindAllStringSubmatch(p.body, -1) {
		if m[1] == "/chat/click" && strings.Contains(m[2], `data-bot-action="`+action) {
			found = hiddenFields(m[2])
		}
	}
	if found == nil {
		w.t.Fatalf("the page %s has no %s button; body:\n%s", p.path, action, p.body)
	}
	return w.post("/chat/click", found)
}

// until reloads path until the page holds want, and returns it.
func (w *chatWorld) until(path, want string) page {
	w.t.Helper()
	stop := time.Now().Add(wait)
	var p page
	for time.Now().Before(stop) {
		p = w.get(path)
		if strings.Contains(p.body, want) {
			return p
		}
		time.Sleep(20 * time.Millisecond)
	}
	w.t.Fatalf("%s did not show %q within %v; body:\n%s", path, want, wait, p.body)
	return p
}

// home waits for the incident's home channel and returns its path.
func (w *chatWorld) home(id string) string {
	w.t.Helper()
	stop := time.Now().Add(wait)
	for time.Now().Before(stop) {
		inc, err := w.svc.Get(context.Background(), id)
		if err != nil {
			w.t.Fatal(err)
		}
		if inc.Home.Channel != "" && inc.Home.Header != "" {
			return "/chat/c/" + inc.Home.Channel
		}
		time.Sleep(20 * time.Millisecond)
	}
	w.t.Fatalf("%s got no home within %v", id, wait)
	return ""
}

// declare declares an incident through the chat and returns it.
func (w *chatWorld) declare(text string) (*incidents.Incident, string) {
	w.t.Helper()
	general := w.get("/chat")
	p := w.say(general, "/incident declare "+text)
	m := regexp.MustCompile(`Declared (INC-[A-Z0-9-]+)`).FindStringSubmatch(p.body)
	if m == nil {
		w.t.Fatalf("declaring %q: the answer says no ID; body:\n%s", text, p.body)
	}
	path := w.home(m[1])
	inc, err := w.svc.Get(context.Background(), m[1])
	if err != nil {
		w.t.Fatal(err)
	}
	return inc, path
}

// events returns the types and texts of an incident's timeline.
func (w *chatWorld) events(id string) []incidents.Event {
	w.t.Helper()
	evs, err := w.svc.Timeline(context.Background(), id, 0, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	return evs
}

func (w *chatWorld) eventually(what string, ok func() bool) {
	w.t.Helper()
	stop := time.Now().Add(wait)
	for time.Now().Before(stop) {
		if ok() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	w.t.Fatalf("%s did not happen within %v", what, wait)
}

func TestRunbookCommandShowsItsResultsWithButtons(t *testing.T) {
	w := newChatWorld(t)
	p := w.say(w.get("/chat"), "/runbook disk full")
	for _, want := range []string{"<code>/runbook disk full</code>", "only you see this", `data-bot-action="runbook_guided`, "Start guided", ">Open</a>"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the answer to /runbook lacks %q; body:\n%s", want, p.body)
		}
	}
	// Another user does not see the answer.
	v := hiddenFields(formRE.FindAllStringSubmatch(p.body, -1)[0][2])
	v.Set("name", "bob")
	if code, p := w.post("/chat/name", v); code != http.StatusOK || strings.Contains(p.body, "only you see this") {
		t.Errorf("as bob: got %d and the page holds the answer to console's command: %v", code, strings.Contains(p.body, "only you see this"))
	}
}

func TestDeclaringOpensAHomeChannelWithItsHeader(t *testing.T) {
	w := newChatWorld(t)
	inc, path := w.declare("Payments API fails sev2 runbook:" + payments5xx)
	p := w.until(path, inc.ID)
	for _, want := range []string{inc.Title, `data-bot-action="guided_start"`, `data-bot-action="incident_ack"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the home lacks %q; body:\n%s", want, p.body)
		}
	}
	info, _ := w.lc.Channel(strings.TrimPrefix(path, "/chat/c/"))
	if !strings.Contains(w.get("/chat").body, ">#"+info.Name+"</a>") {
		t.Errorf("the channel list lacks #%s", info.Name)
	}
}

func TestGuidedStepsAreDoneFromTheChat(t *testing.T) {
	w := newChatWorld(t)
	inc, path := w.declare("Payments API fails runbook:" + payments5xx)
	p := w.until(path, `data-bot-action="guided_start"`)
	if code, _ := w.press(p, "guided_start"); code != http.StatusOK {
		t.Fatalf("Start guided: got %d, want 200", code)
	}
	p = w.until(path, fmt.Sprintf("Step 1 of %d:", len(inc.Steps)))
	if code, _ := w.press(p, "step_done"); code != http.StatusOK {
		t.Fatalf("Done: got %d, want 200", code)
	}
	p = w.until(path, "(done by console)")
	if !strings.Contains(p.body, fmt.Sprintf("Step 2 of %d:", len(inc.Steps))) {
		t.Errorf("after Done the card does not show step 2; body:\n%s", p.body)
	}
	got, _ := w.svc.Get(context.Background(), inc.ID)
	if got.Steps[0].State != incidents.StepDone || got.Steps[0].Actor != "console" {
		t.Errorf("step 1: got %s by %q, want done by console", got.Steps[0].State, got.Steps[0].Actor)
	}
}

func TestANoteFormGoesOnTheTimeline(t *testing.T) {
	w := newChatWorld(t)
	inc, path := w.declare("Payments API fails runbook:" + payments5xx)
	p := w.until(path, `data-bot-action="guided_start"`)
	w.press(p, "guided_start")
	p = w.until(path, `data-bot-action="step_note`)
	_, p = w.press(p, "step_note")
	form := regexp.MustCompile(`(?s)<div class="card form" data-form="note">.*?</div>`).FindString(p.body)
	if form == "" {
		t.Fatalf("Add note showed no form; body:\n%s", p.body)
	}
	v := hiddenFields(formRE.FindStringSubmatch(form)[2])
	code, p := w.post("/chat/submit", v)
	if code != http.StatusUnprocessableEntity || !strings.Contains(p.body, "Write the note.") {
		t.Fatalf("an empty note: got %d, want 422 with the field's message; body:\n%s", code, p.body)
	}
	v.Set("f_note", "restarted the pods <b>twice</b>")
	if code, p = w.post("/chat/submit", v); code != http.StatusOK || strings.Contains(p.body, `data-form="note"`) {
		t.Fatalf("a note: got %d and the form still shown %v, want 200 and the form gone", code, strings.Contains(p.body, `data-form="note"`))
	}
	var note string
	for _, e := range w.events(inc.ID) {
		if e.Type == incidents.EventNote {
			note = e.Text
		}
	}
	if note != "Step 1: restarted the pods <b>twice</b>" {
		t.Errorf("got note %q, want step 1's note as typed", note)
	}
	// The form is gone once taken: a second submission changes nothing.
	w.post("/chat/submit", v)
	n := 0
	for _, e := range w.events(inc.ID) {
		if e.Type == incidents.EventNote {
			n++
		}
	}
	if n != 1 {
		t.Errorf("got %d notes after submitting twice, want 1", n)
	}
}

func TestAPinnedMessageGoesOnTheTimelineAndComesOff(t *testing.T) {
	w := newChatWorld(t)
	inc, path := w.declare("Checkout is slow")
	p := w.say(w.until(path, inc.ID), "rolled back to v41")
	msg := regexp.MustCompile(`(?s)<div class="msg" id="m[0-9-]+"><div class="meta"><b>console</b>.*?rolled back to v41.*?<form method="post" action="/chat/pin" class="inline">(.*?)</form>`).FindStringSubmatch(p.body)
	if msg == nil {
		t.Fatalf("the message has no pin control; body:\n%s", p.body)
	}
	if code, _ := w.post("/chat/pin", hiddenFields(msg[1])); code != http.StatusOK {
		t.Fatalf("pin: got %d, want 200", code)
	}
	has := func(typ incidents.EventType) func() bool {
		return func() bool {
			for _, e := range w.events(inc.ID) {
				if e.Type == typ {
					return true
				}
			}
			return false
		}
	}
	w.eventually("the pin", has(incidents.EventMessagePinned))
	for _, e := range w.events(inc.ID) {
		if e.Type == incidents.EventMessagePinned && (!strings.Contains(e.Text, "rolled back to v41") || e.Actor != "console") {
			t.Errorf("pinned: got %q by %q, want the message by console", e.Text, e.Actor)
		}
	}
	p = w.get(path)
	if !strings.Contains(p.body, ">Unpin</button>") {
		t.Errorf("a pinned message offers no Unpin; body:\n%s", p.body)
	}
	unpin := hiddenFields(msg[1])
	unpin.Set("pin", "off")
	w.post("/chat/pin", unpin)
	w.eventually("the unpin", has(incidents.EventMessageUnpinned))
}

func TestTheExportIsADownload(t *testing.T) {
	w := newChatWorld(t)
	inc, path := w.declare("Payments API fails runbook:" + payments5xx)
	p := w.say(w.until(path, inc.ID), "/incident resolve rolled back")
	if !strings.Contains(p.body, "Resolved "+inc.ID) {
		t.Errorf("/incident resolve: the answer lacks %q; body:\n%s", "Resolved "+inc.ID, p.body)
	}
	w.say(p, "/incident export")
	p = w.until(path, inc.ID+"-report.md</a>")
	link := regexp.MustCompile(`<a href="(/chat/files/[0-9]+)" download>`).FindStringSubmatch(p.body)
	if link == nil {
		t.Fatalf("no download link; body:\n%s", p.body)
	}
	resp, err := w.client.Get(w.srv.URL + link[1])
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if got := resp.Header.Get("Content-Type"); got != "text/markdown; charset=utf-8" {
		t.Errorf("Content-Type: got %q, want text/markdown", got)
	}
	if got, want := resp.Header.Get("Content-Disposition"), `attachment; filename=`+inc.ID+`-report.md`; got != want {
		t.Errorf("Content-Disposition: got %q, want %q", got, want)
	}
	for _, want := range []string{inc.ID, "Payments API", "rolled back"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the report lacks %q:\n%s", want, body)
		}
	}
	if code := w.getStatus("/chat/files/99"); code != http.StatusNotFound {
		t.Errorf("an unknown file: got %d, want 404", code)
	}
}

func (w *chatWorld) getStatus(path string) int {
	w.t.Helper()
	resp, err := w.client.Get(w.srv.URL + path)
	if err != nil {
		w.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestHostileTextIsShownAsText(t *testing.T) {
	w := newChatWorld(t)
	ctx := context.Background()
	inc, _, err := w.svc.Declare(ctx, incidents.Declaration{Title: `<script>alert(1)</script> & "quotes"`, Service: "payments",
		Links: []incidents.Link{{Name: "evil", Kind: "logs", URL: "javascript:alert(2)"}}}, incidents.Action{Actor: "U1", Source: "web"})
	if err != nil {
		t.Fatal(err)
	}
	path := w.home(inc.ID)
	p := w.until(path, inc.ID)
	p = w.say(p, `<img src=x onerror=alert(3)> see https://evil.example/x and <https://evil.example|click>`)
	w.say(p, "/incident note <iframe src=//evil.example></iframe>")
	p = w.until(path, "&lt;iframe")
	for _, bad := range []string{"<script>alert(1)", "<img src=x", "<iframe", `href="https://evil.example`, `href="javascript:`, `"quotes"`} {
		if strings.Contains(p.body, bad) {
			t.Errorf("the page holds %q unescaped", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quotes&#34;", "&lt;img src=x onerror=alert(3)&gt;", "evil"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the page lacks %q, the text as typed", want)
		}
	}
}

func TestAFormFromAnotherSiteIsRefused(t *testing.T) {
	w := newChatWorld(t)
	p := w.get("/chat")
	v := hiddenFields(formRE.FindAllStringSubmatch(p.body, -1)[0][2])
	v.Set("text", "/incident declare forged")
	tests := []struct {
		name   string
		origin string
		token  string
		want   int
	}{
		{"a post from another origin", "https://evil.example", v.Get("csrf"), http.StatusForbidden},
		{"a post without the form token", w.srv.URL, "", http.StatusForbidden},
		{"a post with a wrong form token", w.srv.URL, strings.Repeat("0", 32), http.StatusForbidden},
		{"a post from this page", w.srv.URL, v.Get("csrf"), http.StatusOK},
	}
	for _, tt := range tests {
		vals := url.Values{}
		for k := range v {
			vals.Set(k, v.Get(k))
		}
		vals.Set("csrf", tt.token)
		vals.Set("text", "hello from "+tt.name)
		req, _ := http.NewRequest(http.MethodPost, w.srv.URL+"/chat/say", strings.NewReader(vals.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", tt.origin)
		resp, err := w.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: got %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
	}
	said := 0
	for _, m := range w.lc.Conversation("general") {
		if strings.HasPrefix(localchat.Text(m.Message), "hello from") {
			said++
		}
	}
	if said != 1 {
		t.Errorf("got %d messages posted, want only the one from this page", said)
	}
}

func TestThePollAnswersOnAChange(t *testing.T) {
	w := newChatWorld(t)
	v := w.lc.Version()
	done := make(chan string, 1)
	go func() {
		resp, err := w.client.Get(fmt.Sprintf("%s/chat/poll?v=%d", w.srv.URL, v))
		if err != nil {
			done <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- string(b)
	}()
	if _, err := w.lc.Say(bot.Place{Channel: "general"}, bot.User{ID: "alice"}, "anyone there?"); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-done:
		if !strings.Contains(got, `"version":`) || strings.Contains(got, fmt.Sprintf(`"version":%d}`, v)) {
			t.Errorf("the poll answered %q, want a version past %d", got, v)
		}
	case <-time.After(wait):
		t.Fatalf("the poll did not answer within %v of a change", wait)
	}
	live := w.get("/chat/c/C0001?part=live").body
	if !strings.Contains(live, "anyone there?") || strings.Contains(live, "<html") {
		t.Errorf("the live part: got\n%s\nwant the new message without the page around it", live)
	}
}

func TestRepliesInAThreadShowInItsThread(t *testing.T) {
	w := newChatWorld(t)
	p := w.say(w.get("/chat"), "who owns the payments dashboard?")
	m := regexp.MustCompile(`<a href="(/chat/c/C0001\?thread=[0-9.]+)">Reply in thread</a>`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("the message has no way to its thread; body:\n%s", p.body)
	}
	thread := w.get(html.UnescapeString(m[1]))
	p = w.say(thread, "the platform team")
	if !strings.Contains(p.body, `<div class="thread">`) || !strings.Contains(p.body, "the platform team") {
		t.Errorf("the thread does not show its reply; body:\n%s", p.body)
	}
	main := w.get("/chat/c/C0001")
	if !strings.Contains(main.body, ">1 reply</a>") {
		t.Errorf("the channel does not count the reply; body:\n%s", main.body)
	}
	if talk := main.body[:strings.Index(main.body, `id="say"`)]; strings.Contains(talk, "the platform team") {
		t.Errorf("the reply shows in the channel, want it only in its thread")
	}
}

// BenchmarkABusyChannelPage renders a channel of 300 messages, the
// bot's and its users', as the page and its script fetch it.
func BenchmarkABusyChannelPage(b *testing.B) {
	w := newChatWorld(b)
	inc, path := w.declare("Payments API fails runbook:" + payments5xx)
	w.until(path, inc.ID)
	ch := strings.TrimPrefix(path, "/chat/c/")
	for i := 0; i < 300; i++ {
		if _, err := w.lc.Say(bot.Place{Channel: ch}, bot.User{ID: "alice"}, fmt.Sprintf("message %d with <markup> & a link https://x.example/%d", i, i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		resp, err := w.client.Get(w.srv.URL + path + "?part=live")
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

func TestAPollEndsWhenTheServerStops(t *testing.T) {
	w := newChatWorld(t)
	v := w.lc.Version()
	done := make(chan int, 1)
	go func() {
		resp, err := w.client.Get(fmt.Sprintf("%s/chat/poll?v=%d", w.srv.URL, v))
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	w.stop()
	select {
	case code := <-done:
		if code != http.StatusOK {
			t.Errorf("the poll answered %d, want 200", code)
		}
	case <-time.After(wait): // shorter than a poll's own wait
		t.Fatalf("a poll went on for %v after the stop", wait)
	}
}

// FuzzSay types anything, followed by a tag, in the chat: the answer is
// never a failure and the page never holds the tag as markup.
func FuzzSay(f *testing.F) {
	for _, s := range []string{"/runbook disk full", "/incident declare <b>x</b>", "hello", "/", "//x", "/incident", "<script>x</script>",
		"/incident note \x00\xff", "/runbook " + strings.Repeat("a ", 400)} {
		f.Add(s)
	}
	w := newChatWorld(f)
	general := w.get("/chat")
	f.Fuzz(func(t *testing.T, text string) {
		w.t = t
		v := hiddenFields(formRE.FindAllStringSubmatch(general.body, -1)[0][2])
		v.Set("text", text+" <x-injected>")
		code, p := w.post("/chat/say", v)
		if code != http.StatusOK {
			t.Fatalf("typing %q: got %d, want 200", text, code)
		}
		if strings.Contains(p.body, "<x-injected") {
			t.Fatalf("typing %q put markup on the page", text)
		}
	})
}
