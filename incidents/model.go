package incidents

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Domain errors. Stores and the Service wrap them with the operation and
// the incident's ID; callers test them with errors.Is.
var (
	// ErrNotFound: no such incident.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the incident changed since it was read (optimistic
	// concurrency), or an incident with that ID already exists.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the request breaks a rule (an invalid transition, an
	// unknown step, an empty note).
	ErrInvalid = errors.New("invalid")
)

// Status is where an incident is in its life.
type Status string

// The statuses, in their usual order.
const (
	StatusTriggered    Status = "triggered"
	StatusAcknowledged Status = "acknowledged"
	StatusMitigated    Status = "mitigated"
	StatusResolved     Status = "resolved"
)

// Open reports whether an incident in this status still needs work.
func (s Status) Open() bool { return s != StatusResolved }

// Valid reports whether s is one of the statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusTriggered, StatusAcknowledged, StatusMitigated, StatusResolved:
		return true
	}
	return false
}

// StepState is the progress of one runbook step.
type StepState string

// Step states.
const (
	StepPending StepState = "pending"
	StepDone    StepState = "done"
	StepSkipped StepState = "skipped"
)

// Role names. Commander, communications and scribe are held by one person
// at a time; responders are a list.
const (
	RoleCommander = "commander"
	RoleComms     = "comms"
	RoleScribe    = "scribe"
	RoleResponder = "responder"
)

// Reference kinds for Incident.Refs: where an incident came from.
const (
	RefPagerDutyIncident = "pagerduty_incident"
	RefAlertmanagerGroup = "alertmanager_group"
)

// Incident is the state of one incident. Its timeline is kept apart, as
// Events.
type Incident struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Summary  string `json:"summary,omitempty"`
	Severity int    `json:"severity,omitempty"` // 1 (worst) to 5; 0 when unknown
	Status   Status `json:"status"`
	// Source is what opened the incident: "alertmanager", "pagerduty",
	// "slack", "web", "cli".
	Source  string `json:"source"`
	Service string `json:"service,omitempty"`
	// Refs are the incident's identities elsewhere, by kind
	// (RefPagerDutyIncident, RefAlertmanagerGroup, ...).
	Refs map[string]string `json:"refs,omitempty"`
	// Roles maps a single-holder role (commander, comms, scribe) to a
	// user; Responders lists everyone who works on it.
	Roles      map[string]string `json:"roles,omitempty"`
	Responders []string          `json:"responders,omitempty"`
	Runbook    *RunbookRef       `json:"runbook,omitempty"`
	Steps      []StepProgress    `json:"steps,omitempty"`
	// Suggestions are the runbooks that might fit, when none fitted well
	// enough to attach (the matcher's low-confidence candidates, with
	// their reasons); Searches are searches worth trying for one. Both
	// are set when the incident opens, for a responder left without a
	// runbook.
	Suggestions []RunbookRef `json:"suggestions,omitempty"`
	Searches    []string     `json:"searches,omitempty"`
	// Home is where the incident lives in the team's chat.
	Home Home `json:"home,omitzero"`
	// Alerts are the alerts that opened or joined the incident, as last
	// reported; Links its breadcrumbs and dashboards, filled when it
	// opened.
	Alerts []AlertState `json:"alerts,omitempty"`
	// StatusReported is, by source (pagerduty), when the last status
	// change that system reported was made there; a report older than
	// that is a late delivery, and SyncStatus leaves it. Nil until a
	// report is applied (the timeline tells for an incident synced
	// before it was kept).
	StatusReported map[string]time.Time `json:"status_reported,omitempty"`
	Links          []Link               `json:"links,omitempty"`

	CreatedAt      time.Time `json:"created_at"`
	AcknowledgedAt time.Time `json:"acknowledged_at,omitzero"`
	MitigatedAt    time.Time `json:"mitigated_at,omitzero"`
	ResolvedAt     time.Time `json:"resolved_at,omitzero"`
	UpdatedAt      time.Time `json:"updated_at"`

	// Version counts the changes stored; a Store's Update succeeds only
	// when the version it is given is the stored one.
	Version int64 `json:"version"`
}

// RunbookRef is the runbook attached to an incident, as it was read.
type RunbookRef struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	Path   string `json:"path"`
	Title  string `json:"title"`
	Commit string `json:"commit,omitempty"`
	// Reason says why the runbook was chosen (the matcher's reason).
	Reason string `json:"reason,omitempty"`
}

// StepProgress is what happened to one step of the attached runbook.
type StepProgress struct {
	Number int       `json:"number"`
	Title  string    `json:"title"`
	State  StepState `json:"state"`
	Actor  string    `json:"actor,omitempty"`
	At     time.Time `json:"at,omitzero"`
	Note   string    `json:"note,omitempty"`
}

// Home is where an incident lives in the team's chat (Slack, or the
// console's local chat): a channel of its own, or a thread in its
// service's channel, and the header message kept current there. The IDs
// are the chat's own (Slack's channel IDs and message timestamps).
type Home struct {
	Channel string `json:"channel,omitempty"`
	Thread  string `json:"thread,omitempty"` // the thread's parent timestamp, when the home is a thread
	Header  string `json:"header,omitempty"` // the timestamp of the header message kept current
}

// UnmarshalJSON reads an incident, and the home that incidents stored
// before it was called home ("slack") into Home.
func (inc *Incident) UnmarshalJSON(data []byte) error {
	type plain Incident
	var v struct {
		*plain
		Slack *Home `json:"slack"`
	}
	v.plain = (*plain)(inc)
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	if v.Slack != nil && inc.Home == (Home{}) {
		inc.Home = *v.Slack
	}
	return nil
}

// Clone returns a deep copy, so that a change can be prepared without
// touching the original.
func (inc *Incident) Clone() *Incident {
	if inc == nil {
		return nil
	}
	c := *inc
	c.Refs = cloneMap(inc.Refs)
	c.Roles = cloneMap(inc.Roles)
	if inc.StatusReported != nil {
		c.StatusReported = make(map[string]time.Time, len(inc.StatusReported))
		for k, v := range inc.StatusReported {
			c.StatusReported[k] = v
		}
	}
	c.Responders = append([]string(nil), inc.Responders...)
	c.Steps = append([]StepProgress(nil), inc.Steps...)
	c.Links = append([]Link(nil), inc.Links...)
	c.Alerts = nil
	for _, a := range inc.Alerts {
		a.Labels = cloneMap(a.Labels)
		c.Alerts = append(c.Alerts, a)
	}
	if inc.Runbook != nil {
		rb := *inc.Runbook
		c.Runbook = &rb
	}
	return &c
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// Validate checks what every stored incident must hold.
func (inc *Incident) Validate() error {
	switch {
	case inc.ID == "":
		return fmt.Errorf("incident has no ID: %w", ErrInvalid)
	case inc.Title == "":
		return fmt.Errorf("incident %s has no title: %w", inc.ID, ErrInvalid)
	case !inc.Status.Valid():
		return fmt.Errorf("incident %s: unknown status %q: %w", inc.ID, inc.Status, ErrInvalid)
	case inc.Severity < 0 || inc.Severity > 5:
		return fmt.Errorf("incident %s: severity %d is not 1 to 5: %w", inc.ID, inc.Severity, ErrInvalid)
	}
	return nil
}

// EventType names a kind of timeline event.
type EventType string

// The timeline's event types.
const (
	EventDeclared         EventType = "incident.declared"
	EventAlertFired       EventType = "alert.fired"
	EventAlertResolved    EventType = "alert.resolved"
	EventStatusChanged    EventType = "status.changed"
	EventStepDone         EventType = "step.done"
	EventStepSkipped      EventType = "step.skipped"
	EventStepReopened     EventType = "step.reopened"
	EventNote             EventType = "note"
	EventMessagePinned    EventType = "message.pinned"
	EventMessageUnpinned  EventType = "message.unpinned"
	EventRoleChanged      EventType = "role.changed"
	EventSeverityChanged  EventType = "severity.changed"
	EventRunbookAttached  EventType = "runbook.attached"
	EventBreadcrumbOpened EventType = "breadcrumb.opened"
	EventPagerDutySync    EventType = "pagerduty.sync"
)

// Event is one entry of an incident's timeline. Events are never changed
// or removed once stored (an unpinned message is a new event).
type Event struct {
	// Key identifies the event for idempotency: storing a second event
	// with the same key on the same incident stores nothing. It is the
	// delivery's or the click's own ID when there is one.
	Key        string `json:"key"`
	IncidentID string `json:"incident_id"`
	// Seq is the event's position in the timeline, from 1, given by the
	// store.
	Seq  int64     `json:"seq"`
	Type EventType `json:"type"`
	// At is when it happened: for a pinned message, the message's own
	// time. RecordedAt is when it was stored.
	At         time.Time `json:"at"`
	RecordedAt time.Time `json:"recorded_at"`
	Actor      string    `json:"actor,omitempty"`
	// Source is where it came from: "slack", "pagerduty", "alertmanager",
	// "web", "cli", "breadcrumb".
	Source string `json:"source,omitempty"`
	Text   string `json:"text,omitempty"`
	// Data holds the details of the event's type: "from" and "to" for a
	// status or severity change, "step" for a step event, "role" and
	// "user" for a role change, "url" and "name" for a breadcrumb or a
	// pinned message, "alert" and "fingerprint" for an alert. "cut", on a
	// declaration or an alert's event, says what the caps (see
	// MaxValueBytes) cut from what arrived, with the original sizes;
	// "dropped", on an alert.fired event without "alert", counts the
	// alerts it stands for, which the incident does not keep.
	Data map[string]string `json:"data,omitempty"`
}

// MaxKeyLength is the longest event key stores accept.
const MaxKeyLength = 512

// Validate checks what every stored event must hold.
func (e Event) Validate() error {
	switch {
	case e.Key == "":
		return fmt.Errorf("event has no key: %w", ErrInvalid)
	case len(e.Key) > MaxKeyLength:
		return fmt.Errorf("event key is %d bytes, over %d: %w", len(e.Key), MaxKeyLength, ErrInvalid)
	case e.Type == "":
		return fmt.Errorf("event %s has no type: %w", e.Key, ErrInvalid)
	case e.At.IsZero():
		return fmt.Errorf("event %s has no time: %w", e.Key, ErrInvalid)
	}
	return nil
}
