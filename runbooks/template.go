package runbooks

import (
	"fmt"
	"sort"
	"strings"
)

// TemplateVariables are the names a dashboard or breadcrumb template may
// use between {{ and }}, besides labels.NAME and annotations.NAME. They are
// filled from the incident when a link is opened.
var TemplateVariables = map[string]string{
	"alertname":   "the alert's name",
	"service":     "the incident's service (label service, else app, else job)",
	"namespace":   "label namespace",
	"pod":         "label pod",
	"container":   "label container",
	"instance":    "label instance",
	"job":         "label job",
	"cluster":     "label cluster",
	"node":        "label node",
	"severity":    "label severity",
	"team":        "the runbook's team",
	"fingerprint": "the alert's fingerprint",
	"incident_id": "Breadcrumb's incident ID",
	"from":        "start of the time window, RFC 3339 (30 minutes before the alert started)",
	"to":          "end of the time window, RFC 3339 (the alert's end, or now)",
	"from_ms":     "start of the window in Unix milliseconds",
	"to_ms":       "end of the window in Unix milliseconds",
	"from_unix":   "start of the window in Unix seconds",
	"to_unix":     "end of the window in Unix seconds",
}

// Placeholder is one {{variable}} in a template.
type Placeholder struct {
	// Name is the variable as written, spaces trimmed ("namespace",
	// "labels.instance").
	Name string
	// Offset is the byte offset of "{{" in the template.
	Offset int
}

// ParseTemplate returns the placeholders of a dashboard or breadcrumb
// template. It fails on an unclosed "{{", on an empty placeholder, and on a
// variable that is not one of TemplateVariables, labels.NAME or
// annotations.NAME.
func ParseTemplate(s string) ([]Placeholder, error) {
	var out []Placeholder
	for off := 0; ; {
		i := strings.Index(s[off:], "{{")
		if i < 0 {
			return out, nil
		}
		start := off + i
		j := strings.Index(s[start+2:], "}}")
		if j < 0 {
			return out, fmt.Errorf("%q is never closed with }}", clip(s[start:], 30))
		}
		name := strings.TrimSpace(s[start+2 : start+2+j])
		if err := checkVariable(name); err != nil {
			return out, err
		}
		out = append(out, Placeholder{Name: name, Offset: start})
		off = start + 2 + j + 2
	}
}

func checkVariable(name string) error {
	if name == "" {
		return fmt.Errorf("empty placeholder {{}}")
	}
	if _, ok := TemplateVariables[name]; ok {
		return nil
	}
	for _, prefix := range []string{"labels.", "annotations."} {
		if rest, ok := strings.CutPrefix(name, prefix); ok && validLabelName(rest) {
			return nil
		}
	}
	hint := ""
	lower := strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(name, "."), "$"))
	if _, ok := TemplateVariables[lower]; ok {
		hint = fmt.Sprintf("; did you mean {{%s}}?", lower)
	} else if rest, ok := strings.CutPrefix(lower, "labels."); ok {
		hint = fmt.Sprintf("; did you mean {{labels.%s}}?", rest)
	} else {
		hint = "; known: " + strings.Join(knownVariableNames(), ", ") + ", labels.NAME, annotations.NAME"
	}
	return fmt.Errorf("unknown variable {{%s}}%s", name, hint)
}

func knownVariableNames() []string {
	names := make([]string, 0, len(TemplateVariables))
	for k := range TemplateVariables {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	// Prefer to cut between words when a space is near.
	if sp := strings.LastIndexByte(s[:cut], ' '); sp > n*3/4 {
		cut = sp
	}
	return strings.TrimRight(s[:cut], " ,;") + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// TemplateChoosesHost reports whether a URL template lets a value choose
// the link's scheme or host: the template is one placeholder alone (the
// value is the whole URL), or a placeholder comes before the end of the
// host ("https://{{cluster}}.grafana.example.com/"). Values come from
// alerts, so such a link leads wherever an alert's sender says.
func TemplateChoosesHost(tmpl string) bool {
	i := strings.Index(tmpl, "{{")
	if i < 0 {
		return false
	}
	prefix := strings.TrimSpace(tmpl[:i])
	_, rest, ok := strings.Cut(prefix, "://")
	return !ok || !strings.ContainsAny(rest, "/?#")
}
