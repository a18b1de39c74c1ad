package alertmanager

import "github.com/breadcrumb-oncall/breadcrumb/runbooks"

// Alerts converts the message's alerts to the domain's alerts, one for each,
// in order. Each gets the group's common labels and annotations under its
// own (an alert's own value wins), its status (the group's when it has
// none), times, generator URL and fingerprint, and Source
// runbooks.SourceAlertmanager; Fill then derives the name from alertname
// and the summary, description and runbook URL from the annotations.
// The maps are copies: changing them leaves the message as it was.
func (m *Message) Alerts() []runbooks.Alert {
	if m == nil {
		return nil
	}
	out := make([]runbooks.Alert, 0, len(m.AlertList))
	for _, a := range m.AlertList {
		ra := runbooks.Alert{
			Labels:       merge(m.CommonLabels, a.Labels),
			Annotations:  merge(m.CommonAnnotations, a.Annotations),
			Status:       a.Status,
			StartsAt:     a.StartsAt,
			EndsAt:       a.EndsAt,
			GeneratorURL: a.GeneratorURL,
			Fingerprint:  a.Fingerprint,
			Source:       runbooks.SourceAlertmanager,
		}
		if ra.Status == "" {
			ra.Status = m.Status
		}
		ra.Fill()
		out = append(out, ra)
	}
	return out
}

// merge returns a new map with base's entries overlaid by own's, or nil when
// both are empty.
func merge(base, own map[string]string) map[string]string {
	if len(base)+len(own) == 0 {
		return nil
	}
	out := make(map[string]string, len(base)+len(own))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range own {
		out[k] = v
	}
	return out
}
