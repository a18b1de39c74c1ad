package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
)

// recorder is a bot.Handler that keeps what it is given and answers as
// told.
type recorder struct {
	mu          sync.Mutex
	commands    []bot.Command
	clicks      []bot.Click
	submissions []bot.Submission
	reactions   []bot.Reaction
	// delay holds every answer back.
	delay  time.Duration
	reply  func(bot.Command) bot.Message
	click  func(bot.Click) *bot.Message
	submit func(bot.Submission) error
	got    chan string
}

func newRecorder() *recorder { return &recorder{got: make(chan string, 100)} }

func (r *recorder) wait() {
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
}

func (r *recorder) Command(ctx context.Context, c bot.Command) bot.Message {
	r.mu.Lock()
	r.commands = append(r.commands, c)
	r.mu.Unlock()
	r.wait()
	r.got <- "command"
	if r.reply != nil {
		return r.reply(c)
	}
	return bot.Message{Text: "you said " + c.Text}
}

func (r *recorder) Click(ctx context.Context, c bot.Click) *bot.Message {
	r.mu.Lock()
	r.clicks = append(r.clicks, c)
	r.mu.Unlock()
	r.wait()
	r.got <- "click"
	if r.click != nil {
		return r.click(c)
	}
	return nil
}

func (r *recorder) Submit(ctx context.Context, s bot.Submission) error {
	r.mu.Lock()
	r.submissions = append(r.submissions, s)
	r.mu.Unlock()
	r.wait()
	r.got <- "submit"
	if r.submit != nil {
		return r.submit(s)
	}
	return nil
}

func (r *recorder) React(ctx context.Context, re bot.Reaction) {
	r.mu.Lock()
	r.reactions = append(r.reactions, re)
	r.mu.Unlock()
	r.got <- "react"
}

func (r *recorder) counts() (int, int, int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.commands), len(r.clicks), len(r.submissions), len(r.reactions)
}

func (r *recorder) expect(t *testing.T, what string) {
	t.Helper()
	select {
	case got := <-r.got:
		if got != what {
			t.Fatalf("got a %s, want a %s", got, what)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s reached the bot", what)
	}
}

const testSecret = "8f742231b10e8888abcd99yyyzzz85a5"

func payload(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/payloads/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSpace(b)
}

// signed builds a request signed as Slack signs it, at.
func signed(t testing.TB, path string, body []byte, at time.Time) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	ts, sig := Sign(secret.New(testSecret), at, body)
	r.Header.Set("X-Slack-Request-Timestamp", ts)
	r.Header.Set("X-Slack-Signature", sig)
	if strings.HasPrefix(string(body), "{") {
		r.Header.Set("Content-Type", "application/json")
	} else {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return r
}

// responses is a response_url endpoint that keeps what it is sent.
type responses struct {
	*httptest.Server
	got chan map[string]any
}

func newResponses(t testing.TB) *responses {
	rs := &responses{got: make(chan map[string]any, 10)}
	rs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rs.got <- v
	}))
	t.Cleanup(rs.Close)
	return rs
}

func (rs *responses) next(t testing.TB) map[string]any {
	t.Helper()
	select {
	case v := <-rs.got:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("nothing reached the response_url")
		return nil
	}
}

func newHTTP(t *testing.T, h bot.Handler, cfg HTTPConfig) *HTTPHandler {
	t.Helper()
	cfg.SigningSecret = secret.New(testSecret)
	// The tests' response_url servers are on this machine.
	cfg.ResponseHosts = append(cfg.ResponseHosts, "127.0.0.1")
	s := NewHTTPHandler(cfg, h)
	t.Cleanup(func() { _ = s.Wait(context.Background()) })
	return s
}

// command is a slash command form, with its response_url at rs.
func command(text, responseURL, trigger string) []byte {
	v := url.Values{
		"command": {"/incident"}, "text": {text}, "user_id": {"U0ALICE"}, "user_name": {"alice"},
		"channel_id": {"C0INC"}, "trigger_id": {trigger}, "response_url": {responseURL},
	}
	return []byte(v.Encode())
}

func serve(s http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

func TestTheRealSignatureVectorsVerify(t *testing.T) {
	var vectors []struct {
		File          string            `json:"file"`
		SigningSecret string            `json:"signing_secret"`
		Headers       map[string]string `json:"headers"`
		ExpectValid   bool              `json:"expect_valid"`
	}
	if err := json.Unmarshal(payload(t, "signature_vectors.json"), &vectors); err != nil {
		t.Fatal(err)
	}
	for _, v := range vectors {
		t.Run(v.File, func(t *testing.T) {
			body, err := os.ReadFile("testdata/payloads/" + v.File)
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header{}
			for k, x := range v.Headers {
				h.Set(k, x)
			}
			ts, _ := strconv.ParseInt(v.Headers["X-Slack-Request-Timestamp"], 10, 64)
			err = Verify(secret.New(v.SigningSecret), h, body, time.Unix(ts, 0).Add(time.Minute))
			if (err == nil) != v.ExpectValid {
				t.Errorf("got %v, want valid %v", err, v.ExpectValid)
			}
		})
	}
}

func TestBadlySignedRequestsAreRefused(t *testing.T) {
	s := newHTTP(t, newRecorder(), HTTPConfig{})
	body := command("status", "https://hooks.example/x", "1.1.a")
	now := time.Now()
	tests := []struct {
		name string
		req  func() *http.Request
	}{
		{"a forged signature", func() *http.Request {
			r := signed(t, CommandsPath, body, now)
			r.Header.Set("X-Slack-Signature", "v0="+strings.Repeat("ab", 32))
			return r
		}},
		{"a tampered body", func() *http.Request {
			r := signed(t, CommandsPath, body, now)
			r.Body = io.NopCloser(bytes.NewReader(bytes.Replace(body, []byte("status"), []byte("resolv"), 1)))
			return r
		}},
		{"a request 6 minutes old", func() *http.Request { return signed(t, CommandsPath, body, now.Add(-6*time.Minute)) }},
		{"a request 6 minutes ahead", func() *http.Request { return signed(t, CommandsPath, body, now.Add(6*time.Minute)) }},
		{"no signature", func() *http.Request {
			r := signed(t, CommandsPath, body, now)
			r.Header.Del("X-Slack-Signature")
			return r
		}},
		{"another secret", func() *http.Request {
			r := signed(t, CommandsPath, body, now)
			ts, sig := Sign(secret.New("not-the-secret"), now, body)
			r.Header.Set("X-Slack-Request-Timestamp", ts)
			r.Header.Set("X-Slack-Signature", sig)
			return r
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if w := serve(s, tt.req()); w.Code != http.StatusUnauthorized {
				t.Errorf("got %d, want 401", w.Code)
			}
		})
	}
	if c, _, _, _ := s.in.h.(*recorder).counts(); c != 0 {
		t.Errorf("got %d commands through, want none", c)
	}
}

func TestABodyOverTheCapIsRefused(t *testing.T) {
	s := newHTTP(t, newRecorder(), HTTPConfig{MaxBody: 1024})
	w := serve(s, signed(t, CommandsPath, command(strings.Repeat("x", 2000), "", "t"), time.Now()))
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("got %d, want 413", w.Code)
	}
}

func TestURLVerificationIsAnswered(t *testing.T) {
	s := newHTTP(t, newRecorder(), HTTPConfig{})
	w := serve(s, signed(t, EventsPath, []byte(`{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`), time.Now()))
	var got map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got["challenge"] != "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" {
		t.Errorf("got %d %s, want the challenge back", w.Code, w.Body)
	}
}

func TestAFastCommandIsAnsweredInTheResponse(t *testing.T) {
	rec := newRecorder()
	rec.reply = func(c bot.Command) bot.Message {
		return bot.Message{Text: "status of " + c.Text, Blocks: []bot.Block{&bot.Section{Text: bot.Text{bot.P("<!channel> " + c.Text)}}}}
	}
	s := newHTTP(t, rec, HTTPConfig{})
	w := serve(s, signed(t, CommandsPath, command("status", "https://hooks.example/x", "1.1.a"), time.Now()))
	if w.Code != http.StatusOK {
		t.Fatalf("got %d %s, want 200", w.Code, w.Body)
	}
	var got struct {
		ResponseType string `json:"response_type"`
		Text         string `json:"text"`
		Blocks       []struct {
			Text struct{ Text string } `json:"text"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.ResponseType != "ephemeral" || got.Text != "status of status" || len(got.Blocks) != 1 || got.Blocks[0].Text.Text != "&lt;!channel&gt; status" {
		t.Errorf("got %s, want an ephemeral, escaped answer", w.Body)
	}
	c := rec.commands[0]
	if c.Name != "incident" || c.Text != "status" || c.User.ID != "U0ALICE" || c.Place.Channel != "C0INC" || c.Trigger != "1.1.a" || c.Key == "" {
		t.Errorf("got %+v, want the command as sent", c)
	}
}

func TestASlowCommandIsAcknowledgedAndAnsweredThroughResponseURL(t *testing.T) {
	rs := newResponses(t)
	rec := newRecorder()
	rec.delay = 300 * time.Millisecond
	s := newHTTP(t, rec, HTTPConfig{InboundConfig: InboundConfig{AckWithin: 20 * time.Millisecond}})
	w := serve(s, signed(t, CommandsPath, command("timeline", rs.URL, "1.1.b"), time.Now()))
	if w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Fatalf("got %d %q, want an empty 200 before the answer", w.Code, w.Body)
	}
	got := rs.next(t)
	if got["text"] != "you said timeline" || got["response_type"] != "ephemeral" {
		t.Errorf("got %v, want the answer, ephemeral", got)
	}
}

func TestTheRealSlashCommandPayloadsReachTheBot(t *testing.T) {
	for _, name := range []string{"slash_command.bolt-python.form", "slash_command.slack-go.form", "slash_command.signing_example.form"} {
		t.Run(name, func(t *testing.T) {
			rec := newRecorder()
			s := newHTTP(t, rec, HTTPConfig{})
			w := serve(s, signed(t, CommandsPath, payload(t, name), time.Now()))
			if w.Code != http.StatusOK {
				t.Fatalf("got %d %s, want 200", w.Code, w.Body)
			}
			if n, _, _, _ := rec.counts(); n != 1 {
				t.Errorf("got %d commands, want 1", n)
			}
		})
	}
}

// interaction wraps a JSON payload as Slack posts it.
func interaction(p []byte) []byte {
	return []byte(url.Values{"payload": {string(p)}}.Encode())
}

func TestAClickReachesTheBotAndItsReplyReplacesTheMessage(t *testing.T) {
	rs := newResponses(t)
	rec := newRecorder()
	rec.click = func(c bot.Click) *bot.Message {
		return &bot.Message{Text: "acked", Replace: true}
	}
	s := newHTTP(t, rec, HTTPConfig{})
	p := strings.Replace(string(payload(t, "block_actions.button.bolt-python.json")), "https://hooks.slack.com/actions/T111/111/random-value", rs.URL, 1)
	p = strings.Replace(p, `"action_id": "a"`, `"action_id": "inc.ack#2"`, 1)
	w := serve(s, signed(t, InteractionsPath, interaction([]byte(p)), time.Now()))
	if w.Code != http.StatusOK {
		t.Fatalf("got %d %s, want 200", w.Code, w.Body)
	}
	got := rs.next(t)
	if got["replace_original"] != true || got["text"] != "acked" {
		t.Errorf("got %v, want the clicked message replaced", got)
	}
	c := rec.clicks[0]
	want := bot.Click{Action: "inc.ack", Value: "click_me_123", Place: bot.Place{Channel: "C111"}, Message: bot.MessageRef{Channel: "C111", TS: "111.222"}, Trigger: "111.222.valid"}
	if c.Action != want.Action || c.Value != want.Value || c.Place != want.Place || c.Message != want.Message || c.Trigger != want.Trigger || c.User.ID != "W111" {
		t.Errorf("got %+v, want %+v", c, want)
	}
}

func TestTheRealInteractionFormPayloadIsRead(t *testing.T) {
	rec := newRecorder()
	s := newHTTP(t, rec, HTTPConfig{})
	if w := serve(s, signed(t, InteractionsPath, payload(t, "block_actions.button.bolt-python.form"), time.Now())); w.Code != http.StatusOK {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
	rec.expect(t, "click")
	if w := serve(s, signed(t, InteractionsPath, payload(t, "view_submission.bolt-python.form"), time.Now())); w.Code != http.StatusOK {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
	if _, _, n, _ := rec.counts(); n != 1 {
		t.Errorf("got %d submissions, want 1", n)
	}
	if s := rec.submissions[0]; s.Form != "view-id" || s.State != "This is for you!" || s.Values["hspI"] != "test" {
		t.Errorf("got %+v, want the form's ID, state and value", s)
	}
}

func TestAFormErrorSendsTheUserBackToTheForm(t *testing.T) {
	rec := newRecorder()
	rec.submit = func(bot.Submission) error { return &bot.FormError{Fields: map[string]string{"hspI": "Say more"}} }
	s := newHTTP(t, rec, HTTPConfig{})
	w := serve(s, signed(t, InteractionsPath, interaction(payload(t, "view_submission.bolt-python.json")), time.Now()))
	var got formErrors
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatalf("got %d %q: %v", w.Code, w.Body, err)
	}
	if got.ResponseAction != "errors" || got.Errors["hspI"] != "Say more" {
		t.Errorf("got %+v, want the field's error", got)
	}
	rec.submit = func(bot.Submission) error { return errors.New("store down") }
	w = serve(s, signed(t, InteractionsPath, interaction(bytes.Replace(payload(t, "view_submission.bolt-python.json"), []byte("1596530361.3wRYuk3R"), []byte("2"), 1)), time.Now()))
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got.Errors["hspI"] == "" {
		t.Errorf("got %q, want a message on the first field for a failure", w.Body)
	}
}

func reactionEvent(id, emoji string, added bool) []byte {
	typ := "reaction_removed"
	if added {
		typ = "reaction_added"
	}
	e := map[string]any{
		"type": "event_callback", "event_id": id, "event_time": 1764039600,
		"event": map[string]any{
			"type": typ, "user": "U0ALICE", "reaction": emoji, "event_ts": "1764039600.000200",
			"item": map[string]any{"type": "message", "channel": "C0INC", "ts": "1764039000.000100"},
		},
	}
	b, _ := json.Marshal(e)
	return b
}

// users resolves every user to a name and an email.
type users struct{}

func (users) User(_ context.Context, id string) (bot.User, error) {
	return bot.User{ID: id, Name: strings.ToLower(id), Email: strings.ToLower(id) + "@example.com"}, nil
}

func TestAReactionReachesTheBotOnceWhateverSlackRetries(t *testing.T) {
	rec := newRecorder()
	claimed := map[string]bool{}
	var mu sync.Mutex
	claim := func(_ context.Context, key string, _ time.Duration) (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		if claimed[key] {
			return false, nil
		}
		claimed[key] = true
		return true, nil
	}
	s := newHTTP(t, rec, HTTPConfig{InboundConfig: InboundConfig{Users: users{}, Claim: claim}})
	body := reactionEvent("Ev0001", "pushpin", true)
	if w := serve(s, signed(t, EventsPath, body, time.Now())); w.Code != http.StatusOK {
		t.Fatalf("got %d %s", w.Code, w.Body)
	}
	rec.expect(t, "react")
	for n := 1; n <= 3; n++ {
		r := signed(t, EventsPath, body, time.Now())
		r.Header.Set("X-Slack-Retry-Num", strconv.Itoa(n))
		r.Header.Set("X-Slack-Retry-Reason", "http_timeout")
		if w := serve(s, r); w.Code != http.StatusOK {
			t.Fatalf("retry %d: got %d, want 200", n, w.Code)
		}
	}
	// Another replica, with its own memory, sees the same event.
	other := newHTTP(t, rec, HTTPConfig{InboundConfig: InboundConfig{Claim: claim}})
	if w := serve(other, signed(t, EventsPath, body, time.Now())); w.Code != http.StatusOK {
		t.Fatalf("got %d", w.Code)
	}
	_ = s.Wait(context.Background())
	_ = other.Wait(context.Background())
	if _, _, _, n := rec.counts(); n != 1 {
		t.Fatalf("got %d reactions, want 1", n)
	}
	r := rec.reactions[0]
	if r.Emoji != "pushpin" || !r.Added || r.User.Email != "u0alice@example.com" || r.Message != (bot.MessageRef{Channel: "C0INC", TS: "1764039000.000100"}) || r.Key == "" {
		t.Errorf("got %+v, want the pin with its user resolved", r)
	}
	if w := serve(s, signed(t, EventsPath, reactionEvent("Ev0002", "pushpin", false), time.Now())); w.Code != http.StatusOK {
		t.Fatalf("got %d", w.Code)
	}
	rec.expect(t, "react")
	if rec.reactions[1].Added {
		t.Error("got Added for reaction_removed")
	}
}

func TestAnAppMentionIsAnsweredWithHelp(t *testing.T) {
	for _, tc := range []struct{ configured, want string }{{"", "incident"}, {"ops-incident", "ops-incident"}} {
		c, srv, _ := newChat(t, ChatConfig{})
		rec := newRecorder()
		s := newHTTP(t, rec, HTTPConfig{InboundConfig: InboundConfig{Chat: c, HelpCommand: tc.configured}})
		if w := serve(s, signed(t, EventsPath, payload(t, "events_api.app_mention.slack-go.json"), time.Now())); w.Code != http.StatusOK {
			t.Fatalf("got %d %s", w.Code, w.Body)
		}
		rec.expect(t, "command")
		_ = s.Wait(context.Background())
		if got := rec.commands[0]; got.Text != "help" || got.Name != tc.want {
			t.Errorf("with the command named %q: got /%s %s, want /%s help", tc.configured, got.Name, got.Text, tc.want)
		}
		if e := srv.Ephemerals(); len(e) != 1 || e[0].User != "AAAAAAAAA" {
			t.Errorf("got %+v, want a whisper to the user who mentioned the bot", e)
		}
	}
}

func FuzzVerify(f *testing.F) {
	f.Add("1531420618", "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503", []byte("token=x"))
	f.Add("", "v0=", []byte{})
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set("X-Slack-Request-Timestamp", ts)
		h.Set("X-Slack-Signature", sig)
		if Verify(secret.New(testSecret), h, body, time.Unix(1531420618, 0)) == nil {
			// Only a real signature passes.
			_, want := Sign(secret.New(testSecret), time.Unix(mustInt(ts), 0), body)
			if sig != want {
				t.Fatalf("accepted %q for %q", sig, body)
			}
		}
	})
}

func mustInt(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

func FuzzParseInbound(f *testing.F) {
	for _, name := range []string{"slash_command.bolt-python.form", "block_actions.button.bolt-python.form", "view_submission.bolt-python.form", "events_api.app_mention.slack-go.json"} {
		b, err := os.ReadFile("testdata/payloads/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if sc, err := ParseCommand(body); err == nil && (sc.Command == "" || sc.UserID == "") {
			t.Fatalf("got %+v with no error", sc)
		}
		if cb, err := ParseInteraction(body); err == nil && cb.Type == "" {
			t.Fatal("got an interaction with no type and no error")
		}
		if e, err := parseEvent(body); err == nil && e.Type == "" {
			t.Fatal("got an event with no type and no error")
		}
	})
}

func TestABotThatPanicsCostsOnlyItsDelivery(t *testing.T) {
	rec := newRecorder()
	rec.reply = func(bot.Command) bot.Message { panic("boom") }
	rec.submit = func(bot.Submission) error { panic("boom") }
	s := newHTTP(t, rec, HTTPConfig{})
	if w := serve(s, signed(t, CommandsPath, command("status", "", "1.1.p"), time.Now())); w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Errorf("command: got %d %q, want an empty 200", w.Code, w.Body)
	}
	w := serve(s, signed(t, InteractionsPath, interaction(payload(t, "view_submission.bolt-python.json")), time.Now()))
	var got formErrors
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || got.Errors["hspI"] == "" {
		t.Errorf("form: got %d %q, want the user sent back to the form", w.Code, w.Body)
	}
}

func TestAFormThatFailsAfterItsModalClosedIsToldToItsUser(t *testing.T) {
	c, srv, _ := newChat(t, ChatConfig{})
	rec := newRecorder()
	rec.delay = 200 * time.Millisecond
	rec.submit = func(bot.Submission) error {
		return &bot.FormError{Fields: map[string]string{"title": "Give the incident a title."}}
	}
	s := newHTTP(t, rec, HTTPConfig{InboundConfig: InboundConfig{Chat: c, AckWithin: 10 * time.Millisecond}})
	w := serve(s, signed(t, InteractionsPath, interaction(payload(t, "view_submission.bolt-python.json")), time.Now()))
	if w.Code != http.StatusOK || w.Body.Len() != 0 {
		t.Fatalf("got %d %q, want the modal closed before the answer", w.Code, w.Body)
	}
	if err := s.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages("W111")
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "Give the incident a title.") {
		t.Errorf("got %+v, want one direct message naming the problem", msgs)
	}
}

// Finding: an answer was posted to whatever response_url a delivery
// named, without checking that its host was Slack's.
func TestAnAnswerGoesOnlyToAResponseURLOfSlacksOrOfTheConfiguredHost(t *testing.T) {
	in := &inbound{cfg: InboundConfig{ResponseHosts: []string{"127.0.0.1"}}.withDefaults()}
	for raw, want := range map[string]bool{
		"https://hooks.slack.com/commands/T0/1/abc":     true,
		"https://HOOKS.SLACK.COM/actions/T0/1/abc":      true,
		"https://hooks.slack-gov.com/commands/T0/1/abc": true,
		"http://hooks.slack.com/commands/T0/1/abc":      false, // Slack's only over https
		"https://hooks.slack.com.evil.example/x":        false,
		"https://evil.example/hooks.slack.com":          false,
		"https://user@hooks.slack.com/x":                false,
		"https://slack.com/api/chat.postMessage":        false,
		"http://127.0.0.1:8080/response":                true, // the configured host, any port
		"http://169.254.169.254/latest/meta-data":       false,
		"file:///etc/passwd":                            false,
		"":                                              false,
	} {
		if got := in.responseURLAllowed(raw); got != want {
			t.Errorf("%q: allowed %v, want %v", raw, got, want)
		}
	}
	// Through the transport: without the configured host, a slow
	// command's late answer is not sent to a response_url on this
	// machine.
	rs := newResponses(t)
	rec := newRecorder()
	rec.delay = 100 * time.Millisecond
	h := NewHTTPHandler(HTTPConfig{SigningSecret: secret.New(testSecret), InboundConfig: InboundConfig{AckWithin: 10 * time.Millisecond}}, rec)
	w := serve(h, signed(t, CommandsPath, command("timeline", rs.URL, "1.1.z"), time.Now()))
	if w.Code != http.StatusOK {
		t.Fatalf("the command was answered %d", w.Code)
	}
	_ = h.Wait(context.Background())
	select {
	case v := <-rs.got:
		t.Errorf("an answer reached a response_url that is neither Slack's nor configured: %v", v)
	default:
	}
}
