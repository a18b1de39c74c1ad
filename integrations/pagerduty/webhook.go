package pagerduty

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/integrations/internal/payload"
	"github.com/breadcrumb-oncall/breadcrumb/internal/fault"
)

// DefaultLimit is the body size DecodeWebhook allows when it is given a
// limit of zero or less. PagerDuty's webhooks are a few kilobytes.
const DefaultLimit = 1 << 20

// Decode errors. Every error DecodeWebhook and Event's methods return for
// bad input matches one of them with errors.Is.
var (
	// ErrInvalid marks input that is not what PagerDuty sends.
	ErrInvalid = errors.New("invalid pagerduty webhook")
	// ErrTooLarge marks a body over the size limit.
	ErrTooLarge = errors.New("pagerduty webhook too large")
	// ErrNotIncident marks an event that is about something else than an
	// incident, such as service.updated or pagey.ping.
	ErrNotIncident = errors.New("pagerduty event is not about an incident")
)

// Event is the event a PagerDuty v3 webhook carries: the "event" object of
// the body.
type Event struct {
	// ID identifies the event; PagerDuty sends the same ID again when it
	// retries a delivery.
	ID string `json:"id"`
	// EventType says what happened, such as "incident.triggered".
	EventType string `json:"event_type"`
	// ResourceType is the kind of resource the event is about, such as
	// "incident" or "service".
	ResourceType string `json:"resource_type"`
	// OccurredAt is when the change happened.
	OccurredAt time.Time `json:"occurred_at"`
	// Agent is who or what made the change (a user, a service); nil when
	// PagerDuty sends null.
	Agent *Reference `json:"agent"`
	// Client is where the change was made from; nil when PagerDuty sends
	// null.
	Client *EventClient `json:"client"`
	// Data is the resource, in a shape that depends on EventType. It is
	// kept raw: Incident and DecodeData read it.
	Data json.RawMessage `json:"data"`
}

// EventClient names where an event was triggered from.
type EventClient struct {
	Name string `json:"name"`
}

// Reference is PagerDuty's reference to another object: a user, service,
// team, escalation policy, priority or incident.
type Reference struct {
	ID string `json:"id"`
	// Type is the kind of reference, such as "service_reference".
	Type string `json:"type"`
	// Summary is the object's name or title; PagerDuty sometimes sends null,
	// read as "".
	Summary string `json:"summary"`
	// Self is the object's REST API address.
	Self string `json:"self"`
	// HTMLURL is the object's page in PagerDuty's web app.
	HTMLURL string `json:"html_url"`
}

// DecodeWebhook reads one v3 webhook body from r, at most limit bytes of it
// (a limit of zero or less means DefaultLimit), and returns its event.
//
// It rejects, with an error matching ErrInvalid, a body that is empty, is
// not a JSON object, has no "event" object or an event without
// "event_type", and, with an error matching ErrTooLarge, a body over the
// limit. Unknown fields are ignored and the event's data is not looked at:
// an event of a type this package does not know still decodes. An error
// reading r is returned wrapped as it is.
func DecodeWebhook(r io.Reader, limit int64) (*Event, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, tooLarge(limit)
		}
		return nil, fmt.Errorf("pagerduty: read webhook body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, tooLarge(limit)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, invalid(nil, "the body is empty, want a PagerDuty v3 webhook (JSON)")
	}
	var wire struct {
		Event *Event `json:"event"`
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		return nil, invalid(err, jsonProblem("the body", err))
	}
	ev := wire.Event
	switch {
	case ev == nil:
		return nil, invalid(nil, `the body has no "event" object (want a PagerDuty v3 webhook)`)
	case ev.EventType == "":
		return nil, invalid(nil, `the event has no "event_type"`)
	}
	return ev, nil
}

// DecodeData decodes the event's data into v, for the data types that have
// no method of their own (an IncidentNote, a service). It returns an error
// matching ErrInvalid when the event has no data or the data does not fit v.
func (e *Event) DecodeData(v any) error {
	if isNull(e.Data) {
		return invalid(nil, fmt.Sprintf("event %s has no data", e.label()))
	}
	if err := json.Unmarshal(e.Data, v); err != nil {
		return invalid(err, jsonProblem(fmt.Sprintf("the data of event %s", e.label()), err))
	}
	return nil
}

// label names the event in messages: its type, and its ID when it has one.
func (e *Event) label() string {
	if e.ID == "" {
		return short(e.EventType)
	}
	return short(e.EventType) + " " + short(e.ID)
}

func isNull(raw json.RawMessage) bool {
	s := strings.TrimSpace(string(raw))
	return s == "" || s == "null"
}

func invalid(cause error, msg string) error {
	return &fault.Error{Op: "pagerduty", Kind: ErrInvalid, Msg: msg, Cause: cause}
}

func tooLarge(limit int64) error { return payload.TooLarge("pagerduty", ErrTooLarge, limit) }

var (
	jsonProblem = payload.Describe
	short       = payload.Short
)
