package runbooks

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Rule is one alerting rule, read from a Prometheus rule file or from a
// Kubernetes PrometheusRule object: what an alert will carry before it
// ever fires. Recording rules are not kept.
type Rule struct {
	// Source is the name of the rules source the rule came from.
	Source string `json:"source"`
	// Path is the file's slash path relative to the source's root, and
	// Line the line of the rule's alert key in it.
	Path string `json:"path"`
	Line int    `json:"line"`
	// Group is the name of the rule group.
	Group string `json:"group"`
	// Alert is the alert's name, as alerts of this rule carry it in their
	// alertname label.
	Alert string `json:"alert"`
	Expr  string `json:"expr"`
	For   string `json:"for,omitempty"`
	// Labels are the labels the rule adds to its alerts. A value with a
	// template in it ({{ $labels.x }}) depends on the series.
	Labels map[string]string `json:"labels"`
	// Annotations, with their templates as written.
	Annotations map[string]string `json:"annotations"`
}

// RunbookURL returns the rule's runbook annotation, as an alert of the
// rule would carry it: runbook_url, else runbook and its other spellings.
func (r Rule) RunbookURL() string {
	return firstAnnotation(r.Annotations, runbookKeys...)
}

// runbookKeys are the annotation keys that name a runbook, by preference.
var runbookKeys = []string{"runbook_url", "runbook", "runbookURL", "runbook_link", "playbook"}

// Summary returns the rule's summary annotation (or title, or message).
func (r Rule) Summary() string { return firstAnnotation(r.Annotations, "summary", "title", "message") }

// Description returns the rule's description annotation (or details).
func (r Rule) Description() string { return firstAnnotation(r.Annotations, "description", "details") }

func firstAnnotation(m map[string]string, keys ...string) string {
	for _, k := range keys {
		if v := strings.TrimSpace(m[k]); v != "" {
			return v
		}
	}
	return ""
}

// StaticLabels returns the labels whose values hold no template: every
// alert of the rule has them as written.
func (r Rule) StaticLabels() map[string]string {
	out := make(map[string]string, len(r.Labels))
	for k, v := range r.Labels {
		if !strings.Contains(v, "{{") {
			out[k] = v
		}
	}
	return out
}

// Fits says how well an alert's labels agree with the rule's static
// labels: ok is false when a label the alert has contradicts one the rule
// sets, and held counts the rule's labels that the alert has with the
// same value. A label the alert lacks neither counts nor contradicts:
// relays such as PagerDuty drop labels.
func (r Rule) Fits(labels map[string]string) (held int, ok bool) {
	for k, v := range r.Labels {
		if strings.Contains(v, "{{") {
			continue
		}
		got, present := labels[k]
		if !present {
			continue
		}
		if got != v {
			return 0, false
		}
		held++
	}
	return held, true
}

// Text returns what the rule says of its alert in words, for search: its
// summary and description with their template actions left out, and the
// names of the metrics its expression reads.
func (r Rule) Text() string {
	var parts []string
	for _, s := range []string{r.Summary(), r.Description()} {
		if s = StripTemplates(s); s != "" {
			parts = append(parts, s)
		}
	}
	if ms := MetricNames(r.Expr); len(ms) > 0 {
		parts = append(parts, strings.Join(ms, " "))
	}
	return strings.Join(parts, "\n")
}

var templateAction = regexp.MustCompile(`\{\{.*?\}\}`)

// StripTemplates removes the template actions ({{ $labels.pod }}, {{ $value
// | humanize }}) from an annotation, and the spaces they leave doubled.
func StripTemplates(s string) string {
	if !strings.Contains(s, "{{") {
		return strings.Join(strings.Fields(s), " ")
	}
	return strings.Join(strings.Fields(templateAction.ReplaceAllString(s, " ")), " ")
}

// RuleFileKind says what a YAML file turned out to hold.
type RuleFileKind string

// The kinds of file a rules source may hold.
const (
	// RuleFileRules holds alerting or recording rules (perhaps none that
	// alert, in a file of recording rules).
	RuleFileRules RuleFileKind = "rules"
	// RuleFileOther is YAML of another kind (a Deployment, a values
	// file): skipped and counted.
	RuleFileOther RuleFileKind = "other"
	// RuleFileTemplate is a Helm chart's or a generator's template: its
	// rules exist only once it is rendered, so none is read.
	RuleFileTemplate RuleFileKind = "template"
	// RuleFileBroken is not valid YAML.
	RuleFileBroken RuleFileKind = "broken"
)

// Lint rules of rule files, documented in docs/search.md.
const (
	ruleBrokenYAML = "rules-yaml"
	ruleTemplate   = "rules-template"
	ruleBadRule    = "rules-invalid"
)

// maxRuleFile bounds a rule file: the largest real ones are a few
// hundred kilobytes.
const maxRuleFile = 8 << 20

// ParseRules reads the alerting rules of one YAML file: a Prometheus rule
// file (groups[].rules[]), PrometheusRule objects (spec.groups), a List of
// them, or a ConfigMap whose data holds rule files; in one document or
// several. It never fails: a file it cannot read gets a diagnostic with
// its line, a rule that is malformed gets one and the others are kept,
// and a file that is not rules is reported as RuleFileOther. A Helm or Go
// template is reported as RuleFileTemplate with a diagnostic, and none of
// its rules is guessed.
func ParseRules(path string, data []byte) ([]Rule, []Diagnostic, RuleFileKind) {
	diag := func(line int, rule, msg string) Diagnostic {
		return Diagnostic{Path: path, Line: max(1, line), Severity: SeverityWarning, Rule: rule, Message: msg}
	}
	if len(data) > maxRuleFile {
		return nil, []Diagnostic{diag(1, ruleBrokenYAML, fmt.Sprintf("the file is %d bytes, over the %d that a rule file may be; it was not read", len(data), maxRuleFile))}, RuleFileBroken
	}
	if line, what := templateLine(data); line > 0 {
		return nil, []Diagnostic{templateDiag(path, line, what)}, RuleFileTemplate
	}
	p := &ruleParser{path: path}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if bytes.Contains(data, []byte("{{")) {
				// YAML broken by template actions is a template.
				line, _ := yamlErrorLine(err)
				return nil, []Diagnostic{templateDiag(path, line, "template actions that are not valid YAML")}, RuleFileTemplate
			}
			line, msg := yamlErrorLine(err)
			// An error at the end of the file is told on its last line.
			line = min(line, max(1, bytes.Count(bytes.TrimRight(data, "\n"), []byte("\n"))+1))
			p.diags = append(p.diags, diag(line, ruleBrokenYAML, "not valid YAML: "+msg))
			if p.found {
				return p.rules, p.diags, RuleFileRules
			}
			return nil, p.diags, RuleFileBroken
		}
		if len(doc.Content) == 0 {
			continue
		}
		p.document(doc.Content[0], 0)
	}
	if p.template > 0 {
		return nil, []Diagnostic{templateDiag(path, p.template, p.templateWhat)}, RuleFileTemplate
	}
	if !p.found {
		return nil, p.diags, RuleFileOther
	}
	return p.rules, p.diags, RuleFileRules
}

func templateDiag(path string, line int, what string) Diagnostic {
	return Diagnostic{Path: path, Line: max(1, line), Severity: SeverityWarning, Rule: ruleTemplate,
		Message: "this file is a Helm or Go template (" + what + "), not rules as Prometheus loads them; none of its rules was read: render it first (helm template, or the tool that fills it) and point the source at the output"}
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// yamlErrorLine extracts the line a YAML error points at. The decoder
// counts the lines of its parser's errors ("did not find expected …")
// from 0, and those of its scanner from 1; the parser's are shifted.
func yamlErrorLine(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		msg = strings.TrimSpace(strings.Replace(msg, m[0]+":", "", 1))
		if strings.HasPrefix(msg, "did not find expected") && !strings.Contains(msg, "comment or line break") {
			n++
		}
		return n, msg
	}
	return 1, msg
}

// helmAction is a template action that only Helm or another generator
// fills: Prometheus's own templates speak of $labels, $value,
// $externalLabels and .Labels, .Value, .ExternalLabels.
var helmAction = regexp.MustCompile(`\{\{-?\s*(?:\$?\.(?:Values|Release|Chart|Capabilities|Files|Template)\b|(?:include|template|define|tpl|toYaml|nindent|indent|required|default)\b)`)

// controlAction is a template action that shapes a file rather than
// fills a value: alone on a line outside any YAML value, it is a
// generator's.
var controlAction = regexp.MustCompile(`^\{\{-?\s*(?:if|else|end|range|with|define|template|include|block|/\*)\b`)

// blockStart ends a line that opens a YAML block scalar ("key: |",
// "- >-"), whose indented lines that follow are text.
var blockStart = regexp.MustCompile(`(?:^|[:\s-])\s*[|>][-+0-9]*\s*$`)

// templateLine finds the first line of data that only a generator's
// template has: a control action ("{{- if .Values.x }}", "{{ end }}") on a
// line of its own outside any block of text, or an action that reads a
// chart's values anywhere. Prometheus's own templates, in annotations
// ("{{ $labels.pod }}", "{{ if gt $value 80.0 }}" in a block), are not
// such lines. It returns 0 when there is none.
func templateLine(data []byte) (int, string) {
	if !bytes.Contains(data, []byte("{{")) {
		return 0, ""
	}
	line := 0
	blockIndent := -1 // the indentation of the key whose block scalar we are in
	for raw := range bytes.Lines(data) {
		line++
		t := bytes.TrimSpace(raw)
		indent := len(raw) - len(bytes.TrimLeft(raw, " "))
		if loc := helmAction.FindIndex(raw); loc != nil {
			return line, "an action that reads a chart's values: " + clipRule(string(t))
		}
		if blockIndent >= 0 {
			if len(t) == 0 || indent > blockIndent {
				continue
			}
			blockIndent = -1
		}
		if controlAction.Match(t) {
			return line, "a template action on a line of its own: " + clipRule(string(t))
		}
		if blockStart.Match(t) && !bytes.HasPrefix(t, []byte("#")) {
			blockIndent = indent
		}
	}
	return 0, ""
}

func clipRule(s string) string {
	if len(s) > 60 {
		return s[:57] + "…"
	}
	return s
}

type ruleParser struct {
	path         string
	rules        []Rule
	diags        []Diagnostic
	found        bool // a groups list was seen
	template     int  // the line of a template action in a place Prometheus does not template
	templateWhat string
}

func (p *ruleParser) warn(line int, msg string) {
	p.diags = append(p.diags, Diagnostic{Path: p.path, Line: max(1, line), Severity: SeverityWarning, Rule: ruleBadRule, Message: msg})
}

// mapValue returns the value of key in a mapping node, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// document reads one YAML document (or a List's item, or a rule file
// held in a ConfigMap, whose lines start at offset).
func (p *ruleParser) document(n *yaml.Node, offset int) {
	if n.Kind != yaml.MappingNode {
		return
	}
	if groups := mapValue(n, "groups"); groups != nil && mapValue(n, "kind") == nil {
		p.groups(groups, offset)
		return
	}
	kind := ""
	if k := mapValue(n, "kind"); k != nil {
		kind = k.Value
	}
	switch kind {
	case "PrometheusRule":
		if groups := mapValue(mapValue(n, "spec"), "groups"); groups != nil {
			p.groups(groups, offset)
		} else {
			p.found = true
			p.warn(n.Line+offset, "a PrometheusRule without spec.groups")
		}
	case "List":
		if items := mapValue(n, "items"); items != nil && items.Kind == yaml.SequenceNode {
			for _, it := range items.Content {
				p.document(it, offset)
			}
		}
	case "ConfigMap":
		// Rule files kept as a ConfigMap's data, as many charts and
		// older setups mount them.
		data := mapValue(n, "data")
		if data == nil || data.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(data.Content); i += 2 {
			v := data.Content[i+1]
			if v.Kind != yaml.ScalarNode || !strings.Contains(v.Value, "groups:") {
				continue
			}
			var inner yaml.Node
			if err := yaml.Unmarshal([]byte(v.Value), &inner); err != nil || len(inner.Content) == 0 {
				continue
			}
			// A block scalar starts on the line after its key.
			p.document(inner.Content[0], offset+v.Line)
		}
	}
}

func (p *ruleParser) groups(groups *yaml.Node, offset int) {
	p.found = true
	if groups.Kind != yaml.SequenceNode {
		if !(groups.Kind == yaml.ScalarNode && groups.Tag == "!!null") {
			p.warn(groups.Line+offset, "groups must be a list of rule groups")
		}
		return
	}
	for _, g := range groups.Content {
		if g.Kind != yaml.MappingNode {
			p.warn(g.Line+offset, "a rule group must be a mapping with a name and rules")
			continue
		}
		name := ""
		if nv := mapValue(g, "name"); nv != nil {
			name = nv.Value
		}
		rules := mapValue(g, "rules")
		if rules == nil || rules.Kind != yaml.SequenceNode {
			if rules != nil && !(rules.Kind == yaml.ScalarNode && rules.Tag == "!!null") {
				p.warn(rules.Line+offset, fmt.Sprintf("group %q: rules must be a list", name))
			}
			continue
		}
		for _, r := range rules.Content {
			p.rule(name, r, offset)
		}
	}
}

func (p *ruleParser) rule(group string, n *yaml.Node, offset int) {
	if n.Kind != yaml.MappingNode {
		p.warn(n.Line+offset, fmt.Sprintf("group %q: a rule must be a mapping", group))
		return
	}
	alertNode := mapValue(n, "alert")
	if alertNode == nil {
		return // a recording rule, or not a rule at all
	}
	line := alertNode.Line + offset
	if alertNode.Kind != yaml.ScalarNode || strings.TrimSpace(alertNode.Value) == "" {
		p.warn(line, fmt.Sprintf("group %q: a rule's alert must be a name", group))
		return
	}
	r := Rule{Path: p.path, Line: line, Group: group, Alert: strings.TrimSpace(alertNode.Value),
		Labels: map[string]string{}, Annotations: map[string]string{}}
	if strings.Contains(r.Alert, "{{") {
		p.markTemplate(line, "a template in an alert's name")
		return
	}
	if e := mapValue(n, "expr"); e != nil && e.Kind == yaml.ScalarNode {
		r.Expr = strings.TrimSpace(e.Value)
		if strings.Contains(r.Expr, "{{") {
			p.markTemplate(e.Line+offset, "a template in an expression")
			return
		}
	}
	if r.Expr == "" {
		p.warn(line, fmt.Sprintf("alert %s has no expr", r.Alert))
	}
	if f := mapValue(n, "for"); f != nil && f.Kind == yaml.ScalarNode {
		r.For = f.Value
	}
	for _, m := range []struct {
		key string
		out map[string]string
	}{{"labels", r.Labels}, {"annotations", r.Annotations}} {
		v := mapValue(n, m.key)
		if v == nil || (v.Kind == yaml.ScalarNode && v.Tag == "!!null") {
			continue
		}
		if v.Kind != yaml.MappingNode {
			p.warn(v.Line+offset, fmt.Sprintf("alert %s: %s must be a mapping of names to values", r.Alert, m.key))
			continue
		}
		for i := 0; i+1 < len(v.Content); i += 2 {
			k, val := v.Content[i], v.Content[i+1]
			if val.Kind != yaml.ScalarNode {
				p.warn(val.Line+offset, fmt.Sprintf("alert %s: %s %s must be a string", r.Alert, m.key, k.Value))
				continue
			}
			m.out[k.Value] = val.Value
		}
	}
	p.rules = append(p.rules, r)
}

func (p *ruleParser) markTemplate(line int, what string) {
	if p.template == 0 {
		p.template, p.templateWhat = line, what
	}
}

// promqlWords are the keywords and aggregation modifiers of PromQL, which
// look like metric names but are not.
var promqlWords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"bool": true, "and": true, "or": true, "unless": true, "offset": true, "atan2": true, "inf": true,
	"nan": true,
	// Aggregations, which may be followed by "by (…)" before their
	// parenthesis.
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true,
	"limitk": true, "limit_ratio": true,
}

// MetricNames returns the names of the metrics an expression reads, in
// the order they first appear: identifiers that are not functions,
// keywords, label names (inside braces and grouping lists) or strings.
func MetricNames(expr string) []string {
	var out []string
	seen := map[string]bool{}
	i := 0
	skipTo := func(close byte) {
		depth := 1
		for i < len(expr) && depth > 0 {
			c := expr[i]
			switch {
			case c == '"' || c == '\'' || c == '`':
				i = skipString(expr, i)
				continue
			case c == close:
				depth--
			case close == ')' && c == '(':
				depth++
			}
			i++
		}
	}
	for i < len(expr) {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			i = skipString(expr, i)
		case c == '#':
			for i < len(expr) && expr[i] != '\n' {
				i++
			}
		case c == '{':
			i++
			skipTo('}')
		case c == '[':
			i++
			skipTo(']')
		case '0' <= c && c <= '9':
			// A number or a duration (0.5, 1e3, 0x1f, 5m): no name.
			for i < len(expr) && (isIdentPart(expr[i]) || expr[i] == '.') {
				i++
			}
		case isIdentStart(c):
			j := i
			for j < len(expr) && isIdentPart(expr[j]) {
				j++
			}
			word := expr[i:j]
			i = j
			k := j
			for k < len(expr) && (expr[k] == ' ' || expr[k] == '\t' || expr[k] == '\n') {
				k++
			}
			lower := strings.ToLower(word)
			switch {
			case promqlWords[lower]:
				if (lower == "by" || lower == "without" || lower == "on" || lower == "ignoring" ||
					lower == "group_left" || lower == "group_right") && k < len(expr) && expr[k] == '(' {
					i = k + 1
					skipTo(')') // a list of label names
				}
			case k < len(expr) && expr[k] == '(':
				// A function call (or an aggregation); its arguments are
				// read on.
			case !seen[word]:
				seen[word] = true
				out = append(out, word)
			}
		default:
			i++
		}
	}
	return out
}

func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func isIdentPart(c byte) bool { return isIdentStart(c) || ('0' <= c && c <= '9') }

// skipString returns the index after the string literal starting at i.
func skipString(s string, i int) int {
	q := s[i]
	i++
	for i < len(s) {
		switch {
		case s[i] == '\\' && q != '`':
			i += 2
			continue
		case s[i] == q:
			return i + 1
		}
		i++
	}
	return i
}
