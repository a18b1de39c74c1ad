package pagerduty

import (
	"cmp"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// annotationKeys are the details keys that describe an alert rather than
// identify it: they go to Annotations, every other text value to Labels.
// firing, resolved, num_firing and num_resolved are Alertmanager's default
// PagerDuty details.
var annotationKeys = map[string]bool{
	"summary": true, "description": true, "message": true, "title": true,
	"runbook_url": true, "runbook": true, "runbookURL": true, "runbook_link": true, "playbook": true,
	"firing": true, "resolved": true, "num_firing": true, "num_resolved": true,
}

// AlertFromIncidentAlert turns one alert of a PagerDuty incident into the
// alert that runbook matching reads, recovering what the monitoring tool
// sent (Source runbooks.SourcePagerDuty, ExternalID the PagerDuty alert ID).
//
// An Events API alert keeps the sender's custom details in the body, under
// cef_details.details and under details, and Alertmanager fills them
// however its receiver was configured. All of these are read, the first
// value of a key winning:
//   - nested "labels" and "annotations" maps (or JSON text of one);
//   - every other text, number or boolean value: annotation-like keys
//     (summary, description, runbook_url, runbook, message, firing,
//     resolved, num_firing, num_resolved, ...) into Annotations, the rest
//     into Labels; "fingerprint" and "generatorURL" into their fields;
//   - the "firing" text of Alertmanager's default details ("Labels:", then
//     " - name = value" lines, "Annotations:", "Source: URL"), whose first
//     alert fills in the labels, annotations and generator URL still
//     missing (the "resolved" text when nothing fires).
//
// Then the name comes from the alertname label, else the PagerDuty alert's
// summary; the severity label from the alert's severity and the service
// label from its PagerDuty service when the details gave none; the
// fingerprint from the alert key (Alertmanager's hash of the group key) or
// the dedup key when the details gave none; the runbook URL from a link
// context whose text or address mentions a runbook when no annotation
// names one; and Fill derives the rest.
func AlertFromIncidentAlert(pa pd.IncidentAlert) runbooks.Alert {
	a := runbooks.Alert{
		Source:     runbooks.SourcePagerDuty,
		ExternalID: pa.ID,
		Status:     alertStatus(pa.Status),
	}
	if t, err := time.Parse(time.RFC3339Nano, pa.CreatedAt); err == nil {
		a.StartsAt = t
	}
	d := readDetails(pa.Body)
	a.Labels, a.Annotations = d.labels, d.annotations
	a.GeneratorURL = d.generatorURL
	a.Fingerprint = cmp.Or(d.fingerprint, pa.AlertKey, str(d.cef["dedup_key"]), str(pa.Body["incident_key"]))
	if a.Labels["severity"] == "" && pa.Severity != "" {
		a.Labels["severity"] = pa.Severity
	}
	if a.Service() == "" && pa.Service.Summary != "" {
		a.Labels["service"] = pa.Service.Summary
	}
	a.Fill()
	if a.Name == "" {
		a.Name = pa.Summary
	}
	if a.Summary == "" {
		a.Summary = pa.Summary
	}
	if a.RunbookURL == "" {
		a.RunbookURL = runbookLink(pa.Body["contexts"], d.cef["contexts"])
	}
	if len(a.Labels) == 0 {
		a.Labels = nil
	}
	if len(a.Annotations) == 0 {
		a.Annotations = nil
	}
	return a
}

// details is what the custom details of an alert's body hold.
type details struct {
	labels, annotations       map[string]string
	fingerprint, generatorURL string
	cef                       map[string]any // body.cef_details, nil if absent
}

func readDetails(body map[string]any) details {
	d := details{labels: map[string]string{}, annotations: map[string]string{}}
	var maps []map[string]any
	add := func(v any) {
		switch v := v.(type) {
		case map[string]any:
			maps = append(maps, v)
			if cd, ok := v["custom_details"].(map[string]any); ok {
				maps = append(maps, cd)
			}
		case string:
			// Some integrations send the details as one text.
			addIfAbsent(d.annotations, "details", strings.TrimSpace(v))
		}
	}
	d.cef, _ = body["cef_details"].(map[string]any)
	add(d.cef["details"])
	add(body["details"])

	for _, m := range maps {
		addAll(d.labels, asStringMap(m["labels"]))
		addAll(d.annotations, asStringMap(m["annotations"]))
	}
	for _, m := range maps {
		for k, v := range m {
			s, ok := scalar(v)
			if !ok || s == "" {
				continue
			}
			switch {
			case k == "labels" || k == "annotations":
				// Text that was not JSON of a map: keep it readable.
				if asStringMap(v) == nil {
					addIfAbsent(d.annotations, k, s)
				}
			case k == "fingerprint":
				d.fingerprint = cmp.Or(d.fingerprint, s)
			case k == "generatorURL" || k == "generator_url":
				d.generatorURL = cmp.Or(d.generatorURL, s)
			case annotationKeys[k]:
				addIfAbsent(d.annotations, k, s)
			default:
				addIfAbsent(d.labels, k, s)
			}
		}
	}
	text := d.annotations["firing"]
	if strings.TrimSpace(text) == "" {
		text = d.annotations["resolved"]
	}
	labels, annotations, source := parseAlertText(text)
	addAll(d.labels, labels)
	addAll(d.annotations, annotations)
	d.generatorURL = cmp.Or(d.generatorURL, source)
	return d
}

// asStringMap reads a labels or annotations value: a JSON object, or text
// holding one (a template that used toJson).
func asStringMap(v any) map[string]string {
	var m map[string]any
	switch v := v.(type) {
	case map[string]any:
		m = v
	case string:
		if json.Unmarshal([]byte(v), &m) != nil {
			return nil
		}
	default:
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if s, ok := scalar(v); ok && s != "" {
			out[k] = s
		}
	}
	return out
}

// scalar renders a JSON text, number or boolean as text.
func scalar(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case json.Number:
		return v.String(), true
	case bool:
		return strconv.FormatBool(v), true
	}
	return "", false
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func addIfAbsent(m map[string]string, k, v string) {
	if _, ok := m[k]; !ok && v != "" {
		m[k] = v
	}
}

func addAll(dst, src map[string]string) {
	for k, v := range src {
		addIfAbsent(dst, k, v)
	}
}

// header is a line such as "Value: ..." or "Silence: ..." that ends a list
// in Alertmanager's (or Grafana's) alert text.
var header = regexp.MustCompile(`^[A-Z][A-Za-z ]{0,30}:(\s|$)`)

// parseAlertText reads the first alert of the text that Alertmanager's
// default template __text_alert_list renders:
//
//	Labels:
//	 - alertname = KubePodCrashLooping
//	Annotations:
//	 - runbook_url = https://...
//	Source: http://prometheus/graph?...
//
// An annotation value that runs over several lines keeps them.
func parseAlertText(s string) (labels, annotations map[string]string, source string) {
	const (
		none = iota
		inLabels
		inAnnotations
	)
	section, last, blocks := none, "", 0
	for line := range strings.Lines(s) {
		line = strings.TrimRight(line, "\r\n")
		t := strings.TrimSpace(line)
		switch {
		case t == "Labels:":
			if blocks++; blocks > 1 {
				return labels, trimValues(annotations), source
			}
			section, last = inLabels, ""
		case t == "Annotations:":
			section, last = inAnnotations, ""
		case strings.HasPrefix(t, "- ") && section != none:
			k, v, ok := strings.Cut(t[2:], " = ")
			k = strings.TrimSpace(k)
			if !ok || k == "" || strings.ContainsAny(k, " \t") {
				continue
			}
			if section == inLabels {
				labels = put(labels, k, strings.TrimSpace(v))
			} else {
				annotations = put(annotations, k, strings.TrimSpace(v))
			}
			last = k
		case strings.HasPrefix(t, "Source:"):
			source = cmp.Or(source, strings.TrimSpace(strings.TrimPrefix(t, "Source:")))
			section, last = none, ""
		case header.MatchString(t):
			section, last = none, ""
		case section == inAnnotations && last != "":
			annotations[last] += "\n" + line
		}
	}
	return labels, trimValues(annotations), source
}

// trimValues drops the blank lines a continued value picked up at its end.
func trimValues(m map[string]string) map[string]string {
	for k, v := range m {
		m[k] = strings.TrimRight(v, " \n")
	}
	return m
}

func put(m map[string]string, k, v string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[k] = v
	return m
}

// runbookLink returns the address of the first link context whose text or
// address mentions a runbook (Alertmanager's pagerduty_configs links).
func runbookLink(contexts ...any) string {
	for _, c := range contexts {
		list, _ := c.([]any)
		for _, item := range list {
			m, _ := item.(map[string]any)
			href := str(m["href"])
			if href == "" || (str(m["type"]) != "" && str(m["type"]) != "link") {
				continue
			}
			if strings.Contains(strings.ToLower(str(m["text"])+" "+href), "runbook") {
				return href
			}
		}
	}
	return ""
}
