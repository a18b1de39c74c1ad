package bot_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// TestTheWholeStory follows an incident from the first search to the
// exported report, with two responders, in a channel of its own.
func TestTheWholeStory(t *testing.T) {
	w := newWorld(t, bot.Config{Invite: []string{"UONCALL"}})
	general := w.chat.CreateChannel("general", "")
	here := bot.Place{Channel: general.ID}

	// A search, only for the asker.
	m := w.command(alice, here, "runbook", "payments 500 errors")
	mustContain(t, "/runbook", text(m), "Payments API 5xx spike", "[Start guided]", "[Open] -> https://breadcrumb.example/runbooks/"+payments5xx)
	if got := w.chat.All(general.ID); len(got) != 0 {
		t.Errorf("the search posted %d messages in the channel, want none", len(got))
	}

	// Declared by hand, with a severity and a runbook.
	m = w.command(alice, here, "/incident", "declare Payments API 5xx sev2 runbook:"+payments5xx)
	mustContain(t, "declare", text(m), "Declared INC-20261125-00001")
	id := "INC-20261125-00001"
	inc := w.incident(id)
	if inc.Severity != 2 || inc.Runbook == nil || inc.Runbook.ID != payments5xx || len(inc.Steps) != 8 {
		t.Fatalf("got severity %d, runbook %+v, %d steps; want 2, %s, 8", inc.Severity, inc.Runbook, len(inc.Steps), payments5xx)
	}

	// Its home: a channel named after it, with the header.
	ch, ok := w.chat.Channel("inc-20261125-payments-api-5xx")
	if !ok {
		t.Fatalf("no incident channel among %+v", w.chat.Channels())
	}
	if !slices.Contains(ch.Members, "UONCALL") || !slices.Contains(ch.Members, alice.ID) {
		t.Errorf("got members %v, want UONCALL and %s", ch.Members, alice.ID)
	}
	if inc.Home.Channel != ch.ID || inc.Home.Header == "" || inc.Home.Thread != "" {
		t.Fatalf("got home %+v, want channel %s with a header", inc.Home, ch.ID)
	}
	header := bot.MessageRef{Channel: ch.ID, TS: inc.Home.Header}
	mustContain(t, "header", w.posted(header), id, "Payments API 5xx", "triggered", "SEV2", "Payments API 5xx spike", "0 of 8 steps done", "[Acknowledge]", "[Start guided]")
	home := bot.Place{Channel: ch.ID}

	// Guided mode, from the header.
	if r := w.click(alice, header, "Start guided"); r != nil {
		t.Errorf("Start guided replied %q, want nothing", text(*r))
	}
	card, ok := w.lastWith(ch.ID, "Step 1 of 8")
	if !ok {
		t.Fatalf("no step card in:\n%s", dump(w, ch.ID))
	}
	checklist, ok := w.lastWith(ch.ID, "Checklist")
	if !ok {
		t.Fatal("no checklist")
	}
	mustContain(t, "card", text(card.Message), "Find out whether the errors are everywhere", "```promql", "[Done]", "[Skip]", "[Add note]", "step 1 of 8")

	// Two responders: alice does step 1, bob skips step 2.
	w.click(alice, card.Ref, "Done")
	mustContain(t, "card after step 1", w.posted(card.Ref), "Step 2 of 8", "step 1 done by @UALICE", "[Back]")
	w.click(bob, card.Ref, "Skip")
	mustContain(t, "card after step 2", w.posted(card.Ref), "Step 3 of 8", "step 2 skipped by @UBOB")
	mustContain(t, "checklist", w.posted(checklist.Ref), "✅ 1.", "(done by @UALICE)", "⏭️ 2.", "(skipped by @UBOB)", "▶️ 3.")
	mustContain(t, "header", w.posted(header), "1 of 8 steps done, 1 skipped")

	// A press on a card already moved on changes nothing.
	before := len(w.timeline(id))
	w.press(bob, card.Ref, bot.Button{Action: bot.ActionStepDone, Value: id + "|1"})
	if got := len(w.timeline(id)); got != before {
		t.Errorf("a second Done on step 1 stored %d events, want none", got-before)
	}

	// Back reopens step 2.
	w.click(alice, card.Ref, "Back")
	mustContain(t, "card after Back", w.posted(card.Ref), "Step 2 of 8")
	if st := w.incident(id).Steps[1]; st.State != incidents.StepPending {
		t.Errorf("step 2 is %s after Back, want pending", st.State)
	}

	// A note on the step, through its form.
	w.click(bob, card.Ref, "Add note")
	forms := w.chat.Forms()
	if len(forms) != 1 || forms[0].Form.ID != bot.FormNote {
		t.Fatalf("got forms %+v, want the note form", forms)
	}
	if err := w.bot.Submit(ctx, bot.Submission{Form: bot.FormNote, State: forms[0].Form.State, Values: map[string]string{"note": ""}, User: bob, Key: w.key()}); err == nil {
		t.Error("an empty note was taken, want a form error")
	}
	if err := w.bot.Submit(ctx, bot.Submission{Form: bot.FormNote, State: forms[0].Form.State, Values: map[string]string{"note": "deploy 42 lines up"}, User: bob, Key: w.key()}); err != nil {
		t.Fatal(err)
	}
	w.bot.Flush()
	if e := lastOf(w.timeline(id), incidents.EventNote); e == nil || e.Text != "Step 2: deploy 42 lines up" || e.Actor != bob.ID {
		t.Errorf("got note %+v, want bob's on step 2", e)
	}

	// Commands in the incident's channel.
	mustContain(t, "ack", text(w.command(alice, home, "incident", "ack")), "Acknowledged "+id)
	mustContain(t, "ack again", text(w.command(alice, home, "incident", "ack")), "already acknowledged")
	mustContain(t, "assign", text(w.command(alice, home, "incident", "assign <@UBOB|bob> commander")), "@UBOB", "commander")
	mustContain(t, "severity", text(w.command(alice, home, "incident", "severity 1")), "SEV1")
	mustContain(t, "note", text(w.command(bob, home, "incident", "note rolled back to 41")), "Noted")
	mustContain(t, "header after commands", w.posted(header), "acknowledged", "SEV1", "Commander", "@UBOB")
	mustContain(t, "status", text(w.command(bob, home, "incident", "status")), "acknowledged", "SEV1")
	if _, ok := w.lastWith(ch.ID, "status triggered → acknowledged"); !ok {
		t.Errorf("the channel does not say the incident was acknowledged:\n%s", dump(w, ch.ID))
	}

	// A pin, and its removal.
	said, err := w.chat.Say(home, bob, "error rate back under 1%")
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(time.Minute)
	w.bot.React(ctx, bot.Reaction{Emoji: "pushpin", Added: true, User: alice, Message: said, Key: w.key()})
	w.bot.React(ctx, bot.Reaction{Emoji: "thumbsup", Added: true, User: alice, Message: said, Key: w.key()})
	w.bot.Flush()
	pin := lastOf(w.timeline(id), incidents.EventMessagePinned)
	if pin == nil || pin.Text != "error rate back under 1%" || pin.Data["author"] != bob.ID || pin.Actor != alice.ID ||
		!strings.HasPrefix(pin.Data["url"], "https://chat.example/archives/") {
		t.Fatalf("got pin %+v, want bob's message pinned by alice with its permalink", pin)
	}
	if !pin.At.Equal(w.clock.Now().Add(-time.Minute)) {
		t.Errorf("the pin is at %s, want the message's own time %s", pin.At, w.clock.Now().Add(-time.Minute))
	}
	w.bot.React(ctx, bot.Reaction{Emoji: "pushpin", Added: false, User: alice, Message: said, Key: w.key()})
	w.bot.Flush()
	if e := lastOf(w.timeline(id), incidents.EventMessageUnpinned); e == nil || e.Data["message"] != pin.Data["message"] {
		t.Errorf("got unpin %+v, want the pinned message taken off", e)
	}

	// The timeline, then resolve and export.
	mustContain(t, "timeline", text(w.command(bob, home, "incident", "timeline")), "Timeline of "+id, "note: rolled back to 41", "unpinned")
	mustContain(t, "resolve", text(w.command(alice, home, "incident", "resolve")), "Resolved "+id)
	mustContain(t, "header resolved", w.posted(header), "resolved", "[Reopen]")
	mustContain(t, "export", text(w.command(alice, home, "incident", "export html")), "Writing the report")
	ups := w.chat.Uploads()
	if len(ups) != 1 || ups[0].To.Channel != ch.ID || ups[0].File.Type != "html" || ups[0].File.Name != id+"-report.html" ||
		!strings.Contains(string(ups[0].File.Content), id) {
		t.Fatalf("got uploads %+v, want the HTML report in the incident's channel", ups)
	}
	// Commands still find a resolved incident's channel.
	mustContain(t, "export md", text(w.command(alice, home, "incident", "export")), "Writing the report")
	if ups := w.chat.Uploads(); len(ups) != 2 || ups[1].File.Type != "markdown" {
		t.Errorf("got %d uploads, the last %+v; want a markdown report second", len(ups), ups[len(ups)-1].File)
	}
}

func lastOf(evs []incidents.Event, typ incidents.EventType) *incidents.Event {
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Type == typ {
			return &evs[i]
		}
	}
	return nil
}

func dump(w *world, channel string) string {
	var b strings.Builder
	for _, p := range w.chat.All(channel) {
		b.WriteString("--- " + p.Ref.TS + "\n" + text(p.Message) + "\n")
	}
	return b.String()
}
