package pagerduty

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/inbox"
	"github.com/breadcrumb-oncall/breadcrumb/internal/fault"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// Source is the name under which PagerDuty's changes are recorded: the
// Source of the incidents it opens and of the timeline events it brings.
const Source = "pagerduty"

// ProcessorConfig configures a Processor.
type ProcessorConfig struct {
	// Incidents applies the events. Required.
	Incidents *incidents.Service
	// Client fetches an incident's alerts when it is triggered; nil (no API
	// token) builds the one alert from the webhook's incident instead.
	Client *Client
	// Logger receives what was ignored and why; nil discards it.
	Logger *slog.Logger
	// CallTimeout bounds one REST call; 0 means 10 s.
	CallTimeout time.Duration
	// FetchAttempts is how many attempts of a delivery may fail to fetch
	// the alerts for a reason that may pass (a 429, a 5xx, the network)
	// before the incident is opened from the webhook alone; 0 means 3.
	FetchAttempts int
}

// Processor applies the PagerDuty webhooks that the HTTP handler stored in
// the inbox to incidents. It is an inbox.Handler, safe for
// concurrent use, and idempotent: a delivery processed twice changes
// nothing the second time.
type Processor struct {
	svc      *incidents.Service
	client   *Client
	log      *slog.Logger
	timeout  time.Duration
	attempts int
}

var _ inbox.Handler = (*Processor)(nil)

// NewProcessor returns a Processor. It panics when cfg.Incidents is nil, a
// wiring mistake.
func NewProcessor(cfg ProcessorConfig) *Processor {
	if cfg.Incidents == nil {
		panic("pagerduty: NewProcessor without an incidents.Service")
	}
	p := &Processor{svc: cfg.Incidents, client: cfg.Client, log: cfg.Logger, timeout: cfg.CallTimeout, attempts: cfg.FetchAttempts}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.timeout <= 0 {
		p.timeout = 10 * time.Second
	}
	if p.attempts <= 0 {
		p.attempts = 3
	}
	return p
}

// Event types the Processor applies.
const (
	EventTriggered       = "incident.triggered"
	EventAcknowledged    = "incident.acknowledged"
	EventUnacknowledged  = "incident.unacknowledged"
	EventReassigned      = "incident.reassigned"
	EventEscalated       = "incident.escalated"
	EventPriorityUpdated = "incident.priority_updated"
	EventAnnotated       = "incident.annotated"
	EventResolved        = "incident.resolved"
	EventReopened        = "incident.reopened"
)

var handled = map[string]bool{
	EventTriggered: true, EventAcknowledged: true, EventUnacknowledged: true, EventReassigned: true,
	EventEscalated: true, EventPriorityUpdated: true, EventAnnotated: true, EventResolved: true, EventReopened: true,
}

// HandleDelivery applies one stored webhook. A body that does not decode,
// or an incident event without a valid incident, is a permanent error. A
// change that would change nothing, that is older than the last status
// change PagerDuty reported, or that the incident rules refuse, is
// skipped with a log line and nil. A failure of the store, or of
// PagerDuty's API that a retry may fix, is returned, for the inbox to hand
// the delivery out again.
func (p *Processor) HandleDelivery(ctx context.Context, d inbox.Delivery) error {
	ev, err := DecodeWebhook(bytes.NewReader(d.Body), max(int64(len(d.Body)), DefaultLimit))
	if err != nil {
		return fault.Permanent(fmt.Errorf("pagerduty: delivery %s: %w", d.ID, err))
	}
	log := p.log.With("delivery_id", d.ID, "event_type", ev.EventType)
	if !handled[ev.EventType] {
		log.Debug("pagerduty event ignored")
		return nil
	}
	pdInc, err := ev.Incident()
	if err != nil {
		return fault.Permanent(fmt.Errorf("pagerduty: delivery %s: %w", d.ID, err))
	}
	if !validID.MatchString(pdInc.ID) {
		return fault.Permanent(fmt.Errorf("pagerduty: delivery %s: incident ID %q: %w", d.ID, short(pdInc.ID), ErrInvalidID))
	}
	key := d.ID
	if ev.ID != "" {
		key = "pagerduty:" + ev.ID
	}
	at := ev.OccurredAt
	if at.IsZero() {
		at = d.ReceivedAt
	}
	act := incidents.Action{Key: key, Actor: agentName(ev.Agent), Source: Source, At: at}
	log = log.With("pagerduty_incident", pdInc.ID)

	local, err := p.svc.FindByRef(ctx, incidents.RefPagerDutyIncident, pdInc.ID)
	switch {
	case err == nil && (ev.EventType != EventTriggered || !local.Status.Open()):
		// A late triggered adds nothing to an incident already resolved.
	case err == nil || errors.Is(err, incidents.ErrNotFound):
		// A triggered event opens the incident (or adds the alerts it
		// fetched to one that another event opened first); any other event
		// that comes before its triggered opens it as well, then applies.
		local, err = p.open(ctx, log, pdInc, act, d.Attempts < p.attempts)
		if err != nil || local == nil {
			return err
		}
	default:
		return fmt.Errorf("pagerduty: delivery %s: find incident %s: %w", d.ID, pdInc.ID, err)
	}
	log = log.With("incident_id", local.ID)

	switch ev.EventType {
	case EventTriggered:
		return nil
	case EventAcknowledged:
		return p.transition(ctx, log, local.ID, incidents.StatusAcknowledged, act)
	case EventUnacknowledged, EventReopened:
		return p.transition(ctx, log, local.ID, incidents.StatusTriggered, act)
	case EventResolved:
		if err := p.transition(ctx, log, local.ID, incidents.StatusResolved, act); err != nil {
			return err
		}
		return p.resolveAlerts(ctx, local.ID, act)
	case EventReassigned, EventEscalated:
		verb := map[string]string{EventReassigned: "Reassigned", EventEscalated: "Escalated"}[ev.EventType]
		text := verb + " in PagerDuty"
		if names := assigneeNames(pdInc); names != "" {
			text += " to " + names
		}
		return p.synced(ctx, local.ID, text, act)
	case EventPriorityUpdated:
		return p.priority(ctx, log, local.ID, pdInc, act)
	case EventAnnotated:
		return p.note(ctx, log, ev, local.ID, act)
	}
	return nil
}

// open opens the incident of a PagerDuty incident, or adds to it the
// alerts it did not have, through ReportAlerts, which attaches the
// Enricher's runbook and links.
func (p *Processor) open(ctx context.Context, log *slog.Logger, pdInc *Incident, act incidents.Action, mayRetry bool) (*incidents.Incident, error) {
	alerts, err := p.alerts(ctx, log, pdInc, act.At, mayRetry)
	if err != nil {
		return nil, err
	}
	// The alerts fired, whatever they are now: the status events that
	// follow (or that this one carries) record the rest.
	firing := false
	for _, a := range alerts {
		firing = firing || a.Status != "resolved"
	}
	if !firing {
		for i := range alerts {
			alerts[i].Status, alerts[i].EndsAt = "firing", time.Time{}
		}
	}
	g := incidents.AlertGroup{
		Refs:     map[string]string{incidents.RefPagerDutyIncident: pdInc.ID},
		Title:    cmp.Or(strings.TrimSpace(pdInc.Title), alerts[0].Summary, alerts[0].Name, "PagerDuty incident "+pdInc.ID),
		Severity: Severity(pdInc),
		Service:  alerts[0].Service(),
		Source:   Source,
		Alerts:   alerts,
	}
	if g.Service == "" && pdInc.Service != nil {
		g.Service = pdInc.Service.Summary
	}
	res, err := p.svc.ReportAlerts(ctx, g, incidents.Action{Actor: act.Actor, Source: Source, At: firstTime(pdInc.CreatedAt, act.At)})
	if err != nil {
		return nil, fmt.Errorf("pagerduty: open incident for %s: %w", pdInc.ID, err)
	}
	if res.Created {
		log.Info("incident opened from pagerduty", "incident_id", res.Incident.ID, "alerts", len(alerts))
	}
	return res.Incident, nil
}

// alerts returns the PagerDuty incident's alerts: fetched when a client is
// set and the API answers, else the one alert the webhook's incident
// makes. A failure that a retry may fix is returned while mayRetry; any
// other is logged and the webhook's incident used, rather than losing or
// delaying the incident.
func (p *Processor) alerts(ctx context.Context, log *slog.Logger, pdInc *Incident, at time.Time, mayRetry bool) ([]runbooks.Alert, error) {
	if p.client != nil {
		cctx, cancel := context.WithTimeout(ctx, p.timeout)
		alerts, err := p.client.IncidentAlerts(cctx, pdInc.ID)
		cancel()
		switch {
		case err == nil && len(alerts) > 0:
			return alerts, nil
		case err != nil && IsRetryable(err) && mayRetry:
			return nil, err
		case err != nil:
			log.Warn("pagerduty alerts not fetched; using the webhook's incident", "err", err)
		}
	}
	a := AlertFromIncident(pdInc)
	if a.Name == "" {
		a.Name = "PagerDuty incident " + pdInc.ID
	}
	// Every event of the incident makes this alert, some from a mere
	// reference to the incident: only its ID identifies it in all.
	a.Fingerprint = "pagerduty:" + pdInc.ID
	if a.StartsAt.IsZero() {
		// A mere reference has no creation time: the event's time is the
		// earliest known, and a later trigger that brings the real one,
		// earlier still, is then not taken for the alert firing again.
		a.StartsAt = at
	}
	return []runbooks.Alert{a}, nil
}

// transition moves the incident to a status PagerDuty reports. The
// incident's rules say whether it applies: not twice (by the event's
// key), not when it has the status already (the echo of a change made
// here), not when the event is older than the last status change
// PagerDuty reported (a late delivery), and only along the moves they
// allow.
func (p *Processor) transition(ctx context.Context, log *slog.Logger, id string, to incidents.Status, act incidents.Action) error {
	outcome, err := p.svc.SyncStatus(ctx, id, to, act)
	if err != nil {
		return fmt.Errorf("pagerduty: %s %s: %w", to, id, err)
	}
	switch outcome {
	case incidents.StatusHeld:
		log.Debug("pagerduty status already applied", "status", to)
	case incidents.StatusLate:
		log.Info("pagerduty status event older than the last one applied; ignored", "status", to, "occurred_at", act.At)
	case incidents.StatusRefused:
		log.Info("pagerduty status not applied: the incident rules do not allow it", "to", to)
	}
	return nil
}

// resolveAlerts records the incident's firing alerts resolved, as
// PagerDuty resolves an incident's alerts with it.
func (p *Processor) resolveAlerts(ctx context.Context, id string, act incidents.Action) error {
	inc, err := p.svc.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("pagerduty: resolve alerts of %s: %w", id, err)
	}
	var alerts []runbooks.Alert
	for _, st := range inc.Alerts {
		if st.Status == "resolved" {
			continue
		}
		alerts = append(alerts, runbooks.Alert{Name: st.Name, Fingerprint: st.Fingerprint, Status: "resolved",
			Labels: st.Labels, Summary: st.Summary, StartsAt: st.StartsAt, EndsAt: act.At, Source: Source})
	}
	if len(alerts) == 0 {
		return nil
	}
	g := incidents.AlertGroup{Refs: inc.Refs, Source: Source, Alerts: alerts}
	if _, err := p.svc.ReportAlerts(ctx, g, incidents.Action{Actor: act.Actor, Source: Source, At: act.At}); err != nil {
		return fmt.Errorf("pagerduty: resolve alerts of %s: %w", id, err)
	}
	return nil
}

func (p *Processor) priority(ctx context.Context, log *slog.Logger, id string, pdInc *Incident, act incidents.Action) error {
	// Only a priority says the severity here: an incident whose priority
	// was removed, or is not P1 to P5, keeps the severity it has.
	sev := prioritySeverity(pdInc.Priority)
	name := "none"
	if pdInc.Priority != nil && pdInc.Priority.Summary != "" {
		name = pdInc.Priority.Summary
	}
	inc, err := p.svc.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("pagerduty: priority of %s: %w", id, err)
	}
	if sev == 0 || inc.Severity == sev {
		return p.synced(ctx, id, "Priority set to "+name+" in PagerDuty", act)
	}
	act.Text = "priority " + name + " in PagerDuty"
	if _, err := p.svc.SetSeverity(ctx, id, sev, act); err != nil {
		if errors.Is(err, incidents.ErrInvalid) {
			log.Info("pagerduty priority not applied", "err", err)
			return nil
		}
		return fmt.Errorf("pagerduty: priority of %s: %w", id, err)
	}
	return nil
}

// note puts a PagerDuty note on the timeline, unless it is one that
// Breadcrumb sent: the Syncer records those under the key the note gets
// here, and a note whose text is that of a note made here is one too.
func (p *Processor) note(ctx context.Context, log *slog.Logger, ev *Event, id string, act incidents.Action) error {
	var n IncidentNote
	if err := ev.DecodeData(&n); err != nil {
		return fault.Permanent(fmt.Errorf("pagerduty: note on %s: %w", id, err))
	}
	content := strings.TrimSpace(n.Content)
	if content == "" {
		return nil
	}
	if n.ID != "" {
		act.Key = NoteKey(n.ID)
	}
	events, err := p.svc.Timeline(ctx, id, 0, 0)
	if err != nil {
		return fmt.Errorf("pagerduty: note on %s: %w", id, err)
	}
	for _, e := range events {
		if e.Key == act.Key {
			return nil
		}
		if e.Type == incidents.EventNote && e.Source != Source && isSentNote(content, e.Text) {
			log.Debug("pagerduty note is one sent from here; not added again", "note_id", n.ID)
			return nil
		}
	}
	act.Text = content
	if err := p.svc.Note(ctx, id, act); err != nil {
		return fmt.Errorf("pagerduty: note on %s: %w", id, err)
	}
	return nil
}

func (p *Processor) synced(ctx context.Context, id, text string, act incidents.Action) error {
	if err := p.svc.Synced(ctx, id, text, act); err != nil {
		return fmt.Errorf("pagerduty: record on %s: %w", id, err)
	}
	return nil
}

// NoteKey is the timeline key of the PagerDuty note with that ID, on the
// note that came from PagerDuty or on the record of the one sent there.
func NoteKey(noteID string) string { return "pagerduty:note:" + noteID }

// NoteContent is the text a note made in Breadcrumb has in PagerDuty. A
// note sent on behalf of its author's own PagerDuty user (mapped) is the
// text; one sent as the default user says who wrote it.
func NoteContent(actor, text string, mapped bool) string {
	text = strings.TrimSpace(text)
	if mapped || actor == "" {
		return text
	}
	return text + "\n\n(" + actor + ", via Breadcrumb)"
}

// isSentNote reports whether content, a PagerDuty note, is what
// NoteContent makes of text, whoever it names.
func isSentNote(content, text string) bool {
	text = strings.TrimSpace(text)
	if content == text {
		return true
	}
	rest, ok := strings.CutPrefix(content, text+"\n\n(")
	return ok && strings.HasSuffix(rest, ", via Breadcrumb)")
}

// Severity is the incident severity (1, the worst, to 5) for a PagerDuty
// incident: its priority's number when the priority is named P1 to P5 (or
// SEV1 to SEV5), else 2 for a high urgency and 4 for a low one, else 0
// (unknown).
func Severity(inc *Incident) int {
	if inc == nil {
		return 0
	}
	if n := prioritySeverity(inc.Priority); n > 0 {
		return n
	}
	switch inc.Urgency {
	case "high":
		return 2
	case "low":
		return 4
	}
	return 0
}

// prioritySeverity reads a priority named P1 to P5 or SEV1 to SEV5; 0 for
// any other.
func prioritySeverity(p *Reference) int {
	if p == nil {
		return 0
	}
	name := strings.ToUpper(strings.TrimSpace(p.Summary))
	for _, prefix := range []string{"SEV", "P"} {
		if rest, ok := strings.CutPrefix(name, prefix); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(rest)); err == nil && n >= 1 && n <= 5 {
				return n
			}
		}
	}
	return 0
}

func agentName(r *Reference) string {
	if r == nil {
		return ""
	}
	return cmp.Or(r.Summary, r.ID)
}

func assigneeNames(inc *Incident) string {
	var names []string
	for _, a := range inc.Assignees {
		if n := cmp.Or(a.Summary, a.ID); n != "" {
			names = append(names, n)
		}
	}
	return strings.Join(names, ", ")
}

func firstTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}
