package bot

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/internal/fault"
)

// Observe learns of a change to an incident, whoever made it (this bot
// included), and queues the work it calls for: opening the home of a new
// incident, a line in the home for what happened, and bringing the
// header, the guided cards and the checklist up to date. It returns at
// once; the work runs in order per incident, traced as a child of the
// span in ctx when there is one.
func (b *Bot) Observe(ctx context.Context, inc *incidents.Incident, events []incidents.Event) {
	if inc == nil || len(events) == 0 {
		return
	}
	b.remember(inc)
	if !b.q.pushFrom(trace.SpanContextFromContext(ctx), inc.ID, func(ctx context.Context) { b.apply(ctx, inc, events) }) {
		b.log.Warn("bot: change of an incident left unshown: closing", "incident_id", inc.ID)
	}
}

// apply does what a change calls for; the messages kept current are
// refreshed when the incident's queue runs dry (idle).
func (b *Bot) apply(ctx context.Context, inc *incidents.Incident, events []incidents.Event) {
	log := b.log.With("incident_id", inc.ID)
	resolvedAlert := false
	for _, e := range events {
		switch e.Type {
		case incidents.EventDeclared:
			if err := b.openHome(ctx, inc.ID, e.Actor, e.Source); err != nil {
				log.Error("bot: open the incident's home", "err", err)
			}
		case incidents.EventAlertResolved:
			resolvedAlert = true
		case incidents.EventStatusChanged, incidents.EventSeverityChanged, incidents.EventRoleChanged,
			incidents.EventNote, incidents.EventRunbookAttached:
			if e.Type == incidents.EventRunbookAttached && e.Key != "" && strings.HasSuffix(e.Key, "/runbook") {
				continue // attached at declaration: the header shows it
			}
			b.say(ctx, inc.ID, Message{Text: inc.ID + ": " + string(e.Type), Blocks: []Block{&Context{Text: eventLine(e)}}})
		}
	}
	if resolvedAlert && inc.Status.Open() && len(inc.Alerts) > 0 && !anyFiring(inc.Alerts) {
		b.say(ctx, inc.ID, Message{Text: inc.ID + ": all alerts resolved", Blocks: []Block{
			&Section{Text: Text{B("All alerts resolved."), P(" Resolve " + inc.ID + " if the incident is over.")}},
			&Actions{Buttons: []Button{{Label: "Resolve", Action: ActionResolve, Value: inc.ID, Style: "primary"}}},
		}})
	}
}

func anyFiring(alerts []incidents.AlertState) bool {
	for _, a := range alerts {
		if a.Status != "resolved" {
			return true
		}
	}
	return false
}

// say posts a message in the incident's home, when it has one.
func (b *Bot) say(ctx context.Context, id string, m Message) {
	inc, err := b.inc.Get(ctx, id)
	if err != nil {
		b.log.Error("bot: read the incident", "incident_id", id, "err", err)
		return
	}
	if inc.Home.Channel == "" {
		return
	}
	if _, err := b.post(ctx, homeKey(inc.Home), m); err != nil {
		b.log.Error("bot: post in the incident's home", "incident_id", id, "err", err)
	}
}

// post posts, trying again a few times when the chat says a retry makes
// sense.
func (b *Bot) post(ctx context.Context, to Place, m Message) (MessageRef, error) {
	var ref MessageRef
	err := retry(ctx, func() error {
		var err error
		ref, err = b.chat.Post(ctx, to, m)
		return err
	})
	return ref, err
}

// retry calls fn up to 3 times while it fails with an error that says a
// retry may help (fault.IsTemporary).
func retry(ctx context.Context, fn func() error) error {
	delay := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || attempt == 3 || !fault.IsTemporary(err) {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		delay *= 2
	}
}

// openHome opens a new incident's channel or thread, posts its header
// there and records both on the incident.
func (b *Bot) openHome(ctx context.Context, id, actor, source string) error {
	inc, err := b.inc.Get(ctx, id)
	if err != nil {
		return err
	}
	if inc.Home.Channel != "" {
		b.remember(inc)
		return nil
	}
	h := Home{Topic: inc.ID + " · " + topicText(inc.Title)}
	if b.cfg.Home == HomeThread {
		h.Channel = b.cfg.DefaultChannel
		if ch := b.cfg.Channels[inc.Service]; ch != "" {
			h.Channel = ch
		}
	} else {
		h.Name = channelName(b.cfg.ChannelName, inc.ID, inc.Title, inc.Service, inc.Severity, inc.CreatedAt)
		h.Invite = append(h.Invite, b.cfg.Invite...)
		if actor != "" && source == b.cfg.Source && isUserID(actor) {
			h.Invite = append(h.Invite, actor)
		}
	}
	var place Place
	if err := retry(ctx, func() error { place, err = b.chat.OpenHome(ctx, h); return err }); err != nil {
		return err
	}
	if b.cfg.Home == HomeChannel {
		// A channel of that name may hold another incident (the same
		// title on the same day): this one gets a name of its own.
		if other, ok := b.lookupHome(Place{Channel: place.Channel}); ok && other != id {
			suffix := "-" + slug(id)
			h.Name = clipName(h.Name, maxChannelName-len(suffix)) + suffix
			if err := retry(ctx, func() error { place, err = b.chat.OpenHome(ctx, h); return err }); err != nil {
				return err
			}
		}
	}
	m := b.header(inc)
	ref, err := b.post(ctx, Place{Channel: place.Channel}, m)
	if err != nil {
		return err
	}
	home := incidents.Home{Channel: ref.Channel, Header: ref.TS}
	if b.cfg.Home == HomeThread {
		home.Thread = ref.TS
	}
	// Known here before the store has it: whoever sees the home recorded
	// (a reaction, a command in the channel) finds the bot knows it too.
	inc.Home = home
	b.remember(inc)
	if _, err := b.inc.SetHome(ctx, id, home); err != nil {
		return err
	}
	b.mu.Lock()
	b.stateOf(id).rendered[ref] = fingerprint(m)
	b.mu.Unlock()
	// Once, as the home opens: the same alert seen before, and what
	// resolved it then.
	if seen := b.seenBefore(ctx, inc); !seen.Empty() {
		to := Place{Channel: home.Channel, Thread: home.Thread}
		if _, err := b.post(ctx, to, seen); err != nil {
			b.log.Warn("bot: the past incidents were not posted", "incident_id", id, "err", err)
		}
	}
	return nil
}

// topicText keeps a title fit for a channel topic, where the platform
// may read markup: no angle brackets or ampersands, one line.
func topicText(s string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '<', '>', '&', '\n', '\r', '\t':
			return ' '
		}
		return r
	}, s)
	return clip(strings.TrimSpace(s), 200)
}

// fingerprint identifies a message's content, to skip updates that
// change nothing: a hash of it, for the bot keeps one for every message
// it keeps current, of every incident.
func fingerprint(m Message) string {
	type block struct {
		Kind string
		B    Block
	}
	bs := make([]block, 0, len(m.Blocks))
	for _, b := range m.Blocks {
		bs = append(bs, block{Kind: blockKind(b), B: b})
	}
	out, _ := json.Marshal(struct {
		Text    string
		Blocks  []block
		Replace bool
	}{m.Text, bs, m.Replace})
	sum := sha256.Sum256(out)
	return string(sum[:])
}

func blockKind(b Block) string {
	switch b.(type) {
	case *Header:
		return "header"
	case *Section:
		return "section"
	case *Code:
		return "code"
	case *Context:
		return "context"
	case *Actions:
		return "actions"
	case *Divider:
		return "divider"
	}
	return "other"
}

// maxHeaderRounds bounds the updates of a header in one refresh, while
// other replicas keep changing its incident.
const maxHeaderRounds = 5

// idle brings the incident's messages up to date once its queue has run
// dry: the header, the guided cards and the checklist are functions of
// the incident's state, so one refresh covers a burst of changes.
func (b *Bot) idle(ctx context.Context, key string) {
	if strings.HasPrefix(key, reactionKey) {
		return
	}
	inc, err := b.inc.Get(ctx, key)
	if err != nil {
		if !errors.Is(err, incidents.ErrNotFound) {
			b.log.Error("bot: read the incident to refresh its messages", "incident_id", key, "err", err)
		}
		return
	}
	if inc.Home.Channel == "" || inc.Home.Header == "" {
		return
	}
	// Another replica may change the incident, and update the header,
	// while this update is on its way: once it has landed, read again and
	// send again if the incident moved, so that the last update to land
	// shows the latest state.
	for range maxHeaderRounds {
		b.keep(ctx, inc, MessageRef{Channel: inc.Home.Channel, TS: inc.Home.Header}, b.header(inc))
		if _, waits := b.chat.(UpdateWaiter); !waits {
			break
		}
		again, err := b.inc.Get(ctx, key)
		if err != nil || again.Version == inc.Version {
			break
		}
		inc = again
	}
	b.mu.Lock()
	st := b.stateOf(inc.ID)
	cards := append([]MessageRef(nil), st.cards...)
	checklist := st.checklist
	b.mu.Unlock()
	if len(inc.Steps) == 0 {
		return
	}
	if len(cards) > 0 {
		m := b.card(inc)
		for _, ref := range cards {
			if !b.keep(ctx, inc, ref, m) {
				b.forget(inc.ID, ref)
			}
		}
	}
	if checklist.TS != "" && !b.keep(ctx, inc, checklist, b.checklist(inc)) {
		b.forget(inc.ID, checklist)
	}
}

// forget stops keeping a card or a checklist current (it was deleted,
// or the chat refuses to update it).
func (b *Bot) forget(id string, ref MessageRef) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.stateOf(id)
	st.cards = slices.DeleteFunc(st.cards, func(r MessageRef) bool { return r == ref })
	if st.checklist == ref {
		st.checklist = MessageRef{}
	}
	delete(st.rendered, ref)
}

// keep updates a message the bot keeps current, unless it shows m
// already. It reports false when the chat refused the update for good.
func (b *Bot) keep(ctx context.Context, inc *incidents.Incident, ref MessageRef, m Message) bool {
	fp := fingerprint(m)
	b.mu.Lock()
	st := b.stateOf(inc.ID)
	same := st.rendered[ref] == fp
	b.mu.Unlock()
	if same {
		return true
	}
	update := b.chat.Update
	if w, ok := b.chat.(UpdateWaiter); ok {
		update = w.UpdateNow
	}
	if err := retry(ctx, func() error { return update(ctx, ref, m) }); err != nil {
		b.log.Error("bot: update a message", "incident_id", inc.ID, "channel", ref.Channel, "ts", ref.TS, "err", err)
		return fault.IsTemporary(err)
	}
	b.mu.Lock()
	st.rendered[ref] = fp
	b.mu.Unlock()
	return true
}

// startGuided posts the guided card of the incident's current step and
// its checklist in its home, or, when a checklist is there already, a
// new card only.
func (b *Bot) startGuided(ctx context.Context, id string) {
	log := b.log.With("incident_id", id)
	inc, err := b.inc.Get(ctx, id)
	if err != nil {
		log.Error("bot: guided: read the incident", "err", err)
		return
	}
	if inc.Home.Channel == "" {
		log.Warn("bot: guided: the incident has no home")
		return
	}
	if len(inc.Steps) == 0 {
		b.say(ctx, id, reply(inc.ID+" has no runbook steps to follow."))
		return
	}
	home := homeKey(inc.Home)
	b.mu.Lock()
	hasChecklist := b.stateOf(id).checklist.TS != ""
	b.mu.Unlock()
	if !hasChecklist {
		m := b.checklist(inc)
		ref, err := b.post(ctx, home, m)
		if err != nil {
			log.Error("bot: guided: post the checklist", "err", err)
			return
		}
		b.mu.Lock()
		st := b.stateOf(id)
		st.checklist = ref
		st.rendered[ref] = fingerprint(m)
		b.mu.Unlock()
	}
	m := b.card(inc)
	ref, err := b.post(ctx, home, m)
	if err != nil {
		log.Error("bot: guided: post the step", "err", err)
		return
	}
	b.mu.Lock()
	st := b.stateOf(id)
	st.cards = append(st.cards, ref)
	if len(st.cards) > maxCards {
		delete(st.rendered, st.cards[0])
		st.cards = st.cards[1:]
	}
	st.rendered[ref] = fingerprint(m)
	b.mu.Unlock()
}

// maxCards bounds the guided cards of an incident kept current.
const maxCards = 5

// addCard keeps a card the bot does not know of (one posted before a
// restart, whose button was just pressed) current from now on.
func (b *Bot) addCard(id string, ref MessageRef) {
	if ref.TS == "" {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.stateOf(id)
	for _, r := range st.cards {
		if r == ref {
			return
		}
	}
	st.cards = append(st.cards, ref)
	if len(st.cards) > maxCards {
		delete(st.rendered, st.cards[0])
		st.cards = st.cards[1:]
	}
}
