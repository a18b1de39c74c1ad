package bot_test

import (
	"strings"
	"testing"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
)

// FuzzIncidentCommand types anything after /incident, in an incident's
// channel and elsewhere: every answer says something, and none puts the
// typed text into the notification text as markup.
func FuzzIncidentCommand(f *testing.F) {
	for _, s := range []string{"", "help", "declare x sev2 runbook:disk full", "assign <@U1|a> ic", "severity sev9",
		"note <!channel>", "export pdf", "ack INC-1", "timeline", "status extra", "reopen", "\x00\xff runbook:"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	w := newWorld(f, bot.Config{})
	general := w.chat.CreateChannel("general", "")
	w.command(alice, bot.Place{Channel: general.ID}, "incident", "declare Fuzzed")
	home := bot.Place{Channel: w.incident("INC-20261125-00001").Home.Channel}
	f.Fuzz(func(t *testing.T, s string, inHome bool) {
		place := bot.Place{Channel: general.ID}
		if inHome {
			place = home
		}
		m := w.bot.Command(ctx, bot.Command{Name: "incident", Text: s, User: alice, Place: place, Key: w.key()})
		if len(m.Blocks) == 0 || m.Text == "" {
			t.Fatalf("no answer to %q", s)
		}
		if strings.ContainsAny(m.Text, "<>&") {
			t.Errorf("notification text %q holds markup", m.Text)
		}
	})
}

// FuzzParseMention reads anything as a mention: what it accepts is a
// user ID and a name free of markup.
func FuzzParseMention(f *testing.F) {
	for _, s := range []string{"<@U1>", "<@U1|al>", "<!channel>", "<@U1|<@U2>>", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, ok := bot.ParseMention(s)
		if !ok {
			return
		}
		if u.ID == "" || strings.ContainsAny(u.ID+u.Name, "<>|") {
			t.Errorf("ParseMention(%q) = %+v", s, u)
		}
	})
}
