package alertmanager

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/inbox"
	"github.com/breadcrumb-oncall/breadcrumb/internal/fault"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// ProcessorConfig configures a Processor.
type ProcessorConfig struct {
	// Service applies the notifications; required.
	Service *incidents.Service
	// AutoResolve, when true, resolves an incident as soon as a
	// notification resolves the last of its firing alerts. By default the
	// incident is left open for people to resolve: an alert that stops
	// firing says the symptom went away, not that the work (a rollback to
	// undo, a follow-up to write) is done, so the bot offers a Resolve
	// button instead when it sees the last alert.resolved event.
	AutoResolve bool
	// Logger receives what each notification did; nil discards.
	Logger *slog.Logger
}

// Processor turns the Alertmanager notifications taken from the inbox into
// incidents: it implements inbox.Handler.
type Processor struct {
	svc         *incidents.Service
	autoResolve bool
	logger      *slog.Logger
}

var _ inbox.Handler = (*Processor)(nil)

// NewProcessor returns a Processor over cfg.Service.
func NewProcessor(cfg ProcessorConfig) *Processor {
	p := &Processor{svc: cfg.Service, autoResolve: cfg.AutoResolve, logger: cfg.Logger}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	return p
}

// Actor is the actor of the timeline events a notification makes.
const Actor = "alertmanager"

// HandleDelivery applies one stored notification: its group's incident is
// opened if it has none open and an alert fires, its alerts that fired or
// resolved are recorded, and, with AutoResolve, the incident is resolved
// when none fires any more. A body that does not decode, or that has no
// group key, is a permanent error (inbox.Permanent); a store failure
// is returned as it is, for another attempt. Applying a notification
// twice changes nothing the second time.
func (p *Processor) HandleDelivery(ctx context.Context, d inbox.Delivery) error {
	m, err := Decode(bytes.NewReader(d.Body), int64(len(d.Body)))
	if err != nil {
		return fault.Permanent(fmt.Errorf("alertmanager: delivery %s: %w", d.ID, err))
	}
	if strings.TrimSpace(m.GroupKey) == "" {
		return fault.Permanent(fmt.Errorf("alertmanager: delivery %s: the notification has no group key: %w", d.ID, ErrInvalid))
	}
	// Late copies of earlier reports (from another Alertmanager of a
	// cluster, or a delivery taken again) are ReportAlerts' to ignore.
	g := Group(m)
	a := incidents.Action{Key: d.ID, Actor: Actor, Source: Source, At: d.ReceivedAt}
	res, err := p.svc.ReportAlerts(ctx, g, a)
	if err != nil {
		err = fmt.Errorf("alertmanager: delivery %s: group %s: %w", d.ID, short(m.GroupKey), err)
		if errors.Is(err, incidents.ErrInvalid) {
			return fault.Permanent(err)
		}
		return err
	}
	if res.Incident == nil {
		p.logger.Debug("alertmanager notification without incident: nothing fires", "delivery_id", d.ID, "alerts", len(g.Alerts))
		return nil
	}
	log := p.logger.With("delivery_id", d.ID, "incident_id", res.Incident.ID)
	log.Debug("alertmanager notification applied", "created", res.Created, "fired", res.Fired, "resolved", res.Resolved, "all_resolved", res.AllResolved)
	if !p.resolvable(res, m) {
		return nil
	}
	if !p.autoResolve {
		log.Info("every alert of the group resolved; the incident may be resolved")
		return nil
	}
	_, err = p.svc.Transition(ctx, res.Incident.ID, incidents.StatusResolved, incidents.Action{
		Key: d.ID + ":resolve", Actor: Actor, Source: Source,
		Text: "Every alert of the group resolved.",
	})
	if errors.Is(err, incidents.ErrInvalid) {
		// Someone resolved it meanwhile.
		return nil
	}
	if err != nil {
		return fmt.Errorf("alertmanager: delivery %s: auto-resolve: %w", d.ID, err)
	}
	log.Info("every alert of the group resolved; incident resolved")
	return nil
}

// resolvable reports whether the notification left the incident with no
// firing alert. ReportAlerts says so when it resolved the last alert; a
// notification taken again after a failure between the report and the
// resolution finds the alerts already resolved, so the incident's own
// alerts and the group's status decide then.
func (p *Processor) resolvable(res incidents.AlertsResult, m *Message) bool {
	if !res.Incident.Status.Open() {
		return false
	}
	if res.AllResolved {
		return true
	}
	if m.Status != "resolved" || len(res.Incident.Alerts) == 0 {
		return false
	}
	for _, st := range res.Incident.Alerts {
		if st.Status != "resolved" {
			return false
		}
	}
	return true
}

// Group turns a notification into the alert group it reports: one
// incident per group key.
//
//   - Refs: incidents.RefAlertmanagerGroup → the group key.
//   - Title: the common summary annotation; else the common alertname,
//     followed by the number of firing alerts when there are several
//     ("KubePodCrashLooping (3 alerts)"); else the first firing alert's
//     summary or name, its spaces and line breaks made single spaces.
//     The title is fixed when the incident opens, so a count is the
//     group's size at that moment; the Service cuts it to
//     incidents.MaxTitleRunes, and says so on the timeline.
//   - Severity: the worst severity label of the firing alerts (of all
//     alerts when none fires), by Severity.
//   - Service: from the common labels, by runbooks.Alert.Service (service,
//     app, app_kubernetes_io_name, job).
//   - Source: "alertmanager"; Alerts: every alert, firing and resolved.
func Group(m *Message) incidents.AlertGroup {
	alerts := m.Alerts()
	var firing []runbooks.Alert
	for _, a := range alerts {
		if a.Status != "resolved" {
			firing = append(firing, a)
		}
	}
	sevFrom := firing
	if len(sevFrom) == 0 {
		sevFrom = alerts
	}
	sev := 0
	for _, a := range sevFrom {
		if s := Severity(a.Labels["severity"]); s != 0 && (sev == 0 || s < sev) {
			sev = s
		}
	}
	common := runbooks.Alert{Labels: m.CommonLabels}
	return incidents.AlertGroup{
		Refs:     map[string]string{incidents.RefAlertmanagerGroup: m.GroupKey},
		Title:    title(m, firing),
		Severity: sev,
		Service:  common.Service(),
		Source:   Source,
		Alerts:   alerts,
	}
}

func title(m *Message, firing []runbooks.Alert) string {
	t := strings.TrimSpace(m.CommonAnnotations["summary"])
	if t == "" {
		if name := strings.TrimSpace(m.CommonLabels["alertname"]); name != "" {
			t = name
			if len(firing) > 1 {
				t += " (" + strconv.Itoa(len(firing)) + " alerts)"
			}
		}
	}
	if t == "" {
		for _, a := range firing {
			if t = strings.TrimSpace(cmp.Or(a.Summary, a.Name)); t != "" {
				break
			}
		}
	}
	return strings.Join(strings.Fields(t), " ")
}

// Severity maps an alert's severity label to an incident severity, 1 the
// worst, case-insensitively: critical, crit, page, emergency, fatal,
// disaster, p1 and sev1 are 1; error, high, major, p2 and sev2 are 2;
// warning, warn, medium, average, p3 and sev3 are 3; info, low, minor,
// notice, p4 and sev4 are 4; none, debug, p5 and sev5 are 5. Anything
// else, or no label, is 0: unknown.
func Severity(label string) int {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "critical", "crit", "page", "emergency", "fatal", "disaster", "p1", "sev1":
		return 1
	case "error", "high", "major", "p2", "sev2":
		return 2
	case "warning", "warn", "medium", "average", "p3", "sev3":
		return 3
	case "info", "low", "minor", "notice", "p4", "sev4":
		return 4
	case "none", "debug", "p5", "sev5":
		return 5
	}
	return 0
}
