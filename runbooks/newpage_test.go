package runbooks

import (
	"strings"
	"testing"
)

func TestNewPageIsAValidRunbookBoundToTheAlert(t *testing.T) {
	tests := []struct {
		name  string
		alert Alert
		title string
	}{
		{"an alert with words", Alert{Labels: map[string]string{"alertname": "GitalyFileServerDown", "type": "gitaly", "severity": "s1"},
			Description: "Gitaly has been down for {{ $value }} minutes on {{ $labels.fqdn }}."}, "Gitaly File Server Down"},
		{"a bare name", Alert{Name: "HTTPServerDown"}, "HTTP Server Down"},
		{"hostile text", Alert{Labels: map[string]string{"alertname": "Weird: \"name\" #1", "note": "a `b`\nc"},
			Summary: "---\n# not a heading"}, "Weird: \"name\" #1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := NewPage(tt.alert)
			rb := Parse(NewPagePath("", "x"), []byte(md), ParseOptions{Source: "s"})
			if rb.Problems() > 0 {
				t.Errorf("the page has problems: %v\n%s", rb.Diagnostics, md)
			}
			if rb.Title != tt.title {
				t.Errorf("title %q, want %q", rb.Title, tt.title)
			}
			name := tt.alert.Labels["alertname"]
			if name == "" {
				name = tt.alert.Name
			}
			bound := false
			for _, b := range rb.Alerts {
				bound = bound || (b.From == FromFrontMatter && b.Name == name)
			}
			if !bound {
				t.Errorf("the page does not bind %q: %+v", name, rb.Alerts)
			}
			var heads []string
			for _, s := range rb.Sections {
				heads = append(heads, s.Heading)
			}
			for _, want := range []string{"Meaning", "Impact", "Diagnosis", "Mitigation"} {
				if !strings.Contains(strings.Join(heads, "|"), want) {
					t.Errorf("no %s section: %v", want, heads)
				}
			}
			if len(rb.Steps) == 0 {
				t.Error("no steps to fill in")
			}
			if strings.Contains(md, "{{") {
				t.Errorf("template actions left in the page:\n%s", md)
			}
		})
	}
	if got := NewPagePath("docs/gitaly", "Gitaly File/Server"); got != "docs/gitaly/Gitaly-File-Server.md" {
		t.Errorf("NewPagePath = %q", got)
	}
}
