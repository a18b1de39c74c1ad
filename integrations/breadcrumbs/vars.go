package breadcrumbs

import (
	"strconv"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// Lookback is how long before the alert started the time window opens.
const Lookback = 30 * time.Minute

// Input is what links are filled from.
type Input struct {
	// IncidentID fills {{incident_id}}.
	IncidentID string
	// Alerts are the incident's alerts. The first firing one (else the
	// first) fills the labels, annotations and time window.
	Alerts []runbooks.Alert
	// Runbook is the incident's runbook; nil when it has none.
	Runbook *runbooks.Runbook
	// Now ends the window of an alert that has not ended; zero means
	// time.Now().
	Now time.Time
}

// window is the time a link shows.
type window struct {
	from, to time.Time
	// open is true while the alert fires: tools that understand a
	// relative end ("now") get one, so that a link opened later still
	// shows the latest data.
	open bool
}

// vars are the values of the template variables for one input.
type vars struct {
	values map[string]string
	win    window
	alert  *runbooks.Alert
	// trust is the hosts a value may choose (trust.go).
	trust *hostSet
}

// lookup returns a variable's value; an absent or empty one is not found.
func (v vars) lookup(name string) (string, bool) {
	s, ok := v.values[name]
	return s, ok && s != ""
}

// primary returns the alert that fills the variables: the first firing
// one, else the first.
func primary(alerts []runbooks.Alert) *runbooks.Alert {
	for i := range alerts {
		if alerts[i].Status != "resolved" {
			return &alerts[i]
		}
	}
	if len(alerts) > 0 {
		return &alerts[0]
	}
	return nil
}

// newVars computes the variables of runbooks.TemplateVariables for in.
func newVars(in Input) vars {
	now := in.Now.UTC()
	if now.IsZero() {
		now = time.Now().UTC()
	}
	v := vars{values: map[string]string{}, win: window{from: now.Add(-Lookback), to: now, open: true}}
	set := func(k, val string) {
		if val != "" {
			v.values[k] = val
		}
	}
	set("incident_id", in.IncidentID)
	if in.Runbook != nil {
		set("team", in.Runbook.Team)
	}
	if a := primary(in.Alerts); a != nil {
		v.alert = a
		name := a.Name
		if name == "" {
			name = a.Labels["alertname"]
		}
		set("alertname", name)
		set("service", a.Service())
		set("fingerprint", a.Fingerprint)
		for _, k := range []string{"namespace", "pod", "container", "instance", "job", "cluster", "node", "severity"} {
			set(k, a.Labels[k])
		}
		for k, val := range a.Labels {
			set("labels."+k, val)
		}
		for k, val := range a.Annotations {
			set("annotations."+k, val)
		}
		if !a.StartsAt.IsZero() && a.StartsAt.Year() > 1 {
			start := a.StartsAt.UTC()
			if start.After(now) {
				start = now
			}
			v.win.from = start.Add(-Lookback)
		}
		// Alertmanager gives a firing alert an end in the future (when it
		// would time out): only a resolved alert's end is its end.
		if a.Status == "resolved" && !a.EndsAt.IsZero() && !a.EndsAt.Before(v.win.from) && !a.EndsAt.After(now) {
			v.win.to = a.EndsAt.UTC()
			v.win.open = false
		}
	}
	f, t := v.win.from, v.win.to
	v.values["from"] = f.Format(time.RFC3339)
	v.values["to"] = t.Format(time.RFC3339)
	v.values["from_ms"] = strconv.FormatInt(f.UnixMilli(), 10)
	v.values["to_ms"] = strconv.FormatInt(t.UnixMilli(), 10)
	v.values["from_unix"] = strconv.FormatInt(f.Unix(), 10)
	v.values["to_unix"] = strconv.FormatInt(t.Unix(), 10)
	return v
}

// labels returns the labels the providers' matchers are checked against.
func (v vars) labels() map[string]string {
	if v.alert == nil {
		return nil
	}
	return v.alert.Labels
}
