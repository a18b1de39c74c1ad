package main

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/bot/slack"
	"github.com/breadcrumb-oncall/breadcrumb/bot/slack/slacktestx"
	"github.com/breadcrumb-oncall/breadcrumb/internal/redistest"
)

// replicaEnv is slackEnv for one of several services sharing a Redis
// from redistest, each with a data directory of its own.
func replicaEnv(t *testing.T, srv *slacktestx.Server, redisURL, prefix string) map[string]string {
	vars := slackEnv(t, srv)
	vars["BREADCRUMB_REDIS_URL"] = redisURL
	vars["BREADCRUMB_REDIS_PREFIX"] = prefix
	return vars
}

// redisForServe returns the URL of a redis-server for the service and a
// key prefix of the test's own; it skips the test without one (fails
// under CI).
func redisForServe(t *testing.T) (string, string) {
	t.Helper()
	opts, prefix := redistest.Server(t)
	u := &url.URL{Scheme: "redis", Host: opts.Addr, Path: fmt.Sprintf("/%d", opts.DB)}
	if opts.Password != "" {
		u.User = url.UserPassword(opts.Username, opts.Password)
	}
	return u.String(), prefix
}

// waitSlackQuiet waits until the Slack server has had no call for quiet
// and cond holds, and fails with what cond last said.
func waitSlackQuiet(t *testing.T, srv *slacktestx.Server, quiet time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	stop := time.Now().Add(deadline + quiet)
	calls, since, last := -1, time.Now(), ""
	for time.Now().Before(stop) {
		if n := len(srv.Calls("")); n != calls {
			calls, since = n, time.Now()
		}
		ok, msg := cond()
		if ok && time.Since(since) >= quiet {
			return
		}
		last = msg
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s: not within %v once Slack was quiet; last: %s", what, deadline+quiet, last)
}

// TestAHeaderStaysCurrentWhenTwoReplicasChangeItsIncident runs two
// services on one Redis. One of them changes the incident's severity,
// and its update of the header is slow to reach Slack; meanwhile the
// other changes the severity again and updates the header at once. Once
// all is said, the header must show the incident as it is.
func TestAHeaderStaysCurrentWhenTwoReplicasChangeItsIncident(t *testing.T) {
	redisURL, prefix := redisForServe(t)
	srv := slacktestx.New()
	t.Cleanup(srv.Close)
	resp := newResponseURL(t)
	a := &slackWorld{t: t, slack: srv, resp: resp, svc: startServe(t, replicaEnv(t, srv, redisURL, prefix))}
	b := &slackWorld{t: t, slack: srv, resp: resp, svc: startServe(t, replicaEnv(t, srv, redisURL, prefix))}
	general := srv.AddChannel("general", false)

	if out := a.command(alice, general, "/incident declare Checkout latency sev2"); !strings.Contains(out, "Declared INC-") {
		t.Fatalf("declare: got %s", out)
	}
	id := a.svc.waitIncidents(1).Incidents[0].ID
	var inc apiIncident
	eventually(t, "the incident's home", func() (bool, string) {
		inc = b.svc.incident(id)
		return inc.Incident.Home.Header != "", fmt.Sprintf("%+v", inc.Incident.Home)
	})
	home, header := inc.Incident.Home.Channel, inc.Incident.Home.Header
	shows := func(sev string) func() (bool, string) {
		return func() (bool, string) {
			m, ok := a.message(home, header)
			return ok && strings.Contains(string(m.Blocks), sev), string(m.Blocks)
		}
	}
	waitSlackQuiet(t, srv, time.Second, "the header at SEV2", shows("SEV2"))

	// Replica a's next update of the header takes 3 seconds to apply.
	srv.Fail("chat.update", slacktestx.Fault{Delay: 3 * time.Second})
	updates := len(srv.Calls("chat.update"))
	a.command(alice, home, "/incident severity 3")
	eventually(t, "replica a's update of the header sent", func() (bool, string) {
		n := len(srv.Calls("chat.update"))
		return n > updates, fmt.Sprintf("%d updates", n)
	})
	b.command(bob, home, "/incident severity 4")
	eventually(t, "the incident at SEV4", func() (bool, string) {
		inc = a.svc.incident(id)
		return inc.Incident.Severity == 4, fmt.Sprintf("severity %d", inc.Incident.Severity)
	})
	// Quiet for longer than the slow update takes, so that it has landed.
	waitSlackQuiet(t, srv, 4*time.Second, "the header showing SEV4, as the incident is", shows("SEV4"))
}

// TestSlackDeliveriesSplitBetweenTwoReplicasAreHandledOnce runs two
// services on one Redis behind one Slack app: a command and its retry, a
// click and an event each reach one replica and their retries the other.
// Each is handled once, and a card one replica posted is kept current by
// the other when its button is pressed there.
func TestSlackDeliveriesSplitBetweenTwoReplicasAreHandledOnce(t *testing.T) {
	redisURL, prefix := redisForServe(t)
	srv := slacktestx.New()
	t.Cleanup(srv.Close)
	resp := newResponseURL(t)
	a := &slackWorld{t: t, slack: srv, resp: resp, svc: startServe(t, replicaEnv(t, srv, redisURL, prefix))}
	b := &slackWorld{t: t, slack: srv, resp: resp, svc: startServe(t, replicaEnv(t, srv, redisURL, prefix))}
	general := srv.AddChannel("general", false)
	retry := map[string]string{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}

	declare, path := a.commandBody(alice, general, "/incident declare Search down sev1 runbook:examples:payments/PaymentsAPIHigh5xxRate.md")
	out := a.mustSend(signedRequest{path: slack.CommandsPath, body: declare})
	if strings.TrimSpace(out) == "" {
		out = resp.at(t, path)
	}
	if !strings.Contains(out, "Declared INC-") {
		t.Fatalf("declare on replica a: got %s", out)
	}
	if again := b.mustSend(signedRequest{path: slack.CommandsPath, body: declare, headers: retry}); strings.TrimSpace(again) != "" {
		t.Errorf("the declare retried on replica b: got the answer %s, want none", again)
	}
	id := b.svc.waitIncidents(1).Incidents[0].ID
	var inc apiIncident
	eventually(t, "the incident's home", func() (bool, string) {
		inc = b.svc.incident(id)
		return inc.Incident.Home.Header != "", fmt.Sprintf("%+v", inc.Incident.Home)
	})
	home := inc.Incident.Home.Channel
	header, ok := a.message(home, inc.Incident.Home.Header)
	if !ok {
		t.Fatalf("no header %s in %s", inc.Incident.Home.Header, home)
	}

	// Guided mode started on replica a; Done pressed on replica b, and
	// again, as a retry, on replica a.
	a.mustSend(signedRequest{path: slack.InteractionsPath, body: a.clickBody(alice, header, "Start guided")})
	card := a.messageWith(home, "Step 1 of")
	done := b.clickBody(bob, card, "Done")
	b.mustSend(signedRequest{path: slack.InteractionsPath, body: done})
	a.mustSend(signedRequest{path: slack.InteractionsPath, body: done, headers: retry})
	eventually(t, "the card, pressed on replica b, at step 2", func() (bool, string) {
		card, _ = a.message(home, card.TS)
		return strings.Contains(string(card.Blocks), "Step 2 of"), string(card.Blocks)
	})

	// A pin on replica b, its retry on replica a.
	said := srv.AddMessage(home, bob, "search nodes back", "")
	pin := reactionBody("Ev0SPLITPIN", alice, "pushpin", home, said, true)
	b.mustSend(signedRequest{path: slack.EventsPath, body: pin})
	a.mustSend(signedRequest{path: slack.EventsPath, body: pin, headers: retry})
	eventually(t, "the pin on the timeline", func() (bool, string) {
		inc = a.svc.incident(id)
		return inc.events("message.pinned") > 0, fmt.Sprintf("%d events", len(inc.Timeline))
	})

	// Resolved on replica b: the header, posted by replica a, says so.
	if out := b.command(alice, home, "/incident resolve"); !strings.Contains(out, "Resolved "+id) {
		t.Errorf("resolve on replica b: got %s", out)
	}
	eventually(t, "the header resolved", func() (bool, string) {
		h, _ := a.message(home, inc.Incident.Home.Header)
		return headerStatus(h.Blocks) == "resolved", string(h.Blocks)
	})
	inc = a.svc.incident(id)
	for typ, want := range map[string]int{"incident.declared": 1, "step.done": 1, "message.pinned": 1} {
		if got := inc.events(typ); got != want {
			t.Errorf("%s events: got %d, want %d", typ, got, want)
		}
	}
	if got := len(srv.Calls("conversations.create")); got != 1 {
		t.Errorf("conversations.create: got %d calls, want 1", got)
	}
}
