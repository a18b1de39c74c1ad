package runbooks

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// NewPage returns the markdown of a new runbook for an alert that has
// none: front matter that binds the page to the alert (so that the next
// one finds it), the sections a responder looks for (Meaning, Impact,
// Diagnosis, Mitigation) with what the alert already says in them, and
// numbered steps to fill in. The page is valid for `breadcrumb lint`,
// whose notes point at what is left to write.
func NewPage(a Alert) string {
	name := a.Name
	if n := a.Labels["alertname"]; n != "" {
		name = n
	}
	if name == "" {
		name = "NewAlert"
	}
	var b strings.Builder
	b.WriteString("---\n")
	fmt.Fprintf(&b, "title: %s\n", yamlScalar(titleOf(name)))
	if svc := a.Service(); svc != "" {
		fmt.Fprintf(&b, "service: %s\n", yamlScalar(svc))
	}
	if sev := a.Labels["severity"]; sev != "" {
		fmt.Fprintf(&b, "severity: %s\n", yamlScalar(sev))
	}
	b.WriteString("alerts:\n")
	fmt.Fprintf(&b, "  - %s\n", yamlScalar(name))
	b.WriteString("---\n\n")
	fmt.Fprintf(&b, "# %s\n\n", name)
	b.WriteString("## Meaning\n\n")
	meaning := StripTemplates(firstNonEmptyString(a.Description, a.Summary))
	if meaning == "" {
		meaning = "What this alert says is wrong, in a sentence a newcomer understands."
	}
	b.WriteString(meaning + "\n\n")
	if a.Labels != nil {
		keys := make([]string, 0, len(a.Labels))
		for k := range a.Labels {
			if k != "alertname" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		if len(keys) > 0 {
			b.WriteString("It fired with these labels:")
			for _, k := range keys {
				fmt.Fprintf(&b, " `%s=%s`", k, strings.ReplaceAll(a.Labels[k], "`", "'"))
			}
			b.WriteString(".\n\n")
		}
	}
	b.WriteString("## Impact\n\nWho notices, how badly, and how soon.\n\n")
	b.WriteString("## Diagnosis\n\n1. Confirm the alert: open its dashboard or query, and check it still fires.\n")
	b.WriteString("2. Find what changed: the last deploys, config changes and incidents of this service.\n\n")
	b.WriteString("## Mitigation\n\n1. The first safe thing to do, with the command to run.\n")
	b.WriteString("2. How to know it worked.\n\n")
	b.WriteString("## Escalation\n\nWho to call when the steps above do not help.\n")
	return b.String()
}

// NewPagePath returns a file name for NewPage's page: the alert's name
// with ".md", in dir when it is not empty.
func NewPagePath(dir, alertName string) string {
	name := unsafePathChars.ReplaceAllString(alertName, "-")
	name = strings.Trim(name, "-.")
	if name == "" {
		name = "new-runbook"
	}
	if dir == "" || dir == "." {
		return name + ".md"
	}
	return strings.TrimSuffix(dir, "/") + "/" + name + ".md"
}

var unsafePathChars = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// titleOf turns an alert name into words: KubePodCrashLooping → Kube Pod
// Crash Looping.
func titleOf(name string) string {
	var words []string
	start := 0
	runes := []rune(name)
	for i := 1; i < len(runes); i++ {
		prev, r := runes[i-1], runes[i]
		next := rune(0)
		if i+1 < len(runes) {
			next = runes[i+1]
		}
		upper := r >= 'A' && r <= 'Z'
		lowerPrev := prev >= 'a' && prev <= 'z'
		if r == '_' || r == '-' || r == ' ' {
			words = append(words, string(runes[start:i]))
			start = i + 1
			continue
		}
		if upper && (lowerPrev || (prev >= 'A' && prev <= 'Z' && next >= 'a' && next <= 'z')) {
			words = append(words, string(runes[start:i]))
			start = i
		}
	}
	words = append(words, string(runes[start:]))
	var out []string
	for _, w := range words {
		if w != "" {
			out = append(out, w)
		}
	}
	return strings.Join(out, " ")
}

func firstNonEmptyString(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

// yamlScalar quotes s for a YAML value when it needs it.
func yamlScalar(s string) string {
	if s == "" || strings.ContainsAny(s, ":#{}[],&*!|>'\"%@`\n") || strings.TrimSpace(s) != s {
		return "'" + strings.ReplaceAll(strings.ReplaceAll(s, "\n", " "), "'", "''") + "'"
	}
	return s
}
