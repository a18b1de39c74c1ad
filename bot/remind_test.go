package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
	"github.com/breadcrumb-oncall/breadcrumb/bot/localchat"
	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// reminders returns the messages of an incident's home that are
// reminders (they start with the bell).
func (w *world) reminders(inc *incidents.Incident) []localchat.Posted {
	w.t.Helper()
	var out []localchat.Posted
	for _, p := range w.chat.All(inc.Home.Channel) {
		if strings.HasPrefix(p.Message.Text, "⏰") {
			out = append(out, p)
		}
	}
	return out
}

func TestARemindIsPostedInTheHomeWithAnAcknowledgeButton(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  bot.Config
	}{
		{"in a channel of its own", bot.Config{}},
		{"in a thread", bot.Config{Home: bot.HomeThread, DefaultChannel: "incidents"}},
	} {
		cfg := tt.cfg
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, cfg)
			w.chat.CreateChannel("incidents", "")
			d, _, err := w.svc.Declare(ctx, incidents.Declaration{Title: "Payments 5xx", Severity: 2}, incidents.Action{Key: "d1"})
			if err != nil {
				t.Fatal(err)
			}
			w.bot.Flush()
			inc := w.incident(d.ID)
			if inc.Home.Channel == "" {
				t.Fatalf("the incident has no home")
			}

			hostile := "Nobody acknowledged <!channel> & <@U1> yet"
			if err := w.bot.Remind(ctx, inc, hostile); err != nil {
				t.Fatalf("Remind = %v", err)
			}
			got := w.reminders(inc)
			if len(got) != 1 {
				t.Fatalf("%d reminders in the home, want 1", len(got))
			}
			p := got[0]
			if p.Thread != inc.Home.Thread {
				t.Errorf("the reminder is in thread %q, want %q (the home's)", p.Thread, inc.Home.Thread)
			}
			if cfg.Home == bot.HomeThread && p.Thread == "" {
				t.Errorf("the home is a thread, but the reminder is not in it")
			}
			if strings.ContainsAny(p.Message.Text, "<>&") {
				t.Errorf("the notification text %q holds markup characters", p.Message.Text)
			}
			sec, ok := p.Message.Blocks[0].(*bot.Section)
			if !ok {
				t.Fatalf("the reminder's first block is %T, want a section", p.Message.Blocks[0])
			}
			for _, s := range sec.Text {
				if s.Style != bot.Plain {
					t.Errorf("span %q has style %v, want plain text only", s.Text, s.Style)
				}
			}
			mustContain(t, "the reminder", text(p.Message), hostile)
			btn, ok := button(p.Message, "Acknowledge")
			if !ok || btn.Action != bot.ActionAck || btn.Value != inc.ID {
				t.Fatalf("the reminder's Acknowledge button is %+v (found %v), want action %s on %s", btn, ok, bot.ActionAck, inc.ID)
			}

			// The button acknowledges; a reminder after that has none.
			w.click(alice, p.Ref, "Acknowledge")
			if got := w.incident(inc.ID).Status; got != incidents.StatusAcknowledged {
				t.Errorf("after the reminder's button, the status is %s, want acknowledged", got)
			}
			if err := w.bot.Remind(ctx, inc, "No update for 30 min"); err != nil {
				t.Fatal(err)
			}
			got = w.reminders(inc)
			if len(got) != 2 {
				t.Fatalf("%d reminders in the home, want 2", len(got))
			}
			if _, ok := button(got[1].Message, "Acknowledge"); ok {
				t.Errorf("a reminder of an acknowledged incident has an Acknowledge button")
			}
		})
	}
}

func TestARemindOfAnIncidentWithoutAHomeFails(t *testing.T) {
	w := newWorld(t, bot.Config{})
	// A replica whose Service has no bot watching it opened this one.
	other := incidents.NewService(w.store, incidents.Options{})
	inc, _, err := other.Declare(ctx, incidents.Declaration{Title: "Disk full"}, incidents.Action{Key: "d1"})
	if err != nil {
		t.Fatal(err)
	}
	before := len(w.chat.Channels())
	if err := w.bot.Remind(ctx, inc, "nudge"); err == nil || !strings.Contains(err.Error(), inc.ID) {
		t.Errorf("Remind without a home = %v, want an error naming %s", err, inc.ID)
	}
	if got := len(w.chat.Channels()); got != before {
		t.Errorf("Remind without a home opened a channel")
	}
}

// TestTheReminderRunnerNudgesTheHomeOnce: incidents.Reminders with the
// bot's Remind as its post: each nudge is in the home once, and its
// event on the timeline adds no line of its own.
func TestTheReminderRunnerNudgesTheHomeOnce(t *testing.T) {
	w := newWorld(t, bot.Config{})
	d, _, err := w.svc.Declare(ctx, incidents.Declaration{Title: "Payments 5xx", Severity: 3}, incidents.Action{Key: "d1"})
	if err != nil {
		t.Fatal(err)
	}
	w.bot.Flush()
	r := incidents.NewReminders(w.svc, incidents.ReminderPolicy{}, func(ctx context.Context, inc *incidents.Incident, rem incidents.Reminder) error {
		return w.bot.Remind(ctx, inc, rem.Text)
	}, incidents.RemindersOptions{Now: w.clock.Now})
	inc := w.incident(d.ID)
	before := len(w.chat.All(inc.Home.Channel))
	w.clock.Advance(6 * time.Minute)
	for range 3 {
		if err := r.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		w.bot.Flush()
	}
	got := w.reminders(inc)
	if len(got) != 1 {
		t.Fatalf("%d reminders in the home, want 1", len(got))
	}
	mustContain(t, "the reminder", text(got[0].Message), "Nobody has acknowledged "+inc.ID)
	if n := len(w.chat.All(inc.Home.Channel)) - before; n != 1 {
		t.Errorf("%d messages added to the home, want 1 (the reminder)", n)
	}
}
