package runbooks

import (
	"fmt"
	"regexp"
	"strings"
)

// Matcher is a Prometheus-style label matcher: label=value, label!=value,
// label=~regex or label!~regex. A regex is anchored at both ends, as in
// Prometheus.
type Matcher struct {
	Label string `json:"label"`
	Op    string `json:"op"`
	Value string `json:"value"`
	re    *regexp.Regexp
}

// Matcher operators.
const (
	OpEqual    = "="
	OpNotEqual = "!="
	OpRegex    = "=~"
	OpNotRegex = "!~"
)

// ParseMatcher reads one matcher such as `service="payments"` or
// severity=~critical|page. Quotes around the value are optional.
func ParseMatcher(s string) (Matcher, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, "=!")
	if i <= 0 {
		return Matcher{}, fmt.Errorf("matcher %q: want label=value, label!=value, label=~regex or label!~regex", s)
	}
	label := strings.TrimSpace(s[:i])
	rest := s[i:]
	var op string
	switch {
	case strings.HasPrefix(rest, "=~"):
		op = OpRegex
	case strings.HasPrefix(rest, "!~"):
		op = OpNotRegex
	case strings.HasPrefix(rest, "!="):
		op = OpNotEqual
	case strings.HasPrefix(rest, "="):
		op = OpEqual
	default:
		return Matcher{}, fmt.Errorf("matcher %q: unknown operator", s)
	}
	if !validLabelName(label) {
		return Matcher{}, fmt.Errorf("matcher %q: %q is not a valid label name", s, label)
	}
	value := strings.TrimSpace(rest[len(op):])
	if len(value) > 0 && (value[0] == '"' || value[0] == '\'') {
		// A quoted value must end with its quote: `queue=~"orders` is a
		// typo that would otherwise match the quote itself, silently.
		if len(value) < 2 || value[len(value)-1] != value[0] {
			return Matcher{}, fmt.Errorf("matcher %q: the value's %c is never closed", s, value[0])
		}
		value = value[1 : len(value)-1]
	} else if strings.ContainsAny(value, `"`) {
		return Matcher{}, fmt.Errorf("matcher %q: a quote inside an unquoted value; quote the whole value", s)
	}
	return NewMatcher(label, op, value)
}

// NewMatcher builds a matcher, compiling its regex when it has one.
func NewMatcher(label, op, value string) (Matcher, error) {
	m := Matcher{Label: label, Op: op, Value: value}
	switch op {
	case OpEqual, OpNotEqual:
	case OpRegex, OpNotRegex:
		re, err := regexp.Compile("^(?:" + value + ")$")
		if err != nil {
			return Matcher{}, fmt.Errorf("matcher %s%s%q: %w", label, op, value, err)
		}
		m.re = re
	default:
		return Matcher{}, fmt.Errorf("matcher %s: unknown operator %q", label, op)
	}
	return m, nil
}

// Matches reports whether the labels satisfy the matcher. A missing label
// has the empty value, as in Prometheus.
func (m Matcher) Matches(labels map[string]string) bool {
	v := labels[m.Label]
	switch m.Op {
	case OpEqual:
		return v == m.Value
	case OpNotEqual:
		return v != m.Value
	case OpRegex, OpNotRegex:
		re := m.re
		if re == nil { // a Matcher built by hand or decoded from JSON
			var err error
			if re, err = regexp.Compile("^(?:" + m.Value + ")$"); err != nil {
				return false
			}
		}
		return re.MatchString(v) == (m.Op == OpRegex)
	}
	return false
}

// String prints the matcher in Prometheus syntax.
func (m Matcher) String() string { return fmt.Sprintf("%s%s%q", m.Label, m.Op, m.Value) }

func validLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && r >= '0' && r <= '9') {
			continue
		}
		return false
	}
	return true
}
