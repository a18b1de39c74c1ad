package slack

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
	"github.com/breadcrumb-oncall/breadcrumb/bot/slack/slacktestx"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
)

type gotAck struct {
	EnvelopeID string          `json:"envelope_id"`
	Payload    json.RawMessage `json:"payload"`
}

func nextAck(t *testing.T, srv *slacktestx.Server) gotAck {
	t.Helper()
	select {
	case raw := <-srv.Acks():
		var a gotAck
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatalf("got %s: %v", raw, err)
		}
		return a
	case <-time.After(10 * time.Second):
		t.Fatal("no acknowledgement")
		return gotAck{}
	}
}

func startSocket(t *testing.T, h bot.Handler, cfg InboundConfig) *slacktestx.Server {
	t.Helper()
	srv := slacktestx.New()
	t.Cleanup(srv.Close)
	api := NewAPI(APIConfig{BotToken: secret.New("xoxb-test"), AppToken: secret.New("xapp-test"), APIURL: srv.APIURL()})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	cfg.ResponseHosts = append(cfg.ResponseHosts, "127.0.0.1") // the tests' response_url servers
	go func() { done <- RunSocketMode(ctx, SocketConfig{InboundConfig: cfg, API: api}, h) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("RunSocketMode: %v", err)
		}
	})
	if err := srv.WaitSocket(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	return srv
}

func TestSocketModeAnswersACommandInItsAcknowledgement(t *testing.T) {
	rec := newRecorder()
	srv := startSocket(t, rec, InboundConfig{})
	cmd := map[string]any{"command": "/incident", "text": "status", "user_id": "U0ALICE", "channel_id": "C0INC", "trigger_id": "9.9.a", "response_url": "https://hooks.example/r"}
	env := map[string]any{"type": "slash_commands", "envelope_id": "env-1", "payload": cmd, "accepts_response_payload": true}
	if err := srv.SendEnvelope(env); err != nil {
		t.Fatal(err)
	}
	a := nextAck(t, srv)
	var p responsePayload
	if err := json.Unmarshal(a.Payload, &p); err != nil {
		t.Fatalf("got ack %s: %v", a.Payload, err)
	}
	if a.EnvelopeID != "env-1" || p.Text != "you said status" || p.ResponseType != "ephemeral" {
		t.Errorf("got %+v with %+v, want env-1 with the answer", a, p)
	}
	// The same envelope again, as Slack redelivers it.
	env["retry_attempt"] = 1
	env["retry_reason"] = "timeout"
	if err := srv.SendEnvelope(env); err != nil {
		t.Fatal(err)
	}
	if a := nextAck(t, srv); a.EnvelopeID != "env-1" || len(a.Payload) != 0 {
		t.Errorf("got %+v, want a bare acknowledgement", a)
	}
	if n, _, _, _ := rec.counts(); n != 1 {
		t.Errorf("got %d commands, want 1", n)
	}
}

func TestSocketModeEventsAreHandledOnceAcrossRedeliveries(t *testing.T) {
	rec := newRecorder()
	srv := startSocket(t, rec, InboundConfig{})
	var ev map[string]any
	if err := json.Unmarshal(reactionEvent("Ev0100", "pushpin", true), &ev); err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"env-2", "env-3"} {
		if err := srv.SendEnvelope(map[string]any{"type": "events_api", "envelope_id": id, "payload": ev, "retry_attempt": i}); err != nil {
			t.Fatal(err)
		}
		if a := nextAck(t, srv); a.EnvelopeID != id {
			t.Errorf("got ack of %q, want %q", a.EnvelopeID, id)
		}
	}
	rec.expect(t, "react")
	select {
	case <-rec.got:
		t.Error("got a second reaction for a redelivered event")
	case <-time.After(200 * time.Millisecond):
	}
}

func TestSocketModeSendsAFormBackWithItsErrors(t *testing.T) {
	rec := newRecorder()
	rec.submit = func(bot.Submission) error { return &bot.FormError{Fields: map[string]string{"hspI": "Too short"}} }
	srv := startSocket(t, rec, InboundConfig{})
	if err := srv.SendEnvelope(map[string]any{"type": "interactive", "envelope_id": "env-4", "payload": json.RawMessage(payload(t, "view_submission.bolt-python.json"))}); err != nil {
		t.Fatal(err)
	}
	a := nextAck(t, srv)
	var got formErrors
	if err := json.Unmarshal(a.Payload, &got); err != nil || got.Errors["hspI"] != "Too short" {
		t.Errorf("got %s, want the field's error", a.Payload)
	}
}

func TestSocketModeAcknowledgesASlowCommandAtOnceAndAnswersLater(t *testing.T) {
	rs := newResponses(t)
	rec := newRecorder()
	rec.delay = 300 * time.Millisecond
	srv := startSocket(t, rec, InboundConfig{AckWithin: 20 * time.Millisecond})
	cmd := map[string]any{"command": "/incident", "text": "timeline", "user_id": "U0ALICE", "channel_id": "C0INC", "trigger_id": "9.9.s", "response_url": rs.URL}
	if err := srv.SendEnvelope(map[string]any{"type": "slash_commands", "envelope_id": "env-5", "payload": cmd, "accepts_response_payload": true}); err != nil {
		t.Fatal(err)
	}
	if a := nextAck(t, srv); a.EnvelopeID != "env-5" || len(a.Payload) != 0 {
		t.Errorf("got %+v, want a bare acknowledgement", a)
	}
	if got := rs.next(t); got["text"] != "you said timeline" {
		t.Errorf("got %v at the response_url, want the answer", got)
	}
}
