package bot_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
	"github.com/breadcrumb-oncall/breadcrumb/bot/localchat"
	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
	"github.com/breadcrumb-oncall/breadcrumb/search/memory"
)

// rememberingWorld is a world whose bot knows the past incidents, kept
// by a Keeper as the incidents change.
func rememberingWorld(t *testing.T) (*world, *memory.Keeper) {
	w := newWorld(t, bot.Config{})
	ix, err := memory.Open(t.TempDir(), memory.Options{Now: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ix.Close() })
	k := memory.NewKeeper(ix, w.svc, nil)
	w.svc.Subscribe(k)
	lib, search := exampleLibrary(t)
	_ = w.bot.Close()
	b, err := bot.New(w.cfg, bot.Deps{Incidents: w.svc, Search: bot.SearchIndex(search), Runbooks: lib, Chat: w.chat, Now: w.clock.Now,
		Memory: ix, IncidentURL: func(id string) string { return "https://breadcrumb.example/incidents/" + id }})
	if err != nil {
		t.Fatal(err)
	}
	w.svc.Subscribe(b)
	w.bot = b
	return w, k
}

// fireAlert opens an incident for one alert, as Alertmanager would.
func (w *world) fireAlert(group, name, summary string) *incidents.Incident {
	w.t.Helper()
	res, err := w.svc.ReportAlerts(ctx, incidents.AlertGroup{Refs: map[string]string{incidents.RefAlertmanagerGroup: group}, Title: summary, Source: "alertmanager",
		Alerts: []runbooks.Alert{{Name: name, Labels: map[string]string{"alertname": name, "namespace": "shop", "service": "checkout"}, Summary: summary,
			Status: "firing", Fingerprint: group, StartsAt: w.clock.Now()}}}, incidents.Action{})
	if err != nil {
		w.t.Fatal(err)
	}
	w.bot.Flush()
	return res.Incident
}

func TestANewIncidentSaysOnceThatItsAlertWasSeenBeforeAndWhatResolvedIt(t *testing.T) {
	w, k := rememberingWorld(t)
	for i := range 2 {
		inc := w.fireAlert(fmt.Sprintf("past-%d", i), "KubePodCrashLooping", "Pod checkout is restarting")
		w.clock.Advance(5 * time.Minute)
		home := bot.Place{Channel: w.incident(inc.ID).Home.Channel}
		w.command(alice, home, "incident", "note raised the memory limit to 2Gi <b>after</b> the OOMKill")
		w.clock.Advance(7 * time.Minute)
		w.command(alice, home, "incident", "resolve")
		w.clock.Advance(24 * time.Hour)
	}
	k.Flush(ctx)

	now := w.fireAlert("now", "KubePodCrashLooping", "Pod checkout is restarting again")
	home := w.incident(now.ID).Home.Channel
	var seen []string
	for _, p := range w.chat.Conversation(home) {
		if txt := localchat.Text(p.Message); strings.Contains(txt, "Seen before") {
			seen = append(seen, txt)
		}
	}
	if len(seen) != 1 {
		t.Fatalf("the home holds %d “seen before” messages, want one", len(seen))
	}
	for _, want := range []string{"2 times in 30 days", "raised the memory limit to 2Gi <b>after</b> the OOMKill", "in 12 min"} {
		if !strings.Contains(seen[0], want) {
			t.Errorf("“seen before” lacks %q:\n%s", want, seen[0])
		}
	}
	// More changes to the incident post nothing more of the kind.
	w.command(alice, bot.Place{Channel: home}, "incident", "ack")
	w.command(alice, bot.Place{Channel: home}, "incident", "note looking")
	n := 0
	for _, p := range w.chat.Conversation(home) {
		if strings.Contains(localchat.Text(p.Message), "Seen before") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("after more changes the home holds %d “seen before” messages, want one", n)
	}

	m := w.command(alice, bot.Place{Channel: home}, "incident", "similar")
	txt := localchat.Text(m)
	for _, want := range []string{"Past incidents like " + now.ID, "same alert KubePodCrashLooping", "Resolved by:", "raised the memory limit", "resolved in 12 min"} {
		if !strings.Contains(txt, want) {
			t.Errorf("/incident similar lacks %q:\n%s", want, txt)
		}
	}
	if m := w.command(alice, bot.Place{Channel: home}, "incident", "similar now"); !strings.Contains(localchat.Text(m), "similar takes no arguments") {
		t.Errorf("/incident similar now: got %s, want its usage", localchat.Text(m))
	}
}

func TestAnAlertNeverSeenSaysNothingOfThePast(t *testing.T) {
	w, k := rememberingWorld(t)
	k.Flush(ctx)
	inc := w.fireAlert("new", "KafkaConsumerLagHigh", "Lag on orders")
	for _, p := range w.chat.Conversation(w.incident(inc.ID).Home.Channel) {
		if strings.Contains(localchat.Text(p.Message), "Seen before") {
			t.Errorf("a new alert's home says it was seen before:\n%s", localchat.Text(p.Message))
		}
	}
	m := w.command(alice, bot.Place{Channel: w.incident(inc.ID).Home.Channel}, "incident", "similar")
	if !strings.Contains(localchat.Text(m), "No past incident is like") {
		t.Errorf("/incident similar: got %s, want that none is like it", localchat.Text(m))
	}
}
