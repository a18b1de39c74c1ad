package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
	"github.com/breadcrumb-oncall/breadcrumb/bot/slack/slacktestx"
	"github.com/breadcrumb-oncall/breadcrumb/examples"
	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
	"github.com/breadcrumb-oncall/breadcrumb/search"
)

const payments5xx = "examples:payments/PaymentsAPIHigh5xxRate.md"

// stack is the whole Slack side of Breadcrumb over slacktestx: the real
// bot on a real incident service (bbolt in a temporary directory) and the
// example runbooks' search index, a Chat over slack-go, and the HTTP
// transport behind a real HTTP server, reached with signed requests.
type stack struct {
	t     testing.TB
	srv   *slacktestx.Server
	chat  *Chat
	bot   *bot.Bot
	svc   *incidents.Service
	http  *httptest.Server
	h     *HTTPHandler
	resp  *responses
	seq   atomic.Int64
	alice bot.User
	bob   bot.User
}

func newStack(t testing.TB) *stack {
	t.Helper()
	lib := runbooks.NewLibrary(runbooks.LibraryOptions{})
	if err := lib.Add(runbooks.NewFSSource("examples", examples.Runbooks()), runbooks.SourceConfig{}); err != nil {
		t.Fatal(err)
	}
	if _, err := lib.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	ix, err := search.Open(search.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ix.Close() })
	if _, err := ix.Update(lib.Pages(), nil); err != nil {
		t.Fatal(err)
	}
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "incidents.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	s := &stack{t: t, srv: slacktestx.New()}
	t.Cleanup(s.srv.Close)
	s.alice = bot.User{ID: "U0ALICE", Name: "alice", Email: "alice@example.com"}
	s.bob = bot.User{ID: "U0BOB", Name: "bob", Email: "bob@example.com"}
	for _, u := range []bot.User{s.alice, s.bob} {
		s.srv.AddUser(slacktestx.User{ID: u.ID, Name: u.Name, Email: u.Email})
	}
	s.svc = incidents.NewService(st, incidents.Options{})
	api := NewAPI(APIConfig{BotToken: secret.New("xoxb-test"), APIURL: s.srv.APIURL()})
	s.chat = NewChat(api, ChatConfig{Outbox: OutboxConfig{Interval: time.Millisecond, Burst: 5}})
	b, err := bot.New(bot.Config{Invite: []string{"U0ONCALL"}}, bot.Deps{
		Incidents: s.svc, Search: bot.SearchIndex(ix), Runbooks: lib, Chat: s.chat,
		PageURL: func(id, anchor string) string { return "https://breadcrumb.example/runbooks/" + id },
	})
	if err != nil {
		t.Fatal(err)
	}
	s.svc.Subscribe(b)
	s.bot = b
	h := NewHTTPHandler(HTTPConfig{SigningSecret: secret.New(testSecret), InboundConfig: InboundConfig{Users: s.chat, Chat: s.chat}}, b)
	s.h = h
	mux := http.NewServeMux()
	for _, p := range []string{CommandsPath, InteractionsPath, EventsPath} {
		mux.Handle("POST "+p, h)
	}
	s.http = httptest.NewServer(mux)
	s.resp = newResponses(t)
	t.Cleanup(func() {
		s.http.Close()
		_ = h.Wait(context.Background())
		_ = b.Close()
		_ = s.chat.Close(context.Background())
	})
	return s
}

// send posts body to path as Slack would, signed, and returns the answer.
func (s *stack) send(path string, body []byte) string {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.http.URL+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	ts, sig := Sign(secret.New(testSecret), time.Now(), body)
	req.Header.Set("X-Slack-Request-Timestamp", ts)
	req.Header.Set("X-Slack-Signature", sig)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		s.t.Fatalf("%s: got %d %s", path, res.StatusCode, out)
	}
	return string(out)
}

// settle waits for the bot's background work and the outbox.
func (s *stack) settle() {
	s.t.Helper()
	for range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := s.h.Wait(ctx)
		s.bot.Flush()
		if err == nil {
			err = s.chat.Flush(ctx)
		}
		cancel()
		if err != nil {
			s.t.Fatal(err)
		}
	}
}

// command runs a slash command and returns the text of its answer,
// blocks included.
func (s *stack) command(u bot.User, channel, text string) string {
	s.t.Helper()
	name, rest, _ := strings.Cut(text, " ")
	body := url.Values{
		"command": {name}, "text": {rest}, "user_id": {u.ID}, "user_name": {u.Name}, "channel_id": {channel},
		"trigger_id": {fmt.Sprintf("%d.trigger", s.seq.Add(1))}, "response_url": {s.resp.URL},
	}.Encode()
	out := s.send(CommandsPath, []byte(body))
	if out == "" {
		v, _ := json.Marshal(s.resp.next(s.t))
		out = string(v)
	}
	s.settle()
	return out
}

// click presses the button labelled label on a message, as u.
func (s *stack) click(u bot.User, m slacktestx.Message, label string) {
	s.t.Helper()
	action, value, ok := button(m.Blocks, label)
	if !ok {
		s.t.Fatalf("no %q button on %s", label, m.Blocks)
	}
	n := s.seq.Add(1)
	p := map[string]any{
		"type": "block_actions", "user": map[string]any{"id": u.ID, "name": u.Name},
		"container":    map[string]any{"type": "message", "message_ts": m.TS, "channel_id": m.Channel},
		"channel":      map[string]any{"id": m.Channel},
		"message":      map[string]any{"ts": m.TS, "thread_ts": m.ThreadTS},
		"trigger_id":   fmt.Sprintf("%d.trigger", n),
		"response_url": s.resp.URL,
		"actions":      []map[string]any{{"action_id": action, "block_id": "b", "value": value, "type": "button", "action_ts": fmt.Sprintf("%d.%06d", time.Now().Unix(), n)}},
	}
	js, _ := json.Marshal(p)
	s.send(InteractionsPath, interaction(js))
	s.settle()
}

// button finds a button by its label in Block Kit JSON.
func button(blocks json.RawMessage, label string) (action, value string, ok bool) {
	var bs []struct {
		Type     string `json:"type"`
		Elements []struct {
			Type     string `json:"type"`
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
			Text     struct {
				Text string `json:"text"`
			} `json:"text"`
		} `json:"elements"`
	}
	_ = json.Unmarshal(blocks, &bs)
	for _, b := range bs {
		for _, e := range b.Elements {
			if e.Type == "button" && e.Text.Text == label {
				return e.ActionID, e.Value, true
			}
		}
	}
	return "", "", false
}

// find returns the current state of the channel's message whose text or
// blocks hold want.
func (s *stack) find(channel, want string) (slacktestx.Message, bool) {
	msgs := s.srv.Messages(channel)
	for i := len(msgs) - 1; i >= 0; i-- {
		if strings.Contains(msgs[i].Text, want) || strings.Contains(string(msgs[i].Blocks), want) {
			return msgs[i], true
		}
	}
	return slacktestx.Message{}, false
}

func (s *stack) message(channel, ts string) slacktestx.Message {
	for _, m := range s.srv.Messages(channel) {
		if m.TS == ts {
			return m
		}
	}
	s.t.Fatalf("no message %s in %s", ts, channel)
	return slacktestx.Message{}
}

func contains(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s: got %s, want it to contain %q", what, got, w)
		}
	}
}

// TestTheWholeStoryOverSlack declares an incident with a slash command,
// follows its runbook through buttons, pins a message with a reaction,
// resolves it and exports the report, all as signed HTTP requests, the
// bot talking back to Slack through slack-go.
func TestTheWholeStoryOverSlack(t *testing.T) {
	s := newStack(t)
	general := s.srv.AddChannel("general", false)

	// A search first, only for the asker.
	contains(t, "/runbook", s.command(s.alice, general, "/runbook payments 500 errors"), "ephemeral", "Payments API 5xx")

	// Declared, with a severity and a runbook.
	out := s.command(s.alice, general, "/incident declare Payments API 5xx sev2 runbook:"+payments5xx)
	contains(t, "declare", out, "Declared INC-")
	list, err := s.svc.List(context.Background(), incidents.Filter{Open: true})
	if err != nil || len(list) != 1 {
		t.Fatalf("got %d open incidents (%v), want 1", len(list), err)
	}
	inc := list[0]
	if inc.Home.Channel == "" || inc.Home.Header == "" {
		t.Fatalf("got home %+v, want a channel with a header", inc.Home)
	}
	var home slacktestx.Channel
	for _, c := range s.srv.Channels() {
		if c.ID == inc.Home.Channel {
			home = c
		}
	}
	if !strings.HasPrefix(home.Name, "inc-") || !strings.HasSuffix(home.Name, "-payments-api-5xx") {
		t.Errorf("got channel %q, want inc-DATE-payments-api-5xx", home.Name)
	}
	contains(t, "members", strings.Join(home.Members, ","), "U0ONCALL", s.alice.ID)
	header := s.message(home.ID, inc.Home.Header)
	contains(t, "header", string(header.Blocks), inc.ID, "SEV2", "Start guided")

	// Guided mode, from the header's button.
	s.click(s.alice, header, "Start guided")
	card, ok := s.find(home.ID, "Step 1 of 8")
	if !ok {
		t.Fatalf("no step card among %d messages", len(s.srv.Messages(home.ID)))
	}
	s.click(s.alice, card, "Done")
	card = s.message(home.ID, card.TS)
	contains(t, "card after Done", string(card.Blocks), "Step 2 of 8")
	s.click(s.bob, card, "Skip")
	card = s.message(home.ID, card.TS)
	contains(t, "card after Skip", string(card.Blocks), "Step 3 of 8")
	got, err := s.svc.Get(context.Background(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Steps[0].State != incidents.StepDone || got.Steps[1].State != incidents.StepSkipped {
		t.Errorf("got steps %s and %s, want done and skipped", got.Steps[0].State, got.Steps[1].State)
	}
	if card.Updates < 2 {
		t.Errorf("got %d updates of the card, want it updated in place", card.Updates)
	}

	// A pin: a reaction on bob's message.
	said := s.srv.AddMessage(home.ID, s.bob.ID, "error rate back under 1% <!channel>", "")
	ev, _ := json.Marshal(map[string]any{
		"type": "event_callback", "event_id": "Ev0PIN", "event_time": time.Now().Unix(),
		"event": map[string]any{"type": "reaction_added", "user": s.alice.ID, "reaction": "pushpin", "event_ts": said,
			"item": map[string]any{"type": "message", "channel": home.ID, "ts": said}},
	})
	s.send(EventsPath, ev)
	s.send(EventsPath, ev) // Slack's retry
	deadline := time.Now().Add(10 * time.Second)
	var pins []incidents.Event
	for time.Now().Before(deadline) {
		s.settle()
		evs, err := s.svc.Timeline(context.Background(), inc.ID, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		pins = pins[:0]
		for _, e := range evs {
			if e.Type == incidents.EventMessagePinned {
				pins = append(pins, e)
			}
		}
		if len(pins) > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(pins) != 1 {
		t.Fatalf("got %d pins, want 1", len(pins))
	}
	if p := pins[0]; p.Actor != s.alice.ID || p.Data["author"] != s.bob.ID || !strings.Contains(p.Data["url"], home.ID) || !strings.Contains(p.Text, "error rate back under 1%") {
		t.Errorf("got pin %+v, want bob's message pinned by alice with its permalink", p)
	}

	// Resolve and export, from the incident's channel.
	contains(t, "resolve", s.command(s.alice, home.ID, "/incident resolve"), "Resolved "+inc.ID)
	contains(t, "header resolved", string(s.message(home.ID, inc.Home.Header).Blocks), "resolved")
	contains(t, "export", s.command(s.alice, home.ID, "/incident export html"), "report")
	files := s.srv.Files()
	if len(files) != 1 || files[0].Channel != home.ID || !files[0].Shared || !bytes.Contains(files[0].Content, []byte(inc.ID)) {
		t.Fatalf("got files %+v, want the report shared in the incident's channel", files)
	}

	// Nothing was posted twice, and nothing untrusted went out raw.
	seen := map[string]bool{}
	for _, c := range s.srv.Calls("chat.postMessage") {
		key := c.Form.Get("metadata")
		if seen[key] {
			t.Errorf("post %s sent twice", key)
		}
		seen[key] = true
	}
	for _, m := range s.srv.Messages(home.ID) {
		if m.User == slacktestx.BotUserID && (strings.Contains(m.Text, "<!channel>") || strings.Contains(string(m.Blocks), "<!channel>")) {
			t.Errorf("the bot posted a raw <!channel>: %s", m.Blocks)
		}
	}
}
