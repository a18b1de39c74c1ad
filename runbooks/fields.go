package runbooks

import (
	"fmt"
	"sort"
	"strings"
)

// applyFrontMatter interprets the decoded front matter. It is lenient: a
// string where a list is expected is a one-item list, common synonyms are
// accepted, and a value of the wrong shape is a warning that names its line
// while the rest is still read. Keys it does not know are kept in Params.
func (r *Runbook) applyFrontMatter(fm *frontMatter) {
	fa := fieldReader{fm: fm, rb: r}
	for _, key := range sortedKeys(fm.fields) {
		v := fm.fields[key]
		switch strings.ToLower(key) {
		case "title":
			r.Title = fa.str(key, v)
		case "description", "summary":
			if r.Description == "" {
				r.Description = fa.str(key, v)
			}
		case "service":
			r.Service = fa.str(key, v)
		case "team":
			r.Team = fa.str(key, v)
		case "owner", "owners":
			r.Owners = append(r.Owners, fa.strings(key, v)...)
		case "severity":
			r.Severity = fa.str(key, v)
		case "tags", "keywords", "categories":
			r.Tags = append(r.Tags, fa.strings(key, v)...)
		case "aliases":
			r.Aliases = append(r.Aliases, fa.strings(key, v)...)
		case "alert", "alerts", "alertname", "alertnames":
			r.Alerts = append(r.Alerts, fa.alerts(key, v)...)
		case "dashboards", "dashboard":
			r.Dashboards = append(r.Dashboards, fa.breadcrumbs(key, v, KindDashboard)...)
		case "breadcrumbs", "breadcrumb":
			r.Breadcrumbs = append(r.Breadcrumbs, fa.breadcrumbs(key, v, "")...)
		default:
			if r.Params == nil {
				r.Params = map[string]any{}
			}
			r.Params[key] = v
		}
	}
	sort.Strings(r.Tags)
	r.Tags = dedupe(r.Tags)
}

type fieldReader struct {
	fm *frontMatter
	rb *Runbook
}

func (f fieldReader) line(key string, item int) int {
	if lines := f.fm.itemLine[key]; item >= 0 && item < len(lines) {
		return lines[item]
	}
	if l := f.fm.keyLine[key]; l > 0 {
		return l
	}
	return 1
}

func (f fieldReader) warn(key string, item int, format string, args ...any) {
	f.rb.Diagnostics = append(f.rb.Diagnostics, Diagnostic{
		Line: f.line(key, item), Severity: SeverityWarning, Rule: "front-matter-field",
		Message: fmt.Sprintf("front matter %q: ", key) + fmt.Sprintf(format, args...),
	})
}

func (f fieldReader) str(key string, v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(t)
	case bool, int, int64, uint64, float64:
		return fmt.Sprint(t)
	case []any:
		if len(t) == 1 {
			return f.str(key, t[0])
		}
	}
	f.warn(key, -1, "want a single value, got %s", describe(v))
	return ""
}

func (f fieldReader) strings(key string, v any) []string {
	switch t := v.(type) {
	case nil:
		return nil
	case string:
		var out []string
		for _, s := range strings.Split(t, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	case []any:
		var out []string
		for i, x := range t {
			switch x.(type) {
			case string, int, int64, float64, bool:
				if s := strings.TrimSpace(fmt.Sprint(x)); s != "" {
					out = append(out, s)
				}
			default:
				f.warn(key, i, "item %d: want a string, got %s", i+1, describe(x))
			}
		}
		return out
	}
	f.warn(key, -1, "want a list of strings, got %s", describe(v))
	return nil
}

// alerts reads the alert bindings, which may be written as a name, a list
// of names, a list of {name, matchers} mappings, or a mapping of matchers.
func (f fieldReader) alerts(key string, v any) []AlertBinding {
	var out []AlertBinding
	add := func(item int, x any) {
		b := AlertBinding{From: FromFrontMatter, Line: f.line(key, item)}
		switch t := x.(type) {
		case string:
			t = strings.TrimSpace(t)
			if t == "" {
				return
			}
			if strings.ContainsAny(t, "=~") {
				b.Matchers = f.matchers(key, item, t)
				if len(b.Matchers) == 0 {
					return
				}
			} else {
				b.Name = t
			}
		case map[string]any:
			for _, k := range sortedKeys(t) {
				val := t[k]
				switch strings.ToLower(k) {
				case "name", "alert", "alertname":
					b.Name = f.str(key, val)
				case "matchers", "labels", "match":
					b.Matchers = append(b.Matchers, f.matchers(key, item, val)...)
				default:
					f.warn(key, item, "unknown key %q in an alert binding (want name and matchers)", k)
				}
			}
			if b.Name == "" && len(b.Matchers) == 0 {
				f.warn(key, item, "an alert binding needs a name or matchers")
				return
			}
		default:
			f.warn(key, item, "want an alert name or {name, matchers}, got %s", describe(x))
			return
		}
		out = append(out, b)
	}
	switch t := v.(type) {
	case []any:
		for i, x := range t {
			add(i, x)
		}
	case string:
		// "RedisDown, RedisMemoryHigh" is two alerts; a selector such as
		// {a="x,y"} keeps its commas.
		if strings.ContainsAny(t, "={") {
			add(-1, t)
			break
		}
		for _, name := range strings.Split(t, ",") {
			add(-1, name)
		}
	case map[string]any:
		// A bare mapping of labels: {service: payments, severity: critical}.
		if _, named := t["name"]; named {
			add(-1, t)
		} else {
			add(-1, map[string]any{"matchers": t})
		}
	default:
		add(-1, v)
	}
	return out
}

// matchers reads label matchers written as "a=b" strings, a list of them,
// a brace-wrapped selector, or a mapping of label to value.
func (f fieldReader) matchers(key string, item int, v any) []Matcher {
	var out []Matcher
	addExpr := func(s string) {
		s = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "{"), "}"))
		for _, part := range splitSelector(s) {
			m, err := ParseMatcher(part)
			if err != nil {
				f.warn(key, item, "%v", err)
				continue
			}
			out = append(out, m)
		}
	}
	switch t := v.(type) {
	case string:
		addExpr(t)
	case []any:
		for _, x := range t {
			if s, ok := x.(string); ok {
				addExpr(s)
			} else {
				f.warn(key, item, "want a matcher such as service=payments, got %s", describe(x))
			}
		}
	case map[string]any:
		for _, k := range sortedKeys(t) {
			m, err := NewMatcher(k, OpEqual, fmt.Sprint(t[k]))
			if err != nil || !validLabelName(k) {
				f.warn(key, item, "%q is not a valid label name", k)
				continue
			}
			out = append(out, m)
		}
	default:
		f.warn(key, item, "want matchers, got %s", describe(v))
	}
	return out
}

// splitSelector splits `a="x,y", b=~"c"` at the commas outside quotes.
func splitSelector(s string) []string {
	var out []string
	var quote rune
	start := 0
	for i, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote == 0 && (r == '"' || r == '\''):
			quote = r
		case quote == 0 && r == ',':
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	out = append(out, s[start:])
	var kept []string
	for _, p := range out {
		if strings.TrimSpace(p) != "" {
			kept = append(kept, p)
		}
	}
	return kept
}

// breadcrumbs reads dashboards and breadcrumbs: a list of URLs, a list of
// mappings, or a mapping of name to URL (or to a mapping).
func (f fieldReader) breadcrumbs(key string, v any, defaultKind string) []Breadcrumb {
	var out []Breadcrumb
	add := func(item int, name string, x any) {
		b := Breadcrumb{Name: name, Kind: defaultKind, Line: f.line(key, item)}
		switch t := x.(type) {
		case string:
			b.URL = strings.TrimSpace(t)
		case map[string]any:
			for _, k := range sortedKeys(t) {
				val := t[k]
				switch strings.ToLower(k) {
				case "name", "title":
					b.Name = f.str(key, val)
				case "kind", "type":
					b.Kind = strings.ToLower(f.str(key, val))
				case "url", "link", "href":
					b.URL = f.str(key, val)
				case "query", "expr", "expression":
					b.Query = f.str(key, val)
				case "datasource", "provider", "source":
					b.Datasource = f.str(key, val)
				default:
					f.warn(key, item, "unknown key %q (want name, kind, url, query, datasource)", k)
				}
			}
		default:
			f.warn(key, item, "want a URL or {name, kind, url, query}, got %s", describe(x))
			return
		}
		if b.URL == "" && b.Query == "" {
			f.warn(key, item, "%q has neither a url nor a query", b.Name)
			return
		}
		if b.Kind == "" {
			b.Kind = KindLink
			if b.Query != "" {
				b.Kind = KindMetrics
			}
		}
		if !contains(breadcrumbKinds, b.Kind) {
			f.warn(key, item, "unknown kind %q (want one of %s)", b.Kind, strings.Join(breadcrumbKinds, ", "))
		}
		if b.Name == "" {
			b.Name = b.URL
			if b.Name == "" {
				b.Name = clip(b.Query, 60)
			}
		}
		out = append(out, b)
	}
	switch t := v.(type) {
	case []any:
		for i, x := range t {
			add(i, "", x)
		}
	case map[string]any:
		for i, k := range sortedKeys(t) {
			add(i, k, t[k])
		}
	case string:
		add(-1, "", t)
	case nil:
	default:
		f.warn(key, -1, "want a list, got %s", describe(v))
	}
	return out
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "nothing"
	case string:
		return "a string"
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// dedupe removes adjacent duplicates from a sorted slice.
func dedupe(s []string) []string {
	if len(s) < 2 {
		return s
	}
	out := s[:1]
	for _, x := range s[1:] {
		if x != out[len(out)-1] {
			out = append(out, x)
		}
	}
	return out
}
