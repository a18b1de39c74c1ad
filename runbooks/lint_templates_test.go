package runbooks

import (
	"fmt"
	"strings"
	"testing"
)

func TestUnknownVariablesAreLintErrorsWhereverTheTemplateIs(t *testing.T) {
	tests := []struct {
		name string
		page string
		want []string // "line: message part"
	}{
		{"a dashboard's url",
			"---\ndashboards:\n  - name: Pods\n    url: https://g.example.com/d/x?var-ns={{namespce}}\n---\n# T\n",
			[]string{"4: unknown variable {{namespce}}"}},
		{"a breadcrumb's query",
			"---\nbreadcrumbs:\n  - name: Logs\n    kind: logs\n    query: '{app=\"{{.Labels.app}}\"}'\n---\n# T\n",
			[]string{"5: did you mean {{labels.app}}?"}},
		{"a link in a step",
			"# T\n\n## Diagnosis\n\n1. Open [the logs](https://logs.example.com/?q={{podname}}).\n2. Then <https://g.example.com/d/x?from={{from_ms}}&to={{to_ms}}>.\n",
			[]string{"5: link https://logs.example.com/?q={{podname}}: unknown variable {{podname}}"}},
		{"an unclosed placeholder in a bare link",
			"# T\n\nSee https://g.example.com/d/x?var-ns={{namespace and more.\n",
			[]string{"3: never closed"}},
		{"known variables and Hugo shortcodes are fine",
			"# T\n\n1. See [up]({{< ref \"up.md\" >}}) and [pods](https://g.example.com/d/x?var-pod={{pod}}&n={{labels.node}}).\n",
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb := Parse("p.md", []byte(tt.page), ParseOptions{})
			var got []string
			for _, d := range LintLinks([]*Runbook{rb}, nil) {
				if d.Rule == "unknown-variable" {
					if d.Severity != SeverityError {
						t.Errorf("got severity %s, want error", d.Severity)
					}
					got = append(got, fmt.Sprintf("%d: %s", d.Line, d.Message))
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %d diagnostics like %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				line, msg, _ := strings.Cut(w, ": ")
				if !strings.HasPrefix(got[i], line+": ") || !strings.Contains(got[i], msg) {
					t.Errorf("got %q, want line %s and %q", got[i], line, msg)
				}
			}
		})
	}
}

// Finding: a template whose host (or whole address) is a placeholder lets
// the alert's sender choose where the link leads; lint says so.
func TestATemplateWhoseHostIsAPlaceholderIsALintWarning(t *testing.T) {
	tests := []struct {
		name string
		page string
		want []int // lines
	}{
		{"a dashboard that is an annotation", "---\ndashboards:\n  - name: From the alert\n    url: \"{{annotations.dashboard}}\"\n---\n# T\n", []int{3}},
		{"a breadcrumb with a label in the host", "---\nbreadcrumbs:\n  - name: Cluster\n    url: https://{{cluster}}.grafana.example.com/d/x\n---\n# T\n", []int{3}},
		{"a link in a step with a label in the host", "# T\n\n## Steps\n\n1. Open <https://{{cluster}}.console.example.com/pods>.\n", []int{5}},
		{"values in the path and the query only", "---\ndashboards:\n  - name: Pods\n    url: https://g.example.com/d/{{namespace}}?pod={{pod}}\n---\n# T\n\n1. Open <https://k8s.example.com/ns/{{namespace}}>.\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb := Parse("p.md", []byte(tt.page), ParseOptions{})
			var got []int
			for _, d := range LintLinks([]*Runbook{rb}, nil) {
				if d.Rule == "link-host-from-alert" {
					if d.Severity != SeverityWarning || !strings.Contains(d.Message, "allowed_hosts") {
						t.Errorf("got %s %q, want a warning that names allowed_hosts", d.Severity, d.Message)
					}
					got = append(got, d.Line)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("got warnings on lines %v, want %v", got, tt.want)
			}
		})
	}
}
