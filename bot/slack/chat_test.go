package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
	"github.com/breadcrumb-oncall/breadcrumb/bot/slack/slacktestx"
	"github.com/breadcrumb-oncall/breadcrumb/internal/fault"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
)

// newChat returns a Chat on a fresh slacktestx server, on a stepped
// clock so that pacing and backoff cost no time.
func newChat(t *testing.T, cfg ChatConfig) (*Chat, *slacktestx.Server, *stepClock) {
	t.Helper()
	srv := slacktestx.New()
	t.Cleanup(srv.Close)
	clock := newStepClock()
	if cfg.Outbox.Clock == nil {
		cfg.Outbox.Clock = clock
	}
	if cfg.Outbox.CallTimeout == 0 {
		cfg.Outbox.CallTimeout = 2 * time.Second
	}
	api := NewAPI(APIConfig{BotToken: secret.New("xoxb-test"), APIURL: srv.APIURL()})
	c := NewChat(api, cfg)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c, srv, clock
}

func hello(s string) bot.Message {
	return bot.Message{Text: s, Blocks: []bot.Block{&bot.Section{Text: bot.Text{bot.P(s)}}}}
}

func TestPostSendsTheMessageAndReturnsItsReference(t *testing.T) {
	c, srv, _ := newChat(t, ChatConfig{})
	ch := srv.AddChannel("inc-1", false)
	ctx := context.Background()
	ref, err := c.Post(ctx, bot.Place{Channel: ch}, hello("declared <!channel>"))
	if err != nil {
		t.Fatal(err)
	}
	reply, err := c.Post(ctx, bot.Place{Channel: ch, Thread: ref.TS}, hello("in the thread"))
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages(ch)
	if len(msgs) != 2 {
		t.Fatalf("got %d messages, want 2", len(msgs))
	}
	if msgs[0].TS != ref.TS || ref.Channel != ch {
		t.Errorf("got ref %+v, want %s/%s", ref, ch, msgs[0].TS)
	}
	if msgs[0].Text != "declared &lt;!channel&gt;" {
		t.Errorf("got text %q, want it escaped", msgs[0].Text)
	}
	if msgs[1].ThreadTS != ref.TS || reply.TS != msgs[1].TS {
		t.Errorf("got reply in thread %q, want %q", msgs[1].ThreadTS, ref.TS)
	}
	var meta struct {
		EventType string `json:"event_type"`
	}
	if err := json.Unmarshal(msgs[0].Metadata, &meta); err != nil || meta.EventType != postMarker {
		t.Errorf("got metadata %s, want the post marker", msgs[0].Metadata)
	}
}

func TestAPostIsNeverSentTwice(t *testing.T) {
	tests := []struct {
		name      string
		fault     slacktestx.Fault
		wantPosts int
	}{
		{"a 500 after the post was made", slacktestx.Fault{Applied: true, Status: 500}, 1},
		{"a timeout after the post was made", slacktestx.Fault{Applied: true, Delay: 3 * time.Second}, 1},
		{"a 500 before the post was made", slacktestx.Fault{Status: 500}, 2},
		{"a 429 before the post was made", slacktestx.Fault{Status: 429, RetryAfter: 3}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, srv, _ := newChat(t, ChatConfig{Outbox: OutboxConfig{CallTimeout: 300 * time.Millisecond}})
			ch := srv.AddChannel("inc-2", false)
			srv.Fail("chat.postMessage", tt.fault)
			ref, err := c.Post(context.Background(), bot.Place{Channel: ch}, hello("once"))
			if err != nil {
				t.Fatal(err)
			}
			msgs := srv.Messages(ch)
			if len(msgs) != 1 {
				t.Fatalf("got %d messages in the channel, want 1", len(msgs))
			}
			if ref.TS != msgs[0].TS {
				t.Errorf("got ts %q, want the one message's %q", ref.TS, msgs[0].TS)
			}
			if got := len(srv.Calls("chat.postMessage")); got != tt.wantPosts {
				t.Errorf("got %d calls of chat.postMessage, want %d", got, tt.wantPosts)
			}
		})
	}
}

func TestARateLimitedPostWaitsForRetryAfter(t *testing.T) {
	c, srv, clock := newChat(t, ChatConfig{})
	ch := srv.AddChannel("inc-3", false)
	srv.Fail("chat.postMessage", slacktestx.Fault{Status: http.StatusTooManyRequests, RetryAfter: 9})
	if _, err := c.Post(context.Background(), bot.Place{Channel: ch}, hello("later")); err != nil {
		t.Fatal(err)
	}
	waited := false
	for _, w := range clock.Waits() {
		if w == 9*time.Second {
			waited = true
		}
	}
	if !waited {
		t.Errorf("got waits %v, want one of 9s", clock.Waits())
	}
	if got := c.Stats().RateLimited; got != 1 {
		t.Errorf("got %d rate limits counted, want 1", got)
	}
}

func TestUpdateReplacesTheMessage(t *testing.T) {
	c, srv, _ := newChat(t, ChatConfig{})
	ch := srv.AddChannel("inc-4", false)
	ctx := context.Background()
	ref, err := c.Post(ctx, bot.Place{Channel: ch}, hello("v1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Update(ctx, ref, hello("v2")); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	m := srv.Messages(ch)[0]
	if m.Text != "v2" || m.Updates != 1 {
		t.Errorf("got %q after %d updates, want v2 after 1", m.Text, m.Updates)
	}
}

func TestWhisperReachesOnlyItsUser(t *testing.T) {
	c, srv, _ := newChat(t, ChatConfig{})
	err := c.Whisper(context.Background(), bot.Place{Channel: "C0000099", Thread: "1.000001"}, bot.User{ID: "U0ALICE"}, hello("psst"))
	if err != nil {
		t.Fatal(err)
	}
	got := srv.Ephemerals()
	if len(got) != 1 || got[0].User != "U0ALICE" || got[0].Channel != "C0000099" || got[0].ThreadTS != "1.000001" {
		t.Errorf("got %+v, want one whisper to U0ALICE in C0000099's thread", got)
	}
}

func TestOpenHomeMakesOrFindsTheIncidentChannel(t *testing.T) {
	c, srv, _ := newChat(t, ChatConfig{})
	ctx := context.Background()
	srv.AddChannel("inc-taken", false)
	srv.AddChannel("inc-archived", true)
	srv.AddChannel("payments", false)
	tests := []struct {
		name     string
		home     bot.Home
		wantName string
	}{
		{"a new name makes a channel", bot.Home{Name: "INC 20261125 Payments 5xx!", Topic: "payments", Invite: []string{"U0ALICE", "U0BOB", "not-a-user"}}, "inc-20261125-payments-5xx"},
		{"a name taken by a live channel is that channel", bot.Home{Name: "inc-taken"}, "inc-taken"},
		{"a name taken by an archived channel gets a suffix", bot.Home{Name: "inc-archived"}, "inc-archived-2"},
		{"a thread home is its channel, found by name", bot.Home{Channel: "#payments", Name: "ignored"}, "payments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := c.OpenHome(ctx, tt.home)
			if err != nil {
				t.Fatal(err)
			}
			var got *slacktestx.Channel
			for _, ch := range srv.Channels() {
				if ch.ID == p.Channel {
					got = &ch
				}
			}
			if got == nil || got.Name != tt.wantName {
				t.Fatalf("got channel %+v, want one named %q", got, tt.wantName)
			}
			if p.Thread != "" {
				t.Errorf("got thread %q, want none before the first post", p.Thread)
			}
			if len(tt.home.Invite) > 0 {
				if strings.Join(got.Members, ",") != "U0ALICE,U0BOB" || got.Topic != tt.home.Topic {
					t.Errorf("got members %v and topic %q, want U0ALICE, U0BOB and %q", got.Members, got.Topic, tt.home.Topic)
				}
			}
		})
	}
}

func TestOpenFormOpensAModal(t *testing.T) {
	c, srv, _ := newChat(t, ChatConfig{})
	err := c.OpenForm(context.Background(), "111.222.abc", bot.Form{ID: "note", Title: "Add a note", State: "INC-1", Fields: []bot.Field{{ID: "text", Label: "Note", Multiline: true}}})
	if err != nil {
		t.Fatal(err)
	}
	views := srv.Views()
	if len(views) != 1 || views[0].Trigger != "111.222.abc" {
		t.Fatalf("got %+v, want one view for the trigger", views)
	}
	var v struct {
		CallbackID      string `json:"callback_id"`
		PrivateMetadata string `json:"private_metadata"`
	}
	if err := json.Unmarshal(views[0].View, &v); err != nil {
		t.Fatal(err)
	}
	if v.CallbackID != "note" || v.PrivateMetadata != "INC-1" {
		t.Errorf("got callback %q and metadata %q, want note and INC-1", v.CallbackID, v.PrivateMetadata)
	}
}

func TestUploadSharesTheFileInThePlace(t *testing.T) {
	c, srv, _ := newChat(t, ChatConfig{})
	ch := srv.AddChannel("inc-5", false)
	content := []byte("# INC-5\n\nresolved")
	if err := c.Upload(context.Background(), bot.Place{Channel: ch}, bot.File{Name: "INC-5.md", Title: "INC-5 report", Type: "markdown", Content: content}); err != nil {
		t.Fatal(err)
	}
	files := srv.Files()
	if len(files) != 1 || !files[0].Shared || files[0].Channel != ch || string(files[0].Content) != string(content) || files[0].Title != "INC-5 report" {
		t.Errorf("got %+v, want the report shared in %s", files, ch)
	}
	for _, m := range []string{"files.getUploadURLExternal", "files.completeUploadExternal"} {
		if n := len(srv.Calls(m)); n != 1 {
			t.Errorf("got %d calls of %s, want 1", n, m)
		}
	}
}

func TestMessageReadsAMessageOrAReplyWithItsAuthorAndPermalink(t *testing.T) {
	c, srv, _ := newChat(t, ChatConfig{})
	ch := srv.AddChannel("inc-6", false)
	srv.AddUser(slacktestx.User{ID: "U0ALICE", Name: "alice", Email: "alice@example.com"})
	parent := srv.AddMessage(ch, "U0ALICE", "the graph went flat", "")
	reply := srv.AddMessage(ch, "U0ALICE", "found it: the disk", parent)
	srv.AddMessage(ch, "U0BOB", "later", "")
	for _, tt := range []struct {
		name, ts, want, thread string
	}{
		{"a channel message", parent, "the graph went flat", ""},
		{"a reply in a thread", reply, "found it: the disk", parent},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := c.Message(context.Background(), bot.MessageRef{Channel: ch, TS: tt.ts})
			if err != nil {
				t.Fatal(err)
			}
			if m.Text != tt.want || m.Author.Email != "alice@example.com" || m.Author.Name != "alice" {
				t.Errorf("got %q by %+v, want %q by alice", m.Text, m.Author, tt.want)
			}
			if m.Thread != tt.thread {
				t.Errorf("got thread %q, want %q", m.Thread, tt.thread)
			}
			if !strings.Contains(m.Permalink, ch) || m.At.IsZero() {
				t.Errorf("got permalink %q at %s, want one in %s and a time", m.Permalink, m.At, ch)
			}
		})
	}
	_, err := c.Message(context.Background(), bot.MessageRef{Channel: ch, TS: "1.000000"})
	if err == nil {
		t.Error("got no error for a message that does not exist")
	}
}

func TestAFailedCallSaysWhetherToRetry(t *testing.T) {
	c, srv, _ := newChat(t, ChatConfig{Outbox: OutboxConfig{Attempts: 2}})
	srv.Fail("chat.postMessage", slacktestx.Fault{SlackError: "channel_not_found"})
	_, err := c.Post(context.Background(), bot.Place{Channel: "C0NOPE"}, hello("x"))
	if !fault.IsPermanent(err) {
		t.Errorf("got %v, want an error that is not worth a retry", err)
	}
	srv.Fail("chat.postMessage", slacktestx.Fault{Status: 503}, slacktestx.Fault{Status: 503})
	srv.Fail("conversations.history", slacktestx.Fault{Status: 503}, slacktestx.Fault{Status: 503})
	_, err = c.Post(context.Background(), bot.Place{Channel: "C0NOPE"}, hello("x"))
	if !fault.IsTemporary(err) {
		t.Errorf("got %v, want an error worth a retry", err)
	}
}

func TestRepeatedUpdatesOfOneMessageReachSlackMerged(t *testing.T) {
	c, srv, _ := newChat(t, ChatConfig{Outbox: OutboxConfig{CallTimeout: 5 * time.Second}})
	ch := srv.AddChannel("inc-7", false)
	ctx := context.Background()
	ref, err := c.Post(ctx, bot.Place{Channel: ch}, hello("v0"))
	if err != nil {
		t.Fatal(err)
	}
	// The first update is slow to answer, so the others wait behind it.
	srv.Fail("chat.update", slacktestx.Fault{Delay: time.Second})
	for i := 1; i <= 5; i++ {
		if err := c.Update(ctx, ref, hello(fmt.Sprintf("v%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := srv.Messages(ch)[0].Text; got != "v5" {
		t.Errorf("got %q, want the last update, v5", got)
	}
	if n := len(srv.Calls("chat.update")); n > 2 {
		t.Errorf("got %d calls of chat.update for 5 updates, want at most 2", n)
	}
	if m := c.Stats().Merged; m < 3 {
		t.Errorf("got %d updates merged, want at least 3", m)
	}
}

func TestAPostWhoseLastTryMayHaveLandedIsLookedUpAndNotRetriedByTheCaller(t *testing.T) {
	c, srv, _ := newChat(t, ChatConfig{Outbox: OutboxConfig{Attempts: 2, CallTimeout: 300 * time.Millisecond}})
	ch := srv.AddChannel("inc-9", false)
	srv.Fail("chat.postMessage", slacktestx.Fault{Status: 500})
	srv.Fail("chat.postMessage", slacktestx.Fault{Applied: true, Status: 500})
	ref, err := c.Post(context.Background(), bot.Place{Channel: ch}, hello("once"))
	if err != nil {
		t.Fatalf("got %v, want the post found after its last try landed", err)
	}
	if msgs := srv.Messages(ch); len(msgs) != 1 || msgs[0].TS != ref.TS {
		t.Fatalf("got %d messages, want the 1 that landed", len(msgs))
	}

	// When every try failed before landing, the error says not to post
	// again: the outbox has already tried all it would.
	srv.Fail("chat.postMessage", slacktestx.Fault{Status: 500})
	srv.Fail("chat.postMessage", slacktestx.Fault{Status: 500})
	_, err = c.Post(context.Background(), bot.Place{Channel: ch}, hello("never"))
	if err == nil || !fault.IsPermanent(err) {
		t.Errorf("got %v, want an error that is not worth a retry", err)
	}
}
