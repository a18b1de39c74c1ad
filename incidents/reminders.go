package incidents

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// ReminderKind names what a reminder is about.
type ReminderKind string

// The kinds of reminder.
const (
	// ReminderNoAck: nobody has acknowledged the incident.
	ReminderNoAck ReminderKind = "no-ack"
	// ReminderNoUpdate: nothing has been recorded on the incident for a
	// while.
	ReminderNoUpdate ReminderKind = "no-update"
	// ReminderNoCommander: a severe incident has no commander.
	ReminderNoCommander ReminderKind = "no-commander"
)

// EventReminder is the timeline event of a reminder sent to an
// incident's home. Its Text is the reminder's, its Source "breadcrumb"
// and its Data "kind" the ReminderKind. It does not count as an update.
const EventReminder EventType = "reminder.sent"

// ReminderSource is the Source of the events Breadcrumb records by itself.
const ReminderSource = "breadcrumb"

// Reminder is a nudge due in an incident's home.
type Reminder struct {
	Kind ReminderKind
	// Text says what is missing, in plain words.
	Text string
	// Key identifies this nudge: it is sent once per key, across
	// replicas, and is the key of its timeline event.
	Key string
}

// The defaults of ReminderPolicy.
const (
	DefaultAckAfter          = 5 * time.Minute
	DefaultUpdateAfter       = 30 * time.Minute
	DefaultCommanderAfter    = 10 * time.Minute
	DefaultCommanderSeverity = 2
)

// ReminderPolicy says when an open incident is nudged. A zero field
// takes its default; a negative duration turns that reminder off.
type ReminderPolicy struct {
	// AckAfter: an incident still triggered and never acknowledged this
	// long after it opened is nudged, once. Default DefaultAckAfter.
	AckAfter time.Duration
	// UpdateAfter: a triggered or acknowledged incident whose timeline
	// has had no update for this long is nudged, and again after each
	// further UpdateAfter of quiet. Alerts firing or resolving and the
	// reminders themselves are not updates; a mitigated incident is not
	// nudged. Default DefaultUpdateAfter.
	UpdateAfter time.Duration
	// CommanderAfter: an incident of severity CommanderSeverity or worse
	// (1 is the worst) with nobody in the commander role this long after
	// it opened is nudged, once. Default DefaultCommanderAfter.
	CommanderAfter time.Duration
	// CommanderSeverity is the least severe severity that needs a
	// commander; an incident of unknown severity (0) never does.
	// Default DefaultCommanderSeverity.
	CommanderSeverity int
}

// withDefaults fills the zero fields.
func (p ReminderPolicy) withDefaults() ReminderPolicy {
	if p.AckAfter == 0 {
		p.AckAfter = DefaultAckAfter
	}
	if p.UpdateAfter == 0 {
		p.UpdateAfter = DefaultUpdateAfter
	}
	if p.CommanderAfter == 0 {
		p.CommanderAfter = DefaultCommanderAfter
	}
	if p.CommanderSeverity <= 0 {
		p.CommanderSeverity = DefaultCommanderSeverity
	}
	return p
}

// DueReminders returns the reminders the policy calls for at now, for an
// incident whose last update (see ReminderPolicy.UpdateAfter) was at
// lastUpdate; a zero lastUpdate means its creation. Each reminder's Key
// is the same on every call until the nudge is due again: the no-ack and
// no-commander reminders have one key each; the no-update reminder's key
// names the last update and how many UpdateAfter periods have passed
// since, so that a quiet incident is nudged once per period, and an
// update starts the count again. A resolved incident has none.
func DueReminders(inc *Incident, lastUpdate, now time.Time, p ReminderPolicy) []Reminder {
	if inc == nil || !inc.Status.Open() {
		return nil
	}
	p = p.withDefaults()
	var out []Reminder
	open := now.Sub(inc.CreatedAt)
	if p.AckAfter > 0 && inc.Status == StatusTriggered && inc.AcknowledgedAt.IsZero() && open >= p.AckAfter {
		out = append(out, Reminder{Kind: ReminderNoAck, Key: reminderKey(inc.ID, ReminderNoAck),
			Text: fmt.Sprintf("Nobody has acknowledged %s, open for %s. Acknowledge it if you are on it.", inc.ID, roughly(open))})
	}
	if p.CommanderAfter > 0 && inc.Severity >= 1 && inc.Severity <= p.CommanderSeverity &&
		inc.Roles[RoleCommander] == "" && open >= p.CommanderAfter {
		out = append(out, Reminder{Kind: ReminderNoCommander, Key: reminderKey(inc.ID, ReminderNoCommander),
			Text: fmt.Sprintf("%s is SEV%d and has had no incident commander for %s. Someone should take the role.", inc.ID, inc.Severity, roughly(open))})
	}
	if p.UpdateAfter > 0 && (inc.Status == StatusTriggered || inc.Status == StatusAcknowledged) {
		if lastUpdate.IsZero() || lastUpdate.Before(inc.CreatedAt) {
			lastUpdate = inc.CreatedAt
		}
		quiet := now.Sub(lastUpdate)
		if n := int64(quiet / p.UpdateAfter); n >= 1 {
			out = append(out, Reminder{Kind: ReminderNoUpdate,
				Key:  reminderKey(inc.ID, ReminderNoUpdate) + ":" + strconv.FormatInt(lastUpdate.UnixMilli(), 10) + ":" + strconv.FormatInt(n, 10),
				Text: fmt.Sprintf("Nothing has been recorded on %s for %s. Post an update (a note), or resolve it if it is over.", inc.ID, roughly(quiet))})
		}
	}
	return out
}

func reminderKey(id string, kind ReminderKind) string { return "remind:" + id + ":" + string(kind) }

// roughly says a duration in whole minutes, or hours and minutes.
func roughly(d time.Duration) string {
	m := int64(d / time.Minute)
	switch {
	case m < 1:
		return "less than a minute"
	case m < 60:
		return strconv.FormatInt(m, 10) + " min"
	case m%60 == 0:
		return strconv.FormatInt(m/60, 10) + " h"
	}
	return strconv.FormatInt(m/60, 10) + " h " + strconv.FormatInt(m%60, 10) + " min"
}

// isUpdate reports whether an event counts as an update of its incident:
// anything people or integrations record, but not alerts firing or
// resolving, which say nothing of the response, nor reminders.
func isUpdate(e Event) bool {
	switch e.Type {
	case EventReminder, EventAlertFired, EventAlertResolved:
		return false
	}
	return true
}

// RemindFunc posts a reminder in an incident's home. An error leaves the
// reminder unsent, to be tried again later.
type RemindFunc func(ctx context.Context, inc *Incident, r Reminder) error

// The defaults of RemindersOptions.
const (
	DefaultReminderInterval = time.Minute
	DefaultReminderClaimTTL = 10 * time.Minute
)

// RemindersOptions configure Reminders. The zero value is usable.
type RemindersOptions struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Interval is how often Run ticks; 0 means DefaultReminderInterval.
	Interval time.Duration
	// ClaimTTL is how long a replica holds a reminder it is posting: a
	// post that failed, or a replica that died before recording the
	// reminder, has it posted again after this long. 0 means
	// DefaultReminderClaimTTL.
	ClaimTTL time.Duration
	// Logger receives the failures of Run's ticks; nil discards them.
	Logger *slog.Logger
}

// Reminders nudges the open incidents as a ReminderPolicy says, through
// a RemindFunc. Only the elected replica should run it (Elector), but a
// second one running during a handover posts nothing twice: each
// reminder is claimed (Store.Claim) before it is posted, and recorded on
// the timeline (EventReminder, under the reminder's key) once it is.
type Reminders struct {
	svc      *Service
	policy   ReminderPolicy
	post     RemindFunc
	now      func() time.Time
	interval time.Duration
	claimTTL time.Duration
	log      *slog.Logger

	mu sync.Mutex // one Tick at a time
	// seen holds, by incident, the timeline read so far: its last Seq
	// and the time of its last update.
	seen map[string]timelineMark
}

type timelineMark struct {
	seq        int64
	lastUpdate time.Time
}

// NewReminders returns Reminders over svc that post through post.
func NewReminders(svc *Service, policy ReminderPolicy, post RemindFunc, opts RemindersOptions) *Reminders {
	r := &Reminders{svc: svc, policy: policy, post: post, now: opts.Now, interval: opts.Interval,
		claimTTL: opts.ClaimTTL, log: opts.Logger, seen: map[string]timelineMark{}}
	if r.now == nil {
		r.now = time.Now
	}
	if r.interval <= 0 {
		r.interval = DefaultReminderInterval
	}
	if r.claimTTL <= 0 {
		r.claimTTL = DefaultReminderClaimTTL
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	return r
}

// Run ticks at once and then every Interval until ctx ends, logging what
// a tick could not do, and returns nil when ctx ends.
func (r *Reminders) Run(ctx context.Context) error {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		if err := r.Tick(ctx); err != nil && ctx.Err() == nil {
			r.log.Error("reminders: tick", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Tick sends the reminders due now: it lists the open incidents, reads
// what is new on each one's timeline, and posts and records each due
// reminder that no replica has sent. It goes on past an incident it
// cannot handle and returns every failure, joined.
func (r *Reminders) Tick(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	open, err := r.svc.List(ctx, Filter{Open: true})
	if err != nil {
		return fmt.Errorf("incidents: reminders: %w", err)
	}
	var errs []error
	seen := make(map[string]timelineMark, len(open))
	for _, inc := range open {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		mark, err := r.catchUp(ctx, inc.ID, r.seen[inc.ID])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		seen[inc.ID] = mark
		for _, rem := range DueReminders(inc, mark.lastUpdate, r.now(), r.policy) {
			if err := r.send(ctx, inc, rem); err != nil {
				errs = append(errs, err)
			}
		}
	}
	r.seen = seen // the incidents no longer open are forgotten
	return errors.Join(errs...)
}

// timelinePage is how many events catchUp reads per call.
const timelinePage = 500

// catchUp reads the events of an incident's timeline after mark and
// returns the mark moved past them.
func (r *Reminders) catchUp(ctx context.Context, id string, mark timelineMark) (timelineMark, error) {
	for {
		events, err := r.svc.Timeline(ctx, id, mark.seq, timelinePage)
		if err != nil {
			return mark, fmt.Errorf("incidents: reminders: read the timeline of %s: %w", id, err)
		}
		for _, e := range events {
			mark.seq = max(mark.seq, e.Seq)
			if !isUpdate(e) {
				continue
			}
			at := e.RecordedAt
			if at.IsZero() {
				at = e.At
			}
			if at.After(mark.lastUpdate) {
				mark.lastUpdate = at
			}
		}
		if len(events) < timelinePage {
			return mark, nil
		}
	}
}

// send posts a reminder once: unless its event is on the timeline
// already, or another replica holds its claim.
func (r *Reminders) send(ctx context.Context, inc *Incident, rem Reminder) error {
	sent, err := r.svc.store.HasEvent(ctx, inc.ID, rem.Key)
	if err != nil {
		return fmt.Errorf("incidents: reminders: %s %s: %w", inc.ID, rem.Kind, err)
	}
	if sent {
		return nil
	}
	first, err := r.svc.Claim(ctx, rem.Key, r.claimTTL)
	if err != nil {
		return fmt.Errorf("incidents: reminders: claim %s: %w", rem.Key, err)
	}
	if !first {
		return nil
	}
	if err := r.post(ctx, inc.Clone(), rem); err != nil {
		return fmt.Errorf("incidents: reminders: post %s %s: %w", inc.ID, rem.Kind, err)
	}
	return r.svc.recordReminder(ctx, inc.ID, rem)
}

// recordReminder puts a reminder that was sent on the incident's
// timeline, under the reminder's key.
func (s *Service) recordReminder(ctx context.Context, id string, rem Reminder) error {
	a := Action{Key: rem.Key, Source: ReminderSource}
	return s.record(ctx, "reminder", id, s.event(id, a, "", EventReminder, s.now().UTC(), rem.Text,
		map[string]string{"kind": string(rem.Kind)}))
}
