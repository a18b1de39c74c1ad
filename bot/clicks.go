package bot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// Click answers a button. Changes to an incident show through its
// messages, which the bot keeps current for everyone; the reply, when
// there is one, is for the user who pressed.
func (b *Bot) Click(ctx context.Context, c Click) *Message {
	action, _, _ := strings.Cut(c.Action, ":")
	switch action {
	case ActionOpenLink, ActionRunbookOpen, ActionRunbookWrite:
		return nil // the button opened its URL; the redirect records it
	case ActionRunbookGuided:
		return b.guidedFromSearch(ctx, c)
	case ActionRunbookSearch:
		// A search suggested for an incident without a runbook: its
		// hits, for the one who asked, as /runbook answers.
		m := b.runbookCommand(ctx, Command{Text: c.Value, User: c.User, Place: c.Place})
		return &m
	}
	id, step := splitValue(c.Value)
	inc, err := b.inc.Get(ctx, id)
	if err != nil {
		if errors.Is(err, incidents.ErrNotFound) {
			m := reply("That incident no longer exists.")
			return &m
		}
		m := b.failed("read "+id, err)
		return &m
	}
	var m Message
	switch action {
	case ActionAck:
		m = b.clickTransition(ctx, c, inc, incidents.StatusAcknowledged)
	case ActionMitigate:
		m = b.clickTransition(ctx, c, inc, incidents.StatusMitigated)
	case ActionResolve:
		m = b.clickTransition(ctx, c, inc, incidents.StatusResolved)
	case ActionReopen:
		m = b.clickTransition(ctx, c, inc, incidents.StatusTriggered)
	case ActionGuided:
		if len(inc.Steps) == 0 {
			m = reply(inc.ID + " has no runbook steps to follow.")
			break
		}
		if !b.q.push(inc.ID, func(ctx context.Context) { b.startGuided(ctx, id) }) {
			m = reply("The server is shutting down; try again in a moment.")
		}
	case ActionStepDone:
		m = b.clickStep(ctx, c, inc, step, incidents.StepDone)
	case ActionStepSkip:
		m = b.clickStep(ctx, c, inc, step, incidents.StepSkipped)
	case ActionStepBack:
		m = b.clickBack(ctx, c, inc, step)
	case ActionStepNote:
		if err := b.chat.OpenForm(ctx, c.Trigger, b.noteForm(inc.ID, step)); err != nil {
			b.log.Warn("bot: open the note form", "incident_id", inc.ID, "err", err)
			m = reply(fmt.Sprintf("Add the note with /%s note TEXT.", b.cfg.Commands.Incident))
		}
	default:
		m = reply("That button does nothing any more.")
	}
	if len(m.Blocks) == 0 && m.Text == "" {
		return nil
	}
	return &m
}

func (b *Bot) clickTransition(ctx context.Context, c Click, inc *incidents.Incident, to incidents.Status) Message {
	if inc.Status == to {
		return Message{} // someone else pressed first; everyone sees it
	}
	if _, err := b.inc.Transition(ctx, inc.ID, to, b.action(c.Key, c.User, "")); err != nil {
		return b.refused("transition", inc.ID, err)
	}
	return Message{}
}

// clickStep records a step done or skipped. A step that is no longer
// pending (another responder pressed first) is left as it is.
func (b *Bot) clickStep(ctx context.Context, c Click, inc *incidents.Incident, step int, state incidents.StepState) Message {
	b.addCard(inc.ID, c.Message)
	for _, st := range inc.Steps {
		if st.Number == step && st.State != incidents.StepPending {
			b.q.push(inc.ID, func(context.Context) {}) // refresh this card
			return Message{}
		}
	}
	if _, err := b.inc.Step(ctx, inc.ID, step, state, b.action(c.Key, c.User, "")); err != nil {
		return b.refused("step", inc.ID, err)
	}
	return Message{}
}

// clickBack reopens the step before the one shown (step 0: the last).
func (b *Bot) clickBack(ctx context.Context, c Click, inc *incidents.Incident, step int) Message {
	b.addCard(inc.ID, c.Message)
	prev := -1
	for i, st := range inc.Steps {
		if step > 0 && st.Number >= step {
			break
		}
		if st.State != incidents.StepPending {
			prev = i
		}
	}
	if prev < 0 {
		return Message{}
	}
	if _, err := b.inc.Step(ctx, inc.ID, inc.Steps[prev].Number, incidents.StepPending, b.action(c.Key, c.User, "")); err != nil {
		return b.refused("step", inc.ID, err)
	}
	return Message{}
}

// guidedFromSearch starts guided mode on a runbook found by /runbook.
// Progress lives on an incident: in an incident's home, the runbook is
// attached to it (replacing another); elsewhere, a form declares an
// incident with it.
func (b *Bot) guidedFromSearch(ctx context.Context, c Click) *Message {
	rbID := c.Value
	inc, err := b.incidentAt(ctx, c.Place)
	if err != nil {
		m := b.failed("find the incident of "+c.Place.Channel, err)
		return &m
	}
	if inc == nil || !inc.Status.Open() {
		title := ""
		if b.books != nil {
			if rb, ok := b.books.Get(rbID); ok {
				title = clip(rb.Title, maxTitle)
			}
		}
		if err := b.chat.OpenForm(ctx, c.Trigger, b.declareForm(declaration{Title: title, Runbook: rbID}, "guided")); err != nil {
			b.log.Warn("bot: open the declare form", "err", err)
			m := reply(fmt.Sprintf("Guided mode keeps its progress on an incident: /%s declare TITLE runbook:%s", b.cfg.Commands.Incident, rbID))
			return &m
		}
		return nil
	}
	if inc.Runbook == nil || inc.Runbook.ID != rbID {
		ref, steps, err := b.findRunbook(ctx, rbID)
		if err != nil {
			m := reply(err.Error())
			return &m
		}
		ref.Reason = "chosen from the search"
		if _, err := b.inc.AttachRunbook(ctx, inc.ID, *ref, steps, b.action(c.Key, c.User, "")); err != nil {
			m := b.refused("attach runbook", inc.ID, err)
			return &m
		}
	}
	id := inc.ID
	b.q.push(id, func(ctx context.Context) { b.startGuided(ctx, id) })
	return nil
}

// Submit takes a filled form: a declaration, or a note.
func (b *Bot) Submit(ctx context.Context, s Submission) error {
	switch s.Form {
	case FormDeclare:
		return b.submitDeclare(ctx, s)
	case FormNote:
		return b.submitNote(ctx, s)
	}
	return fmt.Errorf("bot: unknown form %q", s.Form)
}

func (b *Bot) submitDeclare(ctx context.Context, s Submission) error {
	title := strings.TrimSpace(s.Values["title"])
	problems := map[string]string{}
	switch {
	case title == "":
		problems["title"] = "Give the incident a title."
	case len(title) > maxTitle:
		problems["title"] = fmt.Sprintf("Keep the title under %d characters.", maxTitle)
	}
	sev := 0
	if v := strings.TrimSpace(s.Values["severity"]); v != "" {
		n, ok := parseSeverity(v)
		if !ok {
			problems["severity"] = "Choose a severity from 1 (worst) to 5."
		}
		sev = n
	}
	var rb *incidents.RunbookRef
	var steps []incidents.StepProgress
	if v := strings.TrimSpace(s.Values["runbook"]); v != "" {
		var err error
		if rb, steps, err = b.findRunbook(ctx, v); err != nil {
			problems["runbook"] = upperFirst(err.Error()) + "."
		}
	}
	if len(problems) > 0 {
		return &FormError{Fields: problems}
	}
	inc, created, err := b.inc.Declare(ctx, incidents.Declaration{Title: title, Severity: sev, Source: b.cfg.Source,
		Runbook: rb, Steps: steps}, b.action(s.Key, s.User, ""))
	if err != nil {
		if errors.Is(err, incidents.ErrInvalid) {
			return &FormError{Fields: map[string]string{"title": upperFirst(why(err)) + "."}}
		}
		return fmt.Errorf("bot: declare from a form: %w", err)
	}
	if created && s.State == "guided" && len(inc.Steps) > 0 {
		id := inc.ID
		// Queued after the declaration's own work, so after the home
		// is open.
		b.q.push(id, func(ctx context.Context) { b.startGuided(ctx, id) })
	}
	return nil
}

func (b *Bot) submitNote(ctx context.Context, s Submission) error {
	id, step := splitValue(s.State)
	text := strings.TrimSpace(s.Values["note"])
	if text == "" {
		return &FormError{Fields: map[string]string{"note": "Write the note."}}
	}
	if step > 0 {
		text = "Step " + strconv.Itoa(step) + ": " + text
	}
	if err := b.inc.Note(ctx, id, b.action(s.Key, s.User, text)); err != nil {
		if errors.Is(err, incidents.ErrInvalid) || errors.Is(err, incidents.ErrNotFound) {
			return &FormError{Fields: map[string]string{"note": upperFirst(why(err)) + "."}}
		}
		return fmt.Errorf("bot: note on %s: %w", id, err)
	}
	return nil
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// reactionKey prefixes the queue keys of reactions, which run in order
// per channel.
const reactionKey = "reactions:"

// React pins a message to the timeline of the incident whose home holds
// it when the pin emoji is added, and takes it off when it is removed.
// The work (reading the message) runs in the background.
func (b *Bot) React(_ context.Context, r Reaction) {
	if strings.Trim(r.Emoji, ":") != b.cfg.PinEmoji || r.Message.Channel == "" {
		return
	}
	if !b.knowsChannel(r.Message.Channel) {
		return
	}
	b.q.push(reactionKey+r.Message.Channel, func(ctx context.Context) { b.pin(ctx, r) })
}

// knowsChannel reports whether a channel holds an incident's home.
func (b *Bot) knowsChannel(ch string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.channels[ch] > 0
}

func (b *Bot) pin(ctx context.Context, r Reaction) {
	msg, err := b.chat.Message(ctx, r.Message)
	if err != nil {
		b.log.Error("bot: pin: read the message", "channel", r.Message.Channel, "ts", r.Message.TS, "err", err)
		return
	}
	place := Place{Channel: r.Message.Channel, Thread: msg.Thread}
	if place.Thread == "" {
		place.Thread = r.Message.TS // a thread's parent, or a channel's message
	}
	id, ok := b.lookupHome(place)
	if !ok {
		return
	}
	log := b.log.With("incident_id", id)
	msgID := r.Message.Channel + "/" + r.Message.TS
	a := b.action(r.Key, r.User, "")
	if !r.Added {
		if err := b.inc.Unpin(ctx, id, msgID, a); err != nil {
			log.Error("bot: unpin", "message", msgID, "err", err)
		}
		return
	}
	author := msg.Author.ID
	if author == "" {
		author = msg.Author.Name
	}
	pm := incidents.PinnedMessage{ID: msgID, Author: author, Text: clip(msg.Text, 3000), Permalink: msg.Permalink, At: msg.At}
	if err := b.inc.Pin(ctx, id, pm, a); err != nil {
		log.Error("bot: pin", "message", msgID, "err", err)
	}
}
