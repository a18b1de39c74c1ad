package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/bot/slack"
	"github.com/breadcrumb-oncall/breadcrumb/bot/slack/slacktestx"
)

// socketAck is a Socket Mode acknowledgement as the service sends it.
type socketAck struct {
	EnvelopeID string          `json:"envelope_id"`
	Payload    json.RawMessage `json:"payload"`
}

// envelope sends a Socket Mode envelope and returns its acknowledgement,
// skipping those of earlier envelopes.
func envelope(t *testing.T, srv *slacktestx.Server, env map[string]any) socketAck {
	t.Helper()
	if err := srv.SendEnvelope(env); err != nil {
		t.Fatalf("sending envelope %v: %v", env["envelope_id"], err)
	}
	stop := time.After(deadline)
	for {
		select {
		case raw := <-srv.Acks():
			var a socketAck
			if err := json.Unmarshal(raw, &a); err != nil {
				t.Fatalf("acknowledgement %s: %v", raw, err)
			}
			if a.EnvelopeID == env["envelope_id"] {
				return a
			}
		case <-stop:
			t.Fatalf("envelope %v not acknowledged within %v", env["envelope_id"], deadline)
			return socketAck{}
		}
	}
}

// TestAnIncidentOverSocketModeThroughTheService runs the service with
// SLACK_APP_TOKEN: no Slack path is served over HTTP, and the commands,
// clicks and events come through the Socket Mode connection it opens,
// each acknowledged, redeliveries changing nothing.
func TestAnIncidentOverSocketModeThroughTheService(t *testing.T) {
	srv := slacktestx.New()
	t.Cleanup(srv.Close)
	srv.AddUser(slacktestx.User{ID: alice, Name: "alice", Email: "alice@example.com"})
	vars := slackEnv(t, srv)
	delete(vars, "SLACK_SIGNING_SECRET")
	vars["SLACK_APP_TOKEN"] = "xapp-e2e-test"
	s := startServe(t, vars)
	if !strings.Contains(s.stderr.String(), "Slack over Socket Mode") {
		t.Errorf("the service does not say it speaks Slack over Socket Mode; stderr:\n%s", s.stderr)
	}
	if err := srv.WaitSocket(deadline); err != nil {
		t.Fatalf("no Socket Mode connection: %v; stderr:\n%s", err, s.stderr)
	}
	if code, _ := s.post(slack.CommandsPath, []byte("command=%2Fincident&text=help&user_id=U0ALICE"), nil); code == http.StatusOK {
		t.Errorf("POST %s: got 200, want it not served with Socket Mode", slack.CommandsPath)
	}
	general := srv.AddChannel("general", false)
	resp := newResponseURL(t)

	// cmd sends a slash command and returns its answer, in the
	// acknowledgement or, when late, through response_url.
	cmd := func(envID, text, channel string) string {
		path := "/socket/" + envID
		a := envelope(t, srv, map[string]any{"type": "slash_commands", "envelope_id": envID, "accepts_response_payload": true,
			"payload": map[string]any{"command": "/incident", "text": text, "user_id": alice, "user_name": "alice", "channel_id": channel,
				"trigger_id": envID + ".trigger", "response_url": resp.URL + path}})
		if len(a.Payload) > 0 {
			return string(a.Payload)
		}
		return resp.at(t, path)
	}
	if answer := cmd("env-declare", "declare Checkout latency sev3 runbook:examples:payments/PaymentsAPIHigh5xxRate.md", general); !strings.Contains(answer, "Declared INC-") {
		t.Fatalf("declare: got %s, want Declared INC-…", answer)
	}
	id := s.waitIncidents(1).Incidents[0].ID
	var inc apiIncident
	eventually(t, "the incident's home", func() (bool, string) {
		inc = s.incident(id)
		return inc.Incident.Home.Header != "", fmt.Sprintf("%+v", inc.Incident.Home)
	})
	home := inc.Incident.Home.Channel
	w := &slackWorld{t: t, slack: srv, svc: s, resp: resp}
	header, ok := w.message(home, inc.Incident.Home.Header)
	if !ok || !strings.Contains(string(header.Blocks), id) {
		t.Fatalf("no header of %s in %s", id, home)
	}

	// A click on the header's Start guided, then Done on the card.
	click := func(envID string, m slacktestx.Message, label string) {
		p, err := urlPayload(w.clickBody(alice, m, label))
		if err != nil {
			t.Fatal(err)
		}
		envelope(t, srv, map[string]any{"type": "interactive", "envelope_id": envID, "payload": p})
	}
	click("env-guided", header, "Start guided")
	card := w.messageWith(home, "Step 1 of")
	click("env-done", card, "Done")
	eventually(t, "step 1 done", func() (bool, string) {
		inc = s.incident(id)
		return inc.Incident.Steps[0].State == "done", inc.Incident.Steps[0].State
	})

	// A pin, delivered twice as Slack redelivers an envelope.
	said := srv.AddMessage(home, bob, "p99 back to 180ms", "")
	var ev map[string]any
	if err := json.Unmarshal(reactionBody("Ev0SOCKETPIN", alice, "pushpin", home, said, true), &ev); err != nil {
		t.Fatal(err)
	}
	envelope(t, srv, map[string]any{"type": "events_api", "envelope_id": "env-pin", "payload": ev})
	envelope(t, srv, map[string]any{"type": "events_api", "envelope_id": "env-pin", "payload": ev, "retry_attempt": 1, "retry_reason": "timeout"})
	eventually(t, "the pin on the timeline", func() (bool, string) {
		inc = s.incident(id)
		return inc.events("message.pinned") > 0, fmt.Sprintf("%d events", len(inc.Timeline))
	})

	if answer := cmd("env-resolve", "resolve", home); !strings.Contains(answer, "Resolved "+id) {
		t.Errorf("resolve: got %s, want Resolved %s", answer, id)
	}
	eventually(t, "the incident resolved", func() (bool, string) {
		inc = s.incident(id)
		return inc.Incident.Status == "resolved", inc.Incident.Status
	})
	if got := inc.events("message.pinned"); got != 1 {
		t.Errorf("message.pinned events: got %d, want 1 for an envelope delivered twice", got)
	}
	if got := len(srv.Calls("conversations.create")); got != 1 {
		t.Errorf("conversations.create: got %d calls, want 1", got)
	}
	s.stop()
	if strings.Contains(s.stderr.String(), "xapp-e2e-test") {
		t.Errorf("the app token reached the log")
	}
}

// urlPayload returns the payload field of an interaction's form body.
func urlPayload(form []byte) (json.RawMessage, error) {
	v, err := url.ParseQuery(string(form))
	if err != nil {
		return nil, err
	}
	p := v.Get("payload")
	if !json.Valid([]byte(p)) {
		return nil, fmt.Errorf("payload is not JSON: %.80s", p)
	}
	return json.RawMessage(p), nil
}
