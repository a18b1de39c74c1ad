package incidents

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/internal/fault"
)

// Options configure a Service.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// NewID makes an incident ID; nil means "INC-YYYYMMDD-XXXXX" with
	// five random base32 characters.
	NewID func(now time.Time) string
	// Logger receives notes about retried conflicts; nil discards them.
	Logger *slog.Logger
	// Enricher finds the runbook and breadcrumbs of an incident that
	// alerts open; nil leaves them out.
	Enricher Enricher
}

// Service applies the rules of incidents over a Store. It is safe for
// concurrent use, and several Services (replicas) may share one Store.
type Service struct {
	store  Store
	now    func() time.Time
	newID  func(time.Time) string
	logger *slog.Logger
	// locks serialize this Service's changes to one incident, so that
	// its own writers do not race each other; other replicas still may,
	// and optimistic concurrency settles that.
	locks [64]sync.Mutex

	enricher  Enricher
	observers atomic.Pointer[[]Observer]
}

// Subscribe adds an observer of every change this Service stores. Call it
// while wiring, before the Service is used; later changes reach it too.
func (s *Service) Subscribe(o Observer) {
	for {
		old := s.observers.Load()
		var list []Observer
		if old != nil {
			list = append(list, *old...)
		}
		list = append(list, o)
		if s.observers.CompareAndSwap(old, &list) {
			return
		}
	}
}

// notify tells the observers of a stored change.
func (s *Service) notify(ctx context.Context, inc *Incident, events []Event) {
	list := s.observers.Load()
	if list == nil || len(events) == 0 {
		return
	}
	for _, o := range *list {
		o.Observe(ctx, inc.Clone(), events)
	}
}

func (s *Service) lock(id string) *sync.Mutex {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return &s.locks[h.Sum32()%uint32(len(s.locks))]
}

// NewService returns a Service over store.
func NewService(store Store, opts Options) *Service {
	s := &Service{store: store, now: opts.Now, newID: opts.NewID, logger: opts.Logger, enricher: opts.Enricher}
	if s.now == nil {
		s.now = time.Now
	}
	if s.newID == nil {
		s.newID = defaultID
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	return s
}

var idEncoding = base32.NewEncoding("ABCDEFGHJKMNPQRSTVWXYZ0123456789").WithPadding(base32.NoPadding)

func defaultID(now time.Time) string {
	return "INC-" + now.UTC().Format("20060102") + "-" + randomToken(5)
}

func randomToken(n int) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return idEncoding.EncodeToString(b)[:n]
}

// Action says who did something, from where, when, and under which
// idempotency key. A second action with the same Key on the same incident
// changes nothing. An empty Key means the action is not deduplicated; an
// empty At means now.
type Action struct {
	Key    string
	Actor  string
	Source string
	At     time.Time
	// Text is a note that goes with the action (a reason, a step note).
	Text string
}

// Declaration opens an incident.
type Declaration struct {
	Title    string
	Summary  string
	Severity int
	Service  string
	Source   string
	// Refs identify the incident elsewhere (its PagerDuty incident, its
	// Alertmanager group key). A declaration whose reference is already
	// held returns that incident instead of opening another.
	Refs    map[string]string
	Runbook *RunbookRef
	// Steps are the attached runbook's steps, by number and title.
	Steps []StepProgress
	// Links are the incident's breadcrumbs and dashboards, filled.
	Links []Link
	// Suggestions and Searches help a responder to a runbook when none
	// is attached (see Incident).
	Suggestions []RunbookRef
	Searches    []string
	// ID, when set, is the new incident's ID (so that links filled before
	// the declaration can name it); an ID already taken gets a new one.
	ID string
}

// maxAttempts bounds the retries of a change that lost a race to another
// replica; each retry waits a little longer, with jitter.
const maxAttempts = 50

// RefKey is the reference kind under which a declaration's action key is
// kept, so that a repeated declaration finds the incident it opened.
const RefKey = "declaration_key"

// Declare opens an incident, or returns the one already opened for the
// same reference or action key (created is then false).
func (s *Service) Declare(ctx context.Context, d Declaration, a Action) (inc *Incident, created bool, err error) {
	return s.declare(ctx, d, a, nil)
}

// declare is Declare; when the incident is new, with (unless nil) adds
// to it, and the events it returns to its first ones, before it is
// stored: one write opens the incident with them.
func (s *Service) declare(ctx context.Context, d Declaration, a Action, with func(inc *Incident, now time.Time) ([]Event, error)) (inc *Incident, created bool, err error) {
	if strings.TrimSpace(d.Title) == "" {
		return nil, false, &fault.Error{Op: "incidents: declare", Kind: ErrInvalid, Msg: "a title is needed"}
	}
	if d.Severity < 0 || d.Severity > 5 {
		return nil, false, &fault.Error{Op: "incidents: declare", Kind: ErrInvalid, Msg: fmt.Sprintf("severity %d is not 1 to 5", d.Severity)}
	}
	refs := capRefs(cloneMap(d.Refs))
	if a.Key != "" {
		if refs == nil {
			refs = map[string]string{}
		}
		refs[RefKey] = a.Key
	}
	if existing, err := s.findAnyRef(ctx, refs); err == nil {
		if !s.recurs(existing, refs) {
			return existing, false, nil
		}
		// The same alert group fires again after its incident was
		// resolved: that incident lets go of the group, and a new one
		// opens.
		if err := s.release(ctx, existing.ID, refs); err != nil {
			return nil, false, err
		}
	} else if !errors.Is(err, ErrNotFound) {
		return nil, false, err
	}
	// The caps (see MaxTitleRunes) apply to a declaration from anywhere;
	// what they cut is said on the declaration's event.
	var c cuts
	title, cut := cutRunes(strings.TrimSpace(d.Title), MaxTitleRunes)
	if cut {
		c.add("title cut from %s bytes to %d characters", byteCount(len(strings.TrimSpace(d.Title))), MaxTitleRunes)
	}
	summary, cut := cutBytes(d.Summary, MaxSummaryBytes)
	if cut {
		c.valueCut("summary", len(d.Summary), len(summary))
	}
	service, cut := cutBytes(d.Service, MaxValueBytes)
	if cut {
		c.valueCut("service", len(d.Service), len(service))
	}
	now := s.now().UTC()
	at := a.At
	if at.IsZero() {
		at = now
	}
	for attempt := 0; attempt < maxAttempts; attempt++ {
		id := s.newID(now)
		if attempt == 0 && d.ID != "" {
			id = d.ID
		}
		inc = &Incident{
			ID: id, Links: append([]Link(nil), d.Links...), Title: title, Summary: summary, Severity: d.Severity,
			Status: StatusTriggered, Source: cmp.Or(d.Source, a.Source), Service: service, Refs: refs,
			Runbook: d.Runbook, CreatedAt: at.UTC(), UpdatedAt: now,
			Suggestions: append([]RunbookRef(nil), d.Suggestions...), Searches: append([]string(nil), d.Searches...),
		}
		for _, st := range d.Steps {
			inc.Steps = append(inc.Steps, StepProgress{Number: st.Number, Title: st.Title, State: StepPending})
		}
		events := []Event{s.event(inc.ID, a, "", EventDeclared, now, inc.Title, map[string]string{"severity": sevText(d.Severity), "cut": c.String()})}
		if d.Runbook != nil {
			events = append(events, s.event(inc.ID, a, "runbook", EventRunbookAttached, now, d.Runbook.Title, runbookData(d.Runbook)))
		}
		if with != nil {
			more, werr := with(inc, now)
			if werr != nil && !errors.Is(werr, errNoChange) {
				return nil, false, fmt.Errorf("incidents: declare: %w", werr)
			}
			events = append(events, more...)
		}
		err = s.store.Create(ctx, inc, events)
		if err == nil {
			s.notify(ctx, inc, events)
			return inc, true, nil
		}
		if !errors.Is(err, ErrConflict) {
			return nil, false, fmt.Errorf("incidents: declare: %w", err)
		}
		// Another writer opened it first (same reference), or the ID
		// collided: find theirs, else try another ID.
		if existing, ferr := s.findAnyRef(ctx, refs); ferr == nil && !s.recurs(existing, refs) {
			return existing, false, nil
		}
	}
	return nil, false, fmt.Errorf("incidents: declare: %w", err)
}

// recurringRefs are references that identify a recurring source rather
// than one occurrence: an Alertmanager group fires again, weeks later,
// with the same group key.
var recurringRefs = []string{RefAlertmanagerGroup}

// recurs reports whether a declaration with refs is a new occurrence of
// the resolved incident inc: inc holds one of the recurring references and
// none of the others.
func (s *Service) recurs(inc *Incident, refs map[string]string) bool {
	if inc.Status.Open() {
		return false
	}
	recurring := false
	for kind, v := range refs {
		if inc.Refs[kind] != v {
			continue
		}
		if !containsString(recurringRefs, kind) {
			return false // the same occurrence (same delivery key, same PagerDuty incident)
		}
		recurring = true
	}
	return recurring
}

// release moves a resolved incident's recurring references out of the
// way ("alertmanager_group" becomes "alertmanager_group.previous"), so
// that a new incident can hold them.
func (s *Service) release(ctx context.Context, id string, refs map[string]string) error {
	_, err := s.change(ctx, "release", id, Action{}, func(inc *Incident, _ time.Time) ([]Event, error) {
		for _, kind := range recurringRefs {
			if v, ok := inc.Refs[kind]; ok && refs[kind] == v {
				delete(inc.Refs, kind)
				inc.Refs[kind+".previous"] = v
			}
		}
		return nil, nil
	})
	return err
}

func (s *Service) findAnyRef(ctx context.Context, refs map[string]string) (*Incident, error) {
	for _, kind := range sortedRefKinds(refs) {
		inc, err := s.store.FindByRef(ctx, kind, capRef(refs[kind]))
		if err == nil || !errors.Is(err, ErrNotFound) {
			return inc, err
		}
	}
	return nil, ErrNotFound
}

func sortedRefKinds(refs map[string]string) []string {
	kinds := make([]string, 0, len(refs))
	for k := range refs {
		kinds = append(kinds, k)
	}
	// A stable order, the declaration key last.
	for i := 1; i < len(kinds); i++ {
		for j := i; j > 0 && less(kinds[j], kinds[j-1]); j-- {
			kinds[j], kinds[j-1] = kinds[j-1], kinds[j]
		}
	}
	return kinds
}

func less(a, b string) bool {
	if (a == RefKey) != (b == RefKey) {
		return b == RefKey
	}
	return a < b
}

func sevText(sev int) string {
	if sev == 0 {
		return ""
	}
	return strconv.Itoa(sev)
}

func runbookData(rb *RunbookRef) map[string]string {
	return map[string]string{"runbook": rb.ID, "path": rb.Path, "commit": rb.Commit, "reason": rb.Reason}
}

// event builds a timeline event for an action. suffix tells apart the
// events of one action.
func (s *Service) event(id string, a Action, suffix string, typ EventType, now time.Time, text string, data map[string]string) Event {
	key := a.Key
	if key == "" {
		key = "auto:" + randomToken(13)
	}
	if suffix != "" {
		key += "/" + suffix
	}
	at := a.At
	if at.IsZero() {
		at = now
	}
	for k, v := range data {
		if v == "" {
			delete(data, k)
		}
	}
	if len(data) == 0 {
		data = nil
	}
	return Event{Key: key, IncidentID: id, Type: typ, At: at.UTC(), RecordedAt: now, Actor: a.Actor,
		Source: a.Source, Text: text, Data: data}
}

// change applies fn to the current incident and stores the result with the
// events fn returns, retrying when another writer changed the incident in
// between. An action whose key is already in the timeline changes nothing.
func (s *Service) change(ctx context.Context, op, id string, a Action, fn func(inc *Incident, now time.Time) ([]Event, error)) (*Incident, error) {
	mu := s.lock(id)
	mu.Lock()
	defer mu.Unlock()
	for attempt := 1; ; attempt++ {
		// Read the incident first, then look for the key: a keyed change
		// always moves the version, so a key stored by another replica
		// after this read makes the Update below fail and the loop come
		// back here, where the key is then seen.
		cur, err := s.store.Get(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("incidents: %s %s: %w", op, id, err)
		}
		if a.Key != "" {
			seen, err := s.store.HasEvent(ctx, id, a.Key)
			if err != nil {
				return nil, fmt.Errorf("incidents: %s %s: %w", op, id, err)
			}
			if seen {
				return cur, nil
			}
		}
		next := cur.Clone()
		now := s.now().UTC()
		events, err := fn(next, now)
		if errors.Is(err, errNoChange) {
			return cur, nil
		}
		if err != nil {
			return nil, fmt.Errorf("incidents: %s %s: %w", op, id, err)
		}
		next.UpdatedAt = now
		stored, err := s.store.Update(ctx, next, events)
		if err == nil {
			s.notify(ctx, next, stored)
			return next, nil
		}
		if !errors.Is(err, ErrConflict) || attempt >= maxAttempts {
			return nil, fmt.Errorf("incidents: %s %s: %w", op, id, err)
		}
		s.logger.Debug("incident changed meanwhile; applying again", "incident_id", id, "op", op, "attempt", attempt)
		if err := backoff(ctx, attempt); err != nil {
			return nil, fmt.Errorf("incidents: %s %s: %w", op, id, err)
		}
	}
}

// record appends events that change nothing but the timeline.
func (s *Service) record(ctx context.Context, op, id string, events ...Event) error {
	stored, err := s.store.Append(ctx, id, events)
	if err != nil {
		return fmt.Errorf("incidents: %s %s: %w", op, id, err)
	}
	if len(stored) > 0 && s.observers.Load() != nil {
		inc, err := s.store.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("incidents: %s %s: %w", op, id, err)
		}
		s.notify(ctx, inc, stored)
	}
	return nil
}

// backoff waits before retry number attempt: up to attempt milliseconds,
// at random, so that replicas that collided do not collide again.
func backoff(ctx context.Context, attempt int) error {
	var b [2]byte
	_, _ = rand.Read(b[:])
	d := time.Duration(int(b[0])<<8|int(b[1])) % time.Duration(attempt*1000+1) * time.Microsecond
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// transitions lists, for each status, where it may go.
var transitions = map[Status][]Status{
	StatusTriggered:    {StatusAcknowledged, StatusMitigated, StatusResolved},
	StatusAcknowledged: {StatusTriggered, StatusMitigated, StatusResolved},
	StatusMitigated:    {StatusAcknowledged, StatusResolved},
	StatusResolved:     {StatusTriggered},
}

// CanTransition reports whether an incident may go from one status to
// another.
func CanTransition(from, to Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Transition moves an incident to another status: acknowledge, mitigate,
// resolve, reopen (resolved → triggered) or unacknowledge. A transition
// the rules do not allow, including to the status it already has, is
// ErrInvalid.
func (s *Service) Transition(ctx context.Context, id string, to Status, a Action) (*Incident, error) {
	return s.change(ctx, "transition", id, a, func(inc *Incident, now time.Time) ([]Event, error) {
		from := inc.Status
		if !to.Valid() {
			return nil, refuse("unknown status %q", to)
		}
		if from == to {
			return nil, refuse("it is already %s", to)
		}
		if !CanTransition(from, to) {
			return nil, refuse("it cannot go from %s to %s", from, to)
		}
		return []Event{transition(s, inc, to, a, now)}, nil
	})
}

// transition moves inc to a status its rules allow, setting the times
// the move marks, and returns its event.
func transition(s *Service, inc *Incident, to Status, a Action, now time.Time) Event {
	from := inc.Status
	at := a.At
	if at.IsZero() {
		at = now
	}
	inc.Status = to
	switch to {
	case StatusAcknowledged:
		if inc.AcknowledgedAt.IsZero() {
			inc.AcknowledgedAt = at.UTC()
		}
		if from == StatusMitigated {
			inc.MitigatedAt = time.Time{} // not mitigated after all
		}
	case StatusMitigated:
		if inc.MitigatedAt.IsZero() {
			inc.MitigatedAt = at.UTC()
		}
	case StatusResolved:
		inc.ResolvedAt = at.UTC()
	case StatusTriggered:
		if from == StatusResolved {
			inc.ResolvedAt, inc.MitigatedAt = time.Time{}, time.Time{}
		}
	}
	return s.event(inc.ID, a, "", EventStatusChanged, now, a.Text,
		map[string]string{"from": string(from), "to": string(to)})
}

// StatusSync says what SyncStatus did with a status another system
// reported.
type StatusSync int

const (
	// StatusApplied: the incident took the status.
	StatusApplied StatusSync = iota
	// StatusSeen: the report, by its key, was applied before.
	StatusSeen
	// StatusHeld: the incident has that status already (the echo of a
	// change made here).
	StatusHeld
	// StatusLate: the report is older than the last one applied from the
	// same source (a late delivery).
	StatusLate
	// StatusRefused: the incident's rules do not allow the change.
	StatusRefused
)

// SyncStatus applies a status change that another system (a.Source,
// such as pagerduty) reports, made there at a.At: once, by a.Key, and in
// order, so that a late delivery does not undo a later change. It
// changes nothing and says why when the report was applied before, the
// incident has the status already, the report is late, or the rules do
// not allow the change.
func (s *Service) SyncStatus(ctx context.Context, id string, to Status, a Action) (StatusSync, error) {
	if !to.Valid() {
		return StatusRefused, &fault.Error{Op: "incidents: sync status " + id, Kind: ErrInvalid, Msg: fmt.Sprintf("unknown status %q", to)}
	}
	legacy, err := s.legacyStatusReported(ctx, id, to, a.Source)
	if err != nil {
		return 0, err
	}
	outcome := StatusSeen // what stands when change finds the key stored
	_, err = s.change(ctx, "sync status", id, a, func(inc *Incident, now time.Time) ([]Event, error) {
		last, ok := inc.StatusReported[a.Source]
		if !ok && inc.StatusReported == nil {
			last = legacy
		}
		switch {
		case inc.Status == to:
			outcome = StatusHeld
			return nil, errNoChange
		case a.At.Before(last):
			outcome = StatusLate
			return nil, errNoChange
		case !CanTransition(inc.Status, to):
			outcome = StatusRefused
			return nil, errNoChange
		}
		outcome = StatusApplied
		if inc.StatusReported == nil {
			inc.StatusReported = map[string]time.Time{}
		}
		if a.At.After(last) {
			inc.StatusReported[a.Source] = a.At.UTC()
		} else {
			inc.StatusReported[a.Source] = last
		}
		return []Event{transition(s, inc, to, a, now)}, nil
	})
	if err != nil {
		return 0, err
	}
	return outcome, nil
}

// legacyStatusReported is, for an incident that keeps no StatusReported
// yet (stored before it was kept, or never synced) and does not have the
// status to, the time of the last status change from source on its
// timeline. For any other incident it is zero, and the timeline is not
// read: once a report is applied, the incident keeps the time itself.
func (s *Service) legacyStatusReported(ctx context.Context, id string, to Status, source string) (time.Time, error) {
	inc, err := s.store.Get(ctx, id)
	if err != nil {
		return time.Time{}, fmt.Errorf("incidents: sync status %s: %w", id, err)
	}
	if inc.StatusReported != nil || inc.Status == to {
		return time.Time{}, nil
	}
	events, err := s.store.Events(ctx, id, 0, 0)
	if err != nil {
		return time.Time{}, fmt.Errorf("incidents: sync status %s: %w", id, err)
	}
	var last time.Time
	for _, e := range events {
		if e.Type == EventStatusChanged && e.Source == source && e.At.After(last) {
			last = e.At
		}
	}
	return last, nil
}

// Step records the outcome of a step of the attached runbook: done,
// skipped, or back to pending. An unknown step is ErrInvalid.
func (s *Service) Step(ctx context.Context, id string, number int, state StepState, a Action) (*Incident, error) {
	return s.change(ctx, "step", id, a, func(inc *Incident, now time.Time) ([]Event, error) {
		i := -1
		for k, st := range inc.Steps {
			if st.Number == number {
				i = k
			}
		}
		if i < 0 {
			return nil, refuse("there is no step %d (the runbook has %d)", number, len(inc.Steps))
		}
		typ := map[StepState]EventType{StepDone: EventStepDone, StepSkipped: EventStepSkipped, StepPending: EventStepReopened}[state]
		if typ == "" {
			return nil, refuse("unknown step state %q", state)
		}
		at := a.At
		if at.IsZero() {
			at = now
		}
		st := &inc.Steps[i]
		st.State, st.Actor, st.At, st.Note = state, a.Actor, at.UTC(), a.Text
		if state == StepPending {
			st.Actor, st.At, st.Note = "", time.Time{}, ""
		}
		return []Event{s.event(inc.ID, a, "", typ, now, a.Text,
			map[string]string{"step": strconv.Itoa(number), "title": st.Title})}, nil
	})
}

// AssignRole gives a role to a user: commander, comms or scribe replace
// the holder; responder adds to the responders.
func (s *Service) AssignRole(ctx context.Context, id, role, user string, a Action) (*Incident, error) {
	role = strings.ToLower(strings.TrimSpace(role))
	user = strings.TrimSpace(user)
	return s.change(ctx, "assign", id, a, func(inc *Incident, now time.Time) ([]Event, error) {
		if user == "" {
			return nil, refuse("no user to assign")
		}
		prev := ""
		switch role {
		case RoleCommander, RoleComms, RoleScribe:
			if inc.Roles == nil {
				inc.Roles = map[string]string{}
			}
			prev = inc.Roles[role]
			if prev == user {
				return nil, refuse("%s is already %s", user, role)
			}
			inc.Roles[role] = user
		case RoleResponder:
			for _, r := range inc.Responders {
				if r == user {
					return nil, refuse("%s is already a responder", user)
				}
			}
		default:
			return nil, refuse("unknown role %q (want commander, comms, scribe or responder)", role)
		}
		if !containsString(inc.Responders, user) {
			inc.Responders = append(inc.Responders, user)
		}
		return []Event{s.event(inc.ID, a, "", EventRoleChanged, now, a.Text,
			map[string]string{"role": role, "user": user, "previous": prev})}, nil
	})
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// SetSeverity changes the severity (1, the worst, to 5).
func (s *Service) SetSeverity(ctx context.Context, id string, severity int, a Action) (*Incident, error) {
	return s.change(ctx, "severity", id, a, func(inc *Incident, now time.Time) ([]Event, error) {
		if severity < 1 || severity > 5 {
			return nil, refuse("severity %d is not 1 to 5", severity)
		}
		if inc.Severity == severity {
			return nil, refuse("severity is already %d", severity)
		}
		prev := inc.Severity
		inc.Severity = severity
		return []Event{s.event(inc.ID, a, "", EventSeverityChanged, now, a.Text,
			map[string]string{"from": sevText(prev), "to": sevText(severity)})}, nil
	})
}

// AttachRunbook attaches a runbook and its steps (all pending), replacing
// any runbook attached before.
func (s *Service) AttachRunbook(ctx context.Context, id string, rb RunbookRef, steps []StepProgress, a Action) (*Incident, error) {
	return s.change(ctx, "attach runbook", id, a, func(inc *Incident, now time.Time) ([]Event, error) {
		if rb.ID == "" {
			return nil, refuse("the runbook has no ID")
		}
		ref := rb
		inc.Runbook = &ref
		inc.Steps = nil
		for _, st := range steps {
			inc.Steps = append(inc.Steps, StepProgress{Number: st.Number, Title: st.Title, State: StepPending})
		}
		return []Event{s.event(inc.ID, a, "", EventRunbookAttached, now, rb.Title, runbookData(&ref))}, nil
	})
}

// SetHome records where the incident lives in the team's chat.
func (s *Service) SetHome(ctx context.Context, id string, home Home) (*Incident, error) {
	return s.change(ctx, "chat home", id, Action{}, func(inc *Incident, _ time.Time) ([]Event, error) {
		inc.Home = home
		return nil, nil
	})
}

// Note adds a note to the timeline.
func (s *Service) Note(ctx context.Context, id string, a Action) error {
	if strings.TrimSpace(a.Text) == "" {
		return &fault.Error{Op: "incidents: note " + id, Kind: ErrInvalid, Msg: "the note is empty"}
	}
	return s.record(ctx, "note", id, s.event(id, a, "", EventNote, s.now().UTC(), a.Text, nil))
}

// PinnedMessage is a chat message put on the timeline.
type PinnedMessage struct {
	// ID identifies the message in its chat (Slack's channel and ts).
	ID        string
	Author    string
	Text      string
	Permalink string
	// At is when the message was written; the event takes this time.
	At time.Time
}

// Pin puts a message on the timeline at its original time.
func (s *Service) Pin(ctx context.Context, id string, m PinnedMessage, a Action) error {
	if m.ID == "" {
		return &fault.Error{Op: "incidents: pin " + id, Kind: ErrInvalid, Msg: "the message has no ID"}
	}
	if a.Key == "" {
		// Pinning again after an unpin is a new pin.
		a.Key = "pin:" + m.ID + ":" + a.Actor + ":" + randomToken(6)
	}
	if !m.At.IsZero() {
		a.At = m.At
	}
	return s.record(ctx, "pin", id, s.event(id, a, "", EventMessagePinned, s.now().UTC(), m.Text,
		map[string]string{"message": m.ID, "author": m.Author, "url": m.Permalink}))
}

// Unpin takes a pinned message off the timeline (the report leaves it out;
// the timeline keeps both events).
func (s *Service) Unpin(ctx context.Context, id, messageID string, a Action) error {
	if a.Key == "" {
		a.Key = "unpin:" + messageID + ":" + a.Actor + ":" + randomToken(6)
	}
	return s.record(ctx, "unpin", id, s.event(id, a, "", EventMessageUnpinned, s.now().UTC(), "",
		map[string]string{"message": messageID}))
}

// AlertFired records an alert of the incident that fired.
func (s *Service) AlertFired(ctx context.Context, id, alertName, fingerprint string, a Action) error {
	return s.record(ctx, "alert fired", id, s.event(id, a, "", EventAlertFired, s.now().UTC(), a.Text,
		map[string]string{"alert": alertName, "fingerprint": fingerprint}))
}

// AlertResolved records an alert of the incident that resolved.
func (s *Service) AlertResolved(ctx context.Context, id, alertName, fingerprint string, a Action) error {
	return s.record(ctx, "alert resolved", id, s.event(id, a, "", EventAlertResolved, s.now().UTC(), a.Text,
		map[string]string{"alert": alertName, "fingerprint": fingerprint}))
}

// BreadcrumbOpened records that a responder opened a breadcrumb.
func (s *Service) BreadcrumbOpened(ctx context.Context, id, name, url string, a Action) error {
	return s.record(ctx, "breadcrumb", id, s.event(id, a, "", EventBreadcrumbOpened, s.now().UTC(), a.Text,
		map[string]string{"name": name, "url": url}))
}

// Synced records an exchange with PagerDuty (a change sent or received).
func (s *Service) Synced(ctx context.Context, id, what string, a Action) error {
	return s.record(ctx, "sync", id, s.event(id, a, "", EventPagerDutySync, s.now().UTC(), what, nil))
}

// Get returns an incident.
func (s *Service) Get(ctx context.Context, id string) (*Incident, error) { return s.store.Get(ctx, id) }

// Timeline returns a page of an incident's timeline: the events after seq
// after, at most limit (0 means all).
func (s *Service) Timeline(ctx context.Context, id string, after int64, limit int) ([]Event, error) {
	return s.store.Events(ctx, id, after, limit)
}

// List returns the incidents the filter selects, newest first.
func (s *Service) List(ctx context.Context, f Filter) ([]*Incident, error) {
	return s.store.List(ctx, f)
}

// eachPage is how many incidents Each reads at a time.
const eachPage = 200

// Position is where an incident stands in List's order: newest first by
// creation time, then by ID, descending. The zero Position stands before
// every incident.
type Position struct {
	CreatedAt time.Time
	ID        string
}

// PositionOf returns inc's Position.
func PositionOf(inc *Incident) Position { return Position{CreatedAt: inc.CreatedAt, ID: inc.ID} }

// Each calls fn with every incident the filter selects, newest first (as
// List orders them), reading them a page at a time: a caller that keeps
// only what it needs of each holds one page of incidents, not all of
// them. f.Limit caps the incidents fn sees; 0 means all. Each stops at
// fn's first error and returns it. An incident created while Each runs
// may or may not be seen; none is seen twice.
func (s *Service) Each(ctx context.Context, f Filter, fn func(*Incident) error) error {
	return s.EachAfter(ctx, f, Position{}, fn)
}

// EachAfter is Each from the incident that follows after in List's
// order: what a reader that stopped at after has not seen yet.
func (s *Service) EachAfter(ctx context.Context, f Filter, after Position, fn func(*Incident) error) error {
	page := f
	var last *Position
	if after != (Position{}) {
		last = &after
		if to := after.CreatedAt.Add(time.Nanosecond); f.To.IsZero() || to.Before(f.To) {
			page.To = to
		}
	}
	// Each page after the first ends just after last's instant, so it
	// starts again with the incidents of that instant already seen (or,
	// from after, passed): overlap is how many more it reads for them.
	seen, overlap := 0, 0
	for {
		want := eachPage
		if f.Limit > 0 {
			want = min(want, f.Limit-seen)
		}
		if want <= 0 {
			return nil
		}
		page.Limit = want + overlap
		list, err := s.store.List(ctx, page)
		if err != nil {
			return err
		}
		fresh := 0
		for _, inc := range list {
			if last != nil && inc.CreatedAt.Equal(last.CreatedAt) && inc.ID >= last.ID {
				continue // seen or passed already
			}
			if err := fn(inc); err != nil {
				return err
			}
			seen, fresh = seen+1, fresh+1
			last = &Position{CreatedAt: inc.CreatedAt, ID: inc.ID}
			if f.Limit > 0 && seen == f.Limit {
				return nil
			}
		}
		if len(list) < page.Limit || last == nil {
			return nil
		}
		if fresh == 0 {
			// More incidents of after's instant than the page held: read
			// more of them.
			overlap = 2*overlap + want
			continue
		}
		overlap = 0
		for _, inc := range list {
			if inc.CreatedAt.Equal(last.CreatedAt) {
				overlap++
			}
		}
		page.To = last.CreatedAt.Add(time.Nanosecond)
	}
}

// FindByRef returns the incident with an external reference.
func (s *Service) FindByRef(ctx context.Context, kind, value string) (*Incident, error) {
	return s.store.FindByRef(ctx, kind, capRef(value))
}

// Claim records a delivery key (see Store.Claim).
func (s *Service) Claim(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	return s.store.Claim(ctx, key, ttl)
}

// refuse is a change the incident's rules refuse: ErrInvalid, with the
// reason as a sentence for the person who asked ("it is already
// acknowledged"), which fault.Message gives back.
func refuse(format string, args ...any) error {
	return &fault.Error{Kind: ErrInvalid, Msg: fmt.Sprintf(format, args...)}
}
