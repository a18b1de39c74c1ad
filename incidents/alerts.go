package incidents

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// AlertState is one alert of an incident, as last reported by its sender.
type AlertState struct {
	Name        string            `json:"name"`
	Fingerprint string            `json:"fingerprint"`
	Status      string            `json:"status"` // "firing" or "resolved"
	Labels      map[string]string `json:"labels,omitempty"`
	Summary     string            `json:"summary,omitempty"`
	StartsAt    time.Time         `json:"starts_at,omitzero"`
	EndsAt      time.Time         `json:"ends_at,omitzero"`
	// GeneratorURL is the sender's link to the alert's expression.
	GeneratorURL string `json:"generator_url,omitempty"`
}

// Link is a breadcrumb or dashboard filled for an incident: a ready URL.
// Responders open it through Breadcrumb's redirect, which records the
// click on the timeline.
type Link struct {
	Name string `json:"name"`
	// Kind is one of runbooks' breadcrumb kinds: logs, metrics, traces,
	// dashboard, link.
	Kind string `json:"kind"`
	URL  string `json:"url"`
	// Provider names the configured provider that made it, or "runbook"
	// when it came from the runbook's front matter, or "step" when a step
	// named it.
	Provider string `json:"provider,omitempty"`
	// Step is the runbook step that names the link; 0 for the incident's
	// home.
	Step int `json:"step,omitempty"`
}

// Enrichment is what an incident opened by alerts should carry: the
// runbook that matches them, its steps, and the breadcrumbs filled for
// them.
type Enrichment struct {
	Runbook *RunbookRef
	Steps   []StepProgress
	Links   []Link
	// Suggestions and Searches, when no runbook fitted well enough to
	// attach: the runbooks that might, and searches worth trying.
	Suggestions []RunbookRef
	Searches    []string
}

// Enricher finds an Enrichment for alerts. It must not fail: what it
// cannot find, it leaves out. The Service calls it once, when an incident
// opens.
type Enricher interface {
	Enrich(ctx context.Context, incidentID string, alerts []runbooks.Alert) Enrichment
}

// AlertGroup is what a sender reports about a group of alerts that makes
// one incident: an Alertmanager group, or a PagerDuty incident.
type AlertGroup struct {
	// Refs identify the incident at the sender (RefAlertmanagerGroup,
	// RefPagerDutyIncident).
	Refs map[string]string
	// Title, Severity and Service are used when the group opens an
	// incident.
	Title    string
	Severity int
	Service  string
	Source   string
	// Alerts are the group's alerts in this notification, firing and
	// resolved. Alerts the incident knows and that are absent here are
	// left as they are.
	Alerts []runbooks.Alert
}

// Observer learns of every change a Service stores: the incident after
// the change and the events stored with it (duplicates, which store
// nothing, are not reported). Observe is called synchronously, after the
// change is durable, by the goroutine that made it: it must return
// quickly (queue the work). It is not called for changes that other
// replicas make.
type Observer interface {
	Observe(ctx context.Context, inc *Incident, events []Event)
}

// AlertsResult is what ReportAlerts did.
type AlertsResult struct {
	// Incident is the group's incident after the report; nil when the
	// report held no firing alert and the group has no incident.
	Incident *Incident
	// Created is true when the report opened the incident.
	Created bool
	// Fired and Resolved count the alerts this report found newly firing
	// and newly resolved; both are 0 for a repeated report.
	Fired, Resolved int
	// AllResolved is true when this report resolved the incident's last
	// firing alert: the incident may be offered for resolution.
	AllResolved bool
}

// MaxAlerts caps the alerts one incident keeps; later ones are counted on
// the timeline only, as are those that MaxIncidentBytes leaves out.
const MaxAlerts = 1000

// ReportAlerts applies a sender's report about an alert group. When an
// alert fires and the group has no open incident, it opens one (with the
// Enricher's runbook, steps and links). Each alert that fires anew or
// resolves is kept in Incident.Alerts and recorded on the timeline under
// a key made of its fingerprint, status and start, so that a repeated
// report, from this replica or another, changes nothing. The caps apply
// to what arrives (see MaxValueBytes): values are cut rather than
// refused, and an alert the incident has no room for is counted on the
// timeline; nothing is refused for its size.
func (s *Service) ReportAlerts(ctx context.Context, g AlertGroup, a Action) (AlertsResult, error) {
	var res AlertsResult
	firing := false
	// Each alert's key is taken from what the sender sent; then the caps
	// apply (see MaxValueBytes), to a copy, and what they cut goes on the
	// alert's event.
	g.Alerts = append([]runbooks.Alert(nil), g.Alerts...)
	keys := make([]string, len(g.Alerts))
	cutNotes := make([]string, len(g.Alerts))
	for i := range g.Alerts {
		g.Alerts[i].Fill()
		keys[i] = alertKey(g.Alerts[i])
		cutNotes[i] = capAlert(&g.Alerts[i]).String()
		firing = firing || g.Alerts[i].Status != "resolved"
	}
	// apply records the report's alerts on inc, the group's incident,
	// and returns their events (errNoChange for none).
	apply := func(inc *Incident, now time.Time) ([]Event, error) {
		id := inc.ID
		res.Fired, res.Resolved, res.AllResolved = 0, 0, false
		var events []Event
		var dropped, oversize []string
		wasFiring := false
		for _, st := range inc.Alerts {
			wasFiring = wasFiring || st.Status != "resolved"
		}
		pos := make(map[string]int, len(inc.Alerts))
		for k, st := range inc.Alerts {
			pos[st.Fingerprint] = k
		}
		budget := newSizeBudget(inc)
		for n, al := range g.Alerts {
			fp := keys[n]
			i, known := pos[fp]
			if !known {
				i = -1
			}
			resolved := al.Status == "resolved"
			start := al.StartsAt.UTC().Format(time.RFC3339Nano)
			act := Action{Actor: a.Actor, Source: cmp.Or(a.Source, g.Source, al.Source), Text: cmp.Or(al.Summary, al.Name)}
			switch {
			case i < 0 && resolved:
				continue // an alert we never saw fire; nothing to undo
			case i < 0:
				if len(inc.Alerts) >= MaxAlerts {
					dropped = append(dropped, fp)
					continue
				}
				st := alertState(al, fp)
				kept, form, ok := budget.fit(nil, st, shrunk(st))
				if !ok {
					oversize = append(oversize, fp)
					continue
				}
				pos[fp] = len(inc.Alerts)
				inc.Alerts = append(inc.Alerts, kept)
				act.Key, act.At = "alert:"+fp+":fired:"+start, al.StartsAt
				events = append(events, s.event(id, act, "", EventAlertFired, now, act.Text,
					map[string]string{"alert": al.Name, "fingerprint": fp, "cut": joinNotes(cutNotes[n], sizeNote(form))}))
				res.Fired++
			case al.StartsAt.Before(inc.Alerts[i].StartsAt):
				continue // a late report of an earlier occurrence
			case resolved && inc.Alerts[i].Status != "resolved":
				inc.Alerts[i].Status, inc.Alerts[i].EndsAt = "resolved", al.EndsAt.UTC()
				act.Key, act.At = "alert:"+fp+":resolved:"+start, al.EndsAt
				events = append(events, s.event(id, act, "", EventAlertResolved, now, act.Text, map[string]string{"alert": al.Name, "fingerprint": fp}))
				res.Resolved++
			case !resolved && refires(al, inc.Alerts[i]) && (inc.Alerts[i].Status == "resolved" || al.StartsAt.After(inc.Alerts[i].StartsAt)):
				st, old := alertState(al, fp), inc.Alerts[i]
				// The last form takes no more room than the occurrence
				// it replaces, so the alert is always kept.
				kept, form, _ := budget.fit(&old, st, shrunk(st), bare(old, st))
				inc.Alerts[i] = kept
				act.Key, act.At = "alert:"+fp+":fired:"+start, al.StartsAt
				events = append(events, s.event(id, act, "", EventAlertFired, now, act.Text,
					map[string]string{"alert": al.Name, "fingerprint": fp, "cut": joinNotes(cutNotes[n], sizeNote(form))}))
				res.Fired++
			}
		}
		if len(dropped) > 0 {
			text := fmt.Sprintf("%d more alerts fired; over the %d an incident keeps, they are counted here only", len(dropped), MaxAlerts)
			act := Action{Key: "alerts-over-cap:" + keysHash(dropped), Actor: a.Actor, Source: cmp.Or(a.Source, g.Source)}
			events = append(events, s.event(id, act, "", EventAlertFired, now, text, map[string]string{"dropped": strconv.Itoa(len(dropped))}))
		}
		if len(oversize) > 0 {
			text := fmt.Sprintf("%d more alerts fired; the incident is at its size cap of %s bytes, so they are counted here only", len(oversize), byteCount(MaxIncidentBytes))
			act := Action{Key: "alerts-over-size:" + keysHash(oversize), Actor: a.Actor, Source: cmp.Or(a.Source, g.Source)}
			events = append(events, s.event(id, act, "", EventAlertFired, now, text, map[string]string{"dropped": strconv.Itoa(len(oversize))}))
		}
		if len(events) == 0 {
			return nil, errNoChange
		}
		stillFiring := false
		for _, st := range inc.Alerts {
			stillFiring = stillFiring || st.Status != "resolved"
		}
		res.AllResolved = wasFiring && !stillFiring && res.Resolved > 0
		return events, nil
	}
	g.Refs = capRefs(g.Refs)
	existing, err := s.findAnyRef(ctx, g.Refs)
	switch {
	case err == nil && (!firing || !s.recurs(existing, g.Refs) || !firesAnew(existing, g.Alerts, keys)):
		// A late copy of a report the resolved incident already holds
		// (from a second Alertmanager, or a delivery taken again) does not
		// open another incident.
		res.Incident = existing
	case err != nil && !errors.Is(err, ErrNotFound):
		return res, fmt.Errorf("incidents: report alerts: %w", err)
	case !firing:
		return res, nil // resolutions of a group we never saw open
	default:
		d := Declaration{Title: g.Title, Severity: g.Severity, Service: g.Service, Source: g.Source, Refs: g.Refs}
		if d.Title == "" {
			d.Title = firstFiringName(g.Alerts)
		}
		d.ID = s.newID(s.now())
		if s.enricher != nil {
			e := s.enricher.Enrich(ctx, d.ID, firingAlerts(g.Alerts))
			d.Runbook, d.Steps, d.Links = e.Runbook, e.Steps, e.Links
			d.Suggestions, d.Searches = e.Suggestions, e.Searches
		}
		// The incident opens with the report's alerts, in one write.
		inc, created, err := s.declare(ctx, d, Action{Actor: a.Actor, Source: cmp.Or(a.Source, g.Source), At: a.At}, apply)
		if err != nil {
			return res, err
		}
		res.Incident, res.Created = inc, created
		if created {
			return res, nil
		}
		// Another writer opened it meanwhile: the alerts go to theirs.
	}
	inc, err := s.change(ctx, "report alerts", res.Incident.ID, Action{}, apply)
	if err != nil {
		return res, err
	}
	res.Incident = inc
	return res, nil
}

// firesAnew reports whether a report holds an alert that fires anew for
// the incident inc: one it does not know, or one that started after the
// occurrence it holds.
func firesAnew(inc *Incident, alerts []runbooks.Alert, keys []string) bool {
	for n, al := range alerts {
		if al.Status == "resolved" {
			continue
		}
		fp := keys[n]
		known := false
		for _, st := range inc.Alerts {
			if st.Fingerprint == fp {
				known = true
				if refires(al, st) && (st.Status == "resolved" || al.StartsAt.After(st.StartsAt)) {
					return true
				}
			}
		}
		if !known {
			return true
		}
	}
	return false
}

// refires reports whether a firing report of an alert the incident holds as
// resolved is a new occurrence: it started after the one held. Without
// start times (a sender that gives none), a firing report is taken as new.
func refires(al runbooks.Alert, st AlertState) bool {
	if al.StartsAt.IsZero() && st.StartsAt.IsZero() {
		return true
	}
	return al.StartsAt.After(st.StartsAt)
}

// errNoChange tells change that there is nothing to store.
var errNoChange = errors.New("no change")

func alertState(al runbooks.Alert, fp string) AlertState {
	st := AlertState{Name: al.Name, Fingerprint: fp, Status: "firing", Labels: cloneMap(al.Labels), Summary: al.Summary,
		StartsAt: al.StartsAt.UTC(), GeneratorURL: al.GeneratorURL}
	if al.Status == "resolved" {
		st.Status, st.EndsAt = "resolved", al.EndsAt.UTC()
	}
	if st.StartsAt.Year() <= 1 {
		st.StartsAt = time.Time{}
	}
	return st
}

// alertKey identifies an alert within its incident: its fingerprint, else
// its external ID, else its name and labels; the SHA-256 of a fingerprint
// or ID over MaxFingerprintBytes.
func alertKey(al runbooks.Alert) string {
	if k := cmp.Or(al.Fingerprint, al.ExternalID); k != "" {
		if len(k) > MaxFingerprintBytes {
			return hashedKey(k)
		}
		return k
	}
	keys := make([]string, 0, len(al.Labels))
	for k := range al.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := fnv.New64a()
	_, _ = h.Write([]byte(al.Name))
	for _, k := range keys {
		_, _ = h.Write([]byte{0})
		_, _ = h.Write([]byte(k + "=" + al.Labels[k]))
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

// keysHash identifies a set of alert keys, in any order, for the key of
// the event that counts them.
func keysHash(keys []string) string {
	sorted := append([]string(nil), keys...)
	sort.Strings(sorted)
	h := fnv.New64a()
	for _, k := range sorted {
		_, _ = h.Write([]byte(k + "\x00"))
	}
	return fmt.Sprintf("%016x", h.Sum64())
}

// sizeNote says what sizeBudget.fit's form (its index among the forms it
// was given: the alert, shrunk, bare) left out of an alert.
func sizeNote(form int) string {
	switch form {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf("kept without its summary, its generator URL and its labels but the well-known ones: the incident is at its size cap of %s bytes", byteCount(MaxIncidentBytes))
	}
	return fmt.Sprintf("kept without its summary, its generator URL and its labels: the incident is at its size cap of %s bytes", byteCount(MaxIncidentBytes))
}

// joinNotes joins the notes that are not empty.
func joinNotes(notes ...string) string {
	var out []string
	for _, n := range notes {
		if n != "" {
			out = append(out, n)
		}
	}
	return strings.Join(out, "; ")
}

func firingAlerts(alerts []runbooks.Alert) []runbooks.Alert {
	var out []runbooks.Alert
	for _, al := range alerts {
		if al.Status != "resolved" {
			out = append(out, al)
		}
	}
	return out
}

func firstFiringName(alerts []runbooks.Alert) string {
	for _, al := range alerts {
		if al.Status != "resolved" {
			return cmp.Or(al.Summary, al.Name, "Alert")
		}
	}
	return "Alert"
}
