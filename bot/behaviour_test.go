package bot_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
	"github.com/breadcrumb-oncall/breadcrumb/bot/localchat"
	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// untrusted reports what in m could let hostile text act as markup: a
// mention of U1 (which only the hostile text names), hostile text outside
// a Plain span, or in the message's Text, a header, a button or a form.
func untrusted(m bot.Message, hostile []string) []string {
	var bad []string
	holds := func(s string) bool {
		for _, h := range hostile {
			if strings.Contains(s, h) {
				return true
			}
		}
		return strings.Contains(s, "<!") || strings.Contains(s, "<@")
	}
	if holds(m.Text) {
		bad = append(bad, "message text: "+m.Text)
	}
	spans := func(t bot.Text) {
		for _, s := range t {
			if s.Style == bot.Mention && s.User == "U1" {
				bad = append(bad, "a mention of U1")
			}
			if s.Style != bot.Plain && (holds(s.Text) || holds(s.URL)) {
				bad = append(bad, "styled span: "+s.Text)
			}
		}
	}
	for _, b := range m.Blocks {
		switch b := b.(type) {
		case *bot.Header:
			if holds(b.Text) {
				bad = append(bad, "header: "+b.Text)
			}
		case *bot.Section:
			spans(b.Text)
			for _, f := range b.Fields {
				spans(f)
			}
		case *bot.Context:
			spans(b.Text)
		case *bot.Actions:
			for _, btn := range b.Buttons {
				if holds(btn.Label) || holds(btn.URL) {
					bad = append(bad, "button: "+btn.Label)
				}
			}
		}
	}
	return bad
}

func TestUntrustedTextNeverBecomesMarkup(t *testing.T) {
	w := newWorld(t, bot.Config{})
	general := w.chat.CreateChannel("general", "")
	hostile := []string{"<!channel>", "<@U1>", "<!here>"}
	var replies []bot.Message
	replies = append(replies, w.command(alice, bot.Place{Channel: general.ID}, "incident", "declare <!channel> & <@U1> sev3 runbook:"+payments5xx))
	id := "INC-20261125-00001"
	inc := w.incident(id)
	if inc.Title != "<!channel> & <@U1>" {
		t.Fatalf("got title %q", inc.Title)
	}
	home := bot.Place{Channel: inc.Home.Channel}
	res, err := w.svc.ReportAlerts(ctx, incidents.AlertGroup{Refs: map[string]string{incidents.RefAlertmanagerGroup: "g1"}, Source: "alertmanager",
		Alerts: []runbooks.Alert{{Name: "Pay<!here>", Summary: "<!channel> boom & <@U1>", Status: "firing", Fingerprint: "f1", StartsAt: w.clock.Now()}}},
		incidents.Action{})
	if err != nil {
		t.Fatal(err)
	}
	w.bot.Flush()
	hostileHome := bot.Place{Channel: w.incident(res.Incident.ID).Home.Channel}
	replies = append(replies,
		w.command(alice, home, "incident", "note <!here> look & see <@U1>"),
		w.command(alice, home, "incident", "status"),
		w.command(alice, home, "incident", "timeline"),
		w.command(alice, home, "incident", "assign <@U1|x> <!channel>"),
		w.command(alice, home, "incident", "frob <!channel>"),
		w.command(alice, home, "runbook", "<!channel> <@U1>"),
		w.command(alice, hostileHome, "incident", "status"),
		w.command(alice, hostileHome, "incident", "timeline"),
	)
	ref, _ := w.chat.Say(home, bob, "<!channel> pinned & <@U1>")
	w.bot.React(ctx, bot.Reaction{Emoji: "pushpin", Added: true, User: alice, Message: ref, Key: "r1"})
	w.bot.Flush()
	w.click(alice, bot.MessageRef{Channel: home.Channel, TS: inc.Home.Header}, "Start guided")

	checked := 0
	for i, m := range replies {
		if bad := untrusted(m, hostile); len(bad) > 0 {
			t.Errorf("reply %d: %v in:\n%s", i, bad, text(m))
		}
		checked++
	}
	for _, ch := range w.chat.Channels() {
		if strings.ContainsAny(ch.Topic, "<>&") || strings.ContainsAny(ch.Name, "<>&!@ ") {
			t.Errorf("channel %q has topic %q: want no markup", ch.Name, ch.Topic)
		}
		for _, p := range w.chat.All(ch.ID) {
			if p.Author != localchat.BotUser {
				continue
			}
			if bad := untrusted(p.Message, hostile); len(bad) > 0 {
				t.Errorf("message %s in %s: %v in:\n%s", p.Ref.TS, ch.Name, bad, text(p.Message))
			}
			checked++
		}
	}
	if checked < 12 {
		t.Errorf("checked %d messages, want the whole conversation", checked)
	}
	// The hostile text is shown, as text.
	header, _ := w.chat.Get(bot.MessageRef{Channel: home.Channel, TS: inc.Home.Header})
	mustContain(t, "header", text(header.Message), "<!channel> & <@U1>")
}

// TestBadInputGetsUsage runs commands that are wrong in every way; each
// answer explains itself, and none is empty or an error dump.
func TestBadInputGetsUsage(t *testing.T) {
	w := newWorld(t, bot.Config{})
	general := w.chat.CreateChannel("general", "")
	elsewhere := bot.Place{Channel: general.ID}
	w.command(alice, elsewhere, "incident", "declare Disk full sev3")
	home := bot.Place{Channel: w.incident("INC-20261125-00001").Home.Channel}
	w.command(alice, elsewhere, "incident", "declare Old news")
	if _, err := w.svc.Transition(ctx, "INC-20261125-00002", incidents.StatusResolved, incidents.Action{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, command, text string
		place               bot.Place
		want                string
	}{
		{"an empty /incident shows the usage", "incident", "", elsewhere, "/incident declare TITLE"},
		{"an unknown subcommand names itself", "incident", "frobnicate now", elsewhere, `I do not know "frobnicate"`},
		{"an unknown command names itself", "wat", "x", elsewhere, "I do not know the command /wat"},
		{"ack outside an incident's home asks for one", "incident", "ack", elsewhere, "Run this in an incident's channel, or name one"},
		{"an unknown incident is named", "incident", "ack INC-20991231-99999", elsewhere, "There is no incident INC-20991231-99999"},
		{"assign without a user asks for one", "incident", "assign commander", home, "assign: name the user"},
		{"assign with two users refuses", "incident", "assign <@U1> <@U2>", home, "neither a role nor the only user"},
		{"severity out of range", "incident", "severity 9", home, "severity: give a number from 1 (worst) to 5"},
		{"severity without a number", "incident", "severity", home, "severity: give a number"},
		{"export to an unknown format", "incident", "export pdf", home, "export: the format is md, html or json"},
		{"ack with arguments", "incident", "ack now please", home, "takes no arguments"},
		{"declare with two severities", "incident", "declare x sev1 sev2", elsewhere, "two severities"},
		{"declare with runbook: and nothing after it", "incident", "declare x runbook:", elsewhere, "name a runbook after"},
		{"declare with a runbook nothing matches", "incident", "declare x runbook:zzqqxxw", elsewhere, "no runbook matches"},
		{"a note without text and without a form", "incident", "note", home, "Write the note after note"},
		{"an empty /runbook explains itself", "runbook", "", elsewhere, "/runbook QUERY finds runbooks"},
		{"a search that finds nothing says so", "runbook", "zzqqxxw", elsewhere, "No runbook matches"},
		{"a change the rules refuse says why", "incident", "mitigate INC-20261125-00002", elsewhere, "it cannot go from resolved to mitigated"},
		{"a second severity of the same says so", "incident", "severity 3", home, "severity is already 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// No trigger: the bot cannot fall back to a form.
			m := w.bot.Command(ctx, bot.Command{Name: tt.command, Text: tt.text, User: alice, Place: tt.place, Key: w.key()})
			got := text(m)
			if len(m.Blocks) == 0 || m.Text == "" {
				t.Fatalf("got an empty answer %+v", m)
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("got\n%s\nwant it to say %q", got, tt.want)
			}
			for _, leak := range []string{"incidents:", ": invalid", "goroutine", "bolt"} {
				if strings.Contains(got, leak) {
					t.Errorf("got %q, which leaks %q", got, leak)
				}
			}
		})
	}
}

func TestMissingArgumentsOpenAForm(t *testing.T) {
	w := newWorld(t, bot.Config{})
	general := w.chat.CreateChannel("general", "")
	m := w.command(alice, bot.Place{Channel: general.ID}, "incident", "declare sev2")
	if len(m.Blocks) != 0 {
		t.Errorf("got reply %q, want none (the form answers)", text(m))
	}
	forms := w.chat.Forms()
	if len(forms) != 1 || forms[0].Form.ID != bot.FormDeclare || forms[0].Form.Fields[1].Initial != "2" {
		t.Fatalf("got forms %+v, want the declare form with severity 2", forms)
	}
	err := w.bot.Submit(ctx, bot.Submission{Form: bot.FormDeclare, Values: map[string]string{"title": "", "severity": "7", "runbook": "zzqqxxw"}, User: alice, Key: "s1"})
	fe, ok := err.(*bot.FormError)
	if !ok || fe.Fields["title"] == "" || fe.Fields["severity"] == "" || fe.Fields["runbook"] == "" {
		t.Fatalf("got %v, want a problem with the title, the severity and the runbook", err)
	}
	if err := w.bot.Submit(ctx, bot.Submission{Form: bot.FormDeclare, Values: map[string]string{"title": "Disk full", "severity": "2", "runbook": "disk full"}, User: alice, Key: "s2"}); err != nil {
		t.Fatal(err)
	}
	w.bot.Flush()
	inc := w.incident("INC-20261125-00001")
	if inc.Title != "Disk full" || inc.Severity != 2 || inc.Runbook == nil || inc.Runbook.Path != "platform/NodeDiskAlmostFull.md" {
		t.Errorf("got %q, severity %d, runbook %+v; want the disk runbook found by its words", inc.Title, inc.Severity, inc.Runbook)
	}
	if inc.Home.Channel == "" {
		t.Error("the incident declared by the form has no home")
	}
}

// TestStartGuidedFromASearch: outside an incident, a form declares one
// with the runbook and guided mode starts in its home; inside one, the
// runbook is attached to it.
func TestStartGuidedFromASearch(t *testing.T) {
	w := newWorld(t, bot.Config{})
	general := w.chat.CreateChannel("general", "")
	m := w.command(alice, bot.Place{Channel: general.ID}, "runbook", "disk full")
	btn, ok := button(m, "Start guided")
	if !ok || btn.Value != "examples:platform/NodeDiskAlmostFull.md" {
		t.Fatalf("got button %+v, want Start guided on the disk runbook", btn)
	}
	if r := w.press(alice, bot.MessageRef{Channel: general.ID}, btn); r != nil {
		t.Errorf("got reply %q, want the form only", text(*r))
	}
	forms := w.chat.Forms()
	if len(forms) != 1 || forms[0].Form.State != "guided" || forms[0].Form.Fields[0].Initial == "" {
		t.Fatalf("got forms %+v, want a declare form for guided mode with the runbook's title", forms)
	}
	values := map[string]string{}
	for _, f := range forms[0].Form.Fields {
		values[f.ID] = f.Initial
	}
	if err := w.bot.Submit(ctx, bot.Submission{Form: bot.FormDeclare, State: forms[0].Form.State, Values: values, User: alice, Key: "s1"}); err != nil {
		t.Fatal(err)
	}
	w.bot.Flush()
	inc := w.incident("INC-20261125-00001")
	if _, ok := w.lastWith(inc.Home.Channel, "Step 1 of"); !ok {
		t.Fatalf("no guided card in the new incident's home:\n%s", dump(w, inc.Home.Channel))
	}

	// In the incident's channel, another runbook from a search is
	// attached to it.
	home := bot.Place{Channel: inc.Home.Channel}
	m = w.command(alice, home, "runbook", "pods keep restarting")
	btn, _ = button(m, "Start guided")
	w.press(alice, bot.MessageRef{Channel: home.Channel}, btn)
	inc = w.incident(inc.ID)
	if inc.Runbook == nil || inc.Runbook.Path != "platform/PodCrashLooping.md" {
		t.Fatalf("got runbook %+v, want the crash-loop runbook attached", inc.Runbook)
	}
	if card, ok := w.lastWith(home.Channel, "Step 1 of"); !ok || !strings.Contains(text(card.Message), "Step 1 of "+strconv.Itoa(len(inc.Steps))) {
		t.Errorf("no card for the new runbook:\n%s", dump(w, home.Channel))
	}
	if _, ok := w.lastWith(home.Channel, "runbook: Pod crash looping"); !ok {
		t.Errorf("the channel does not say the runbook changed:\n%s", dump(w, home.Channel))
	}
}

// TestThreadHomes gives each incident a thread in its service's channel.
func TestThreadHomes(t *testing.T) {
	w := newWorld(t, bot.Config{Home: bot.HomeThread, Channels: map[string]string{"payments-api": "payments"}, DefaultChannel: "incidents"})
	res, err := w.svc.ReportAlerts(ctx, incidents.AlertGroup{Refs: map[string]string{incidents.RefAlertmanagerGroup: "g1"}, Service: "payments-api",
		Source: "alertmanager", Title: "Payments 5xx",
		Alerts: []runbooks.Alert{{Name: "PaymentsAPIHigh5xxRate", Status: "firing", Fingerprint: "f1", StartsAt: w.clock.Now()}}},
		incidents.Action{})
	if err != nil {
		t.Fatal(err)
	}
	w.bot.Flush()
	inc := w.incident(res.Incident.ID)
	ch, ok := w.chat.Channel("payments")
	if !ok || inc.Home.Channel != ch.ID || inc.Home.Thread == "" || inc.Home.Thread != inc.Home.Header {
		t.Fatalf("got home %+v, want a thread in #payments whose parent is the header", inc.Home)
	}
	mustContain(t, "header", w.posted(bot.MessageRef{Channel: ch.ID, TS: inc.Home.Header}), "Alerts: 1 firing", "PaymentsAPIHigh5xxRate")
	thread := bot.Place{Channel: ch.ID, Thread: inc.Home.Thread}
	mustContain(t, "ack in the thread", text(w.command(alice, thread, "incident", "ack")), "Acknowledged "+inc.ID)
	mustContain(t, "ack in the channel", text(w.command(alice, bot.Place{Channel: ch.ID}, "incident", "ack")), "Run this in an incident's channel")
	// Another service's incident goes to the default channel.
	w.command(alice, bot.Place{Channel: ch.ID}, "incident", "declare Disk full")
	if other, ok := w.chat.Channel("incidents"); !ok || len(w.chat.Conversation(other.ID)) != 1 {
		t.Errorf("the default channel does not hold the other incident's header")
	}

	// A pin in the thread; the ack's line is a reply in it.
	ref, err := w.chat.Say(thread, bob, "it was the deploy")
	if err != nil {
		t.Fatal(err)
	}
	w.bot.React(ctx, bot.Reaction{Emoji: "pushpin", Added: true, User: alice, Message: ref, Key: "r1"})
	w.bot.Flush()
	if e := lastOf(w.timeline(inc.ID), incidents.EventMessagePinned); e == nil || e.Text != "it was the deploy" {
		t.Errorf("got pin %+v, want bob's reply pinned", e)
	}
	if got := len(w.chat.Thread(ch.ID, inc.Home.Thread)); got < 3 {
		t.Errorf("the thread holds %d messages, want the header, the ack's line and bob's", got)
	}

	// All alerts resolved: an offer to resolve.
	w.clock.Advance(5 * time.Minute)
	if _, err := w.svc.ReportAlerts(ctx, incidents.AlertGroup{Refs: map[string]string{incidents.RefAlertmanagerGroup: "g1"}, Source: "alertmanager",
		Alerts: []runbooks.Alert{{Name: "PaymentsAPIHigh5xxRate", Status: "resolved", Fingerprint: "f1", StartsAt: w.clock.Now().Add(-5 * time.Minute), EndsAt: w.clock.Now()}}},
		incidents.Action{}); err != nil {
		t.Fatal(err)
	}
	w.bot.Flush()
	offer, ok := w.lastWith(ch.ID, "All alerts resolved")
	if !ok || offer.Thread != inc.Home.Thread {
		t.Fatalf("no offer to resolve in the thread:\n%s", dump(w, ch.ID))
	}
	w.click(bob, offer.Ref, "Resolve")
	if got := w.incident(inc.ID).Status; got != incidents.StatusResolved {
		t.Errorf("got status %s after Resolve, want resolved", got)
	}
}

// TestARestartedBotKnowsTheHomes: a new bot over the same store finds
// the open incidents' homes, and keeps a card it did not post current.
func TestARestartedBotKnowsTheHomes(t *testing.T) {
	w := newWorld(t, bot.Config{})
	general := w.chat.CreateChannel("general", "")
	w.command(alice, bot.Place{Channel: general.ID}, "incident", "declare Payments down runbook:"+payments5xx)
	inc := w.incident("INC-20261125-00001")
	w.click(alice, bot.MessageRef{Channel: inc.Home.Channel, TS: inc.Home.Header}, "Start guided")
	card, _ := w.lastWith(inc.Home.Channel, "Step 1 of 8")
	_ = w.bot.Close()

	lib, ix := exampleLibrary(t)
	w.bot = w.newBot(lib, ix)
	home := bot.Place{Channel: inc.Home.Channel}
	mustContain(t, "ack after a restart", text(w.command(alice, home, "incident", "ack")), "Acknowledged")
	w.click(bob, card.Ref, "Done")
	mustContain(t, "card after a restart", w.posted(card.Ref), "Step 2 of 8")
	mustContain(t, "header after a restart", w.posted(bot.MessageRef{Channel: home.Channel, TS: inc.Home.Header}), "acknowledged", "1 of 8 steps done")
}

func TestSameTitleSameDayGetsItsOwnChannel(t *testing.T) {
	w := newWorld(t, bot.Config{})
	general := w.chat.CreateChannel("general", "")
	w.command(alice, bot.Place{Channel: general.ID}, "incident", "declare Disk full")
	w.command(alice, bot.Place{Channel: general.ID}, "incident", "declare Disk full")
	a, b := w.incident("INC-20261125-00001"), w.incident("INC-20261125-00002")
	if a.Home.Channel == "" || a.Home.Channel == b.Home.Channel {
		t.Fatalf("got homes %+v and %+v, want two channels", a.Home, b.Home)
	}
	if ch, _ := w.chat.Channel(b.Home.Channel); ch.Name != "inc-20261125-disk-full-inc-20261125-00002" {
		t.Errorf("got channel name %q, want the ID appended", ch.Name)
	}
}

func TestNewRefusesABadConfig(t *testing.T) {
	w := newWorld(t, bot.Config{})
	tests := []struct {
		name string
		cfg  bot.Config
	}{
		{"an unknown home mode", bot.Config{Home: "dm"}},
		{"threads without a default channel", bot.Config{Home: bot.HomeThread}},
		{"a channel name with an unknown variable", bot.Config{ChannelName: "inc-{{team}}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := bot.New(tt.cfg, bot.Deps{Incidents: w.svc, Chat: w.chat}); err == nil {
				t.Error("got no error")
			}
		})
	}
	if _, err := bot.New(bot.Config{}, bot.Deps{Chat: w.chat}); err == nil {
		t.Error("got no error without incidents")
	}
}

// TestAnIncidentWhoseHomeTheBotForgotIsFoundAgain: the bot keeps a
// bounded number of homes in memory; a command typed in an older
// incident's home finds it in the store.
func TestAnIncidentWhoseHomeTheBotForgotIsFoundAgain(t *testing.T) {
	w := newWorld(t, bot.Config{})
	bot.BoundMemory(w.bot, 2, 2)
	general := w.chat.CreateChannel("general", "")
	for _, title := range []string{"Disk full", "Queue backlog", "Checkout slow"} {
		w.command(alice, bot.Place{Channel: general.ID}, "incident", "declare "+title+" sev3")
	}
	for i, id := range []string{"INC-20261125-00001", "INC-20261125-00002", "INC-20261125-00003"} {
		home := bot.Place{Channel: w.incident(id).Home.Channel}
		got := text(w.command(alice, home, "incident", "status"))
		if !strings.Contains(got, id) {
			t.Errorf("incident %d: /incident status in its home answered %q, want it to name %s", i+1, got, id)
		}
	}
}
