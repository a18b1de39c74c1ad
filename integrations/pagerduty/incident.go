package pagerduty

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/internal/fault"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// Incident is the incident a v3 webhook's data holds for incident.triggered,
// .acknowledged, .resolved, .priority_updated and the other events whose
// data type is "incident".
type Incident struct {
	ID string `json:"id"`
	// Type is "incident", or "incident_reference" when Partial.
	Type string `json:"type"`
	// Self is the incident's REST API address.
	Self string `json:"self"`
	// HTMLURL is the incident's page in PagerDuty's web app.
	HTMLURL string `json:"html_url"`
	// Number is the incident's number in the account, as the web app shows it.
	Number int `json:"number"`
	// Status is "triggered", "acknowledged" or "resolved".
	Status string `json:"status"`
	// IncidentKey is the deduplication key; for an incident raised through
	// the Events API it is the event's dedup_key (for Alertmanager, a hash
	// of the alert group's key).
	IncidentKey string    `json:"incident_key"`
	CreatedAt   time.Time `json:"created_at"`
	// ReopenedAt is zero unless the incident was reopened.
	ReopenedAt time.Time `json:"reopened_at"`
	Title      string    `json:"title"`
	// IncidentType is nil on accounts without custom incident types.
	IncidentType     *IncidentType `json:"incident_type"`
	Service          *Reference    `json:"service"`
	Assignees        []Reference   `json:"assignees"`
	EscalationPolicy *Reference    `json:"escalation_policy"`
	Teams            []Reference   `json:"teams"`
	// Priority is nil when the account does not use priorities or the
	// incident has none; its Summary is the name, such as "P1".
	Priority *Reference `json:"priority"`
	// Urgency is "high" or "low".
	Urgency          string            `json:"urgency"`
	ConferenceBridge *ConferenceBridge `json:"conference_bridge"`
	// ResolveReason is nil unless the incident was resolved by merging it
	// into another.
	ResolveReason *ResolveReason `json:"resolve_reason"`

	// Partial is true when the event's data was another resource that only
	// refers to the incident (an incident.annotated note, a responder
	// request): then only ID, Type, Self, HTMLURL and Title (the
	// reference's summary, possibly empty) are known, and whoever needs the
	// rest fetches the incident over the REST API.
	Partial bool `json:"-"`
}

// IncidentType is the type of an incident on accounts that define them.
type IncidentType struct {
	Name string `json:"name"`
}

// ConferenceBridge is where responders meet.
type ConferenceBridge struct {
	// ConferenceNumber is the dial-in number. PagerDuty documents a string;
	// go-pagerduty's tests send a number, which is read as its digits.
	ConferenceNumber string `json:"conference_number"`
	ConferenceURL    string `json:"conference_url"`
}

// UnmarshalJSON reads a conference bridge whose number is a string, a
// number, null or something else (dropped).
func (c *ConferenceBridge) UnmarshalJSON(b []byte) error {
	var wire struct {
		ConferenceNumber json.RawMessage `json:"conference_number"`
		ConferenceURL    string          `json:"conference_url"`
	}
	if err := json.Unmarshal(b, &wire); err != nil {
		return err
	}
	*c = ConferenceBridge{ConferenceURL: wire.ConferenceURL}
	if isNull(wire.ConferenceNumber) {
		return nil
	}
	if err := json.Unmarshal(wire.ConferenceNumber, &c.ConferenceNumber); err == nil {
		return nil
	}
	// A number keeps its digits; anything else is dropped rather than
	// failing the whole incident over a field nobody matches on.
	var n json.Number
	if json.Unmarshal(wire.ConferenceNumber, &n) == nil {
		c.ConferenceNumber = n.String()
	}
	return nil
}

// ResolveReason says why an incident was resolved: "merge_resolve_reason"
// with the incident it was merged into.
type ResolveReason struct {
	Type     string     `json:"type"`
	Incident *Reference `json:"incident"`
}

// IncidentNote is the data of an incident.annotated event: a note added to
// an incident. Decode it with Event.DecodeData.
type IncidentNote struct {
	ID string `json:"id"`
	// Type is "incident_note".
	Type     string    `json:"type"`
	Incident Reference `json:"incident"`
	Content  string    `json:"content"`
	// Trimmed is true when PagerDuty cut a long note short.
	Trimmed bool `json:"trimmed"`
}

// Incident returns the incident an incident.* event is about.
//
// When the data is the incident itself, the result is complete. When it is
// another resource that refers to the incident (incident_note,
// incident_responder, incident_status_update, incident_conference_bridge
// and the other incident.* data types), the result is built from that
// reference and has Partial set. It returns an error matching
// ErrNotIncident for an event about another resource, and one matching
// ErrInvalid when the data is missing, malformed or names no incident.
func (e *Event) Incident() (*Incident, error) {
	if e.ResourceType != "incident" && !strings.HasPrefix(e.EventType, "incident.") {
		return nil, &fault.Error{Op: "pagerduty", Kind: ErrNotIncident, Msg: fmt.Sprintf("event %s is about a %q, not an incident", e.label(), short(e.ResourceType))}
	}
	if isNull(e.Data) {
		return nil, invalid(nil, fmt.Sprintf("event %s has no data", e.label()))
	}
	var head struct {
		Type        string     `json:"type"`
		Incident    *Reference `json:"incident"`
		Assignments []struct {
			Incident *Reference `json:"incident"`
		} `json:"incident_role_assignments"`
	}
	if err := json.Unmarshal(e.Data, &head); err != nil {
		return nil, invalid(err, jsonProblem(fmt.Sprintf("the data of event %s", e.label()), err))
	}
	ref := head.Incident
	if ref == nil && len(head.Assignments) > 0 {
		ref = head.Assignments[0].Incident
	}
	if head.Type == "incident" || (head.Type == "" && ref == nil) {
		var inc Incident
		if err := json.Unmarshal(e.Data, &inc); err != nil {
			return nil, invalid(err, jsonProblem(fmt.Sprintf("the incident of event %s", e.label()), err))
		}
		if inc.ID == "" && inc.Title == "" {
			return nil, invalid(nil, fmt.Sprintf("the incident of event %s has neither an id nor a title", e.label()))
		}
		return &inc, nil
	}
	if ref == nil || ref.ID == "" {
		return nil, invalid(nil, fmt.Sprintf("the %q data of event %s names no incident", short(head.Type), e.label()))
	}
	return &Incident{
		ID:      ref.ID,
		Type:    ref.Type,
		Self:    ref.Self,
		HTMLURL: ref.HTMLURL,
		Title:   ref.Summary,
		Partial: true,
	}, nil
}

// AlertFromIncident turns an incident into the alert that runbook matching
// reads. A webhook's incident has no labels or annotations of its own, so
// the alert is named after the title and matched by text: Name and Summary
// are the title, ExternalID the incident ID, Fingerprint the incident key,
// StartsAt the creation time, Status "firing" until the incident is
// resolved, and Labels hold "service" (the service's name), "urgency" and
// "priority" (such as "P1") when the incident has them.
func AlertFromIncident(inc *Incident) runbooks.Alert {
	a := runbooks.Alert{Source: runbooks.SourcePagerDuty}
	if inc == nil {
		return a
	}
	a.Name = inc.Title
	a.Summary = inc.Title
	a.ExternalID = inc.ID
	a.Fingerprint = inc.IncidentKey
	a.StartsAt = inc.CreatedAt
	a.Status = alertStatus(inc.Status)
	labels := map[string]string{}
	if inc.Service != nil && inc.Service.Summary != "" {
		labels["service"] = inc.Service.Summary
	}
	if inc.Urgency != "" {
		labels["urgency"] = inc.Urgency
	}
	if inc.Priority != nil && inc.Priority.Summary != "" {
		labels["priority"] = inc.Priority.Summary
	}
	if len(labels) > 0 {
		a.Labels = labels
	}
	a.Fill()
	return a
}

// alertStatus maps a PagerDuty incident or alert status to an alert's:
// anything not resolved still fires.
func alertStatus(s string) string {
	switch s {
	case "":
		return ""
	case "resolved":
		return "resolved"
	default:
		return "firing"
	}
}
