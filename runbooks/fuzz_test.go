package runbooks

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse proves that no page makes the parser panic, hang or produce
// output that cannot be encoded, and that every diagnostic names a line of
// the page. Run it with: go test ./runbooks -run '^$' -fuzz FuzzParse
func FuzzParse(f *testing.F) {
	seeds := []string{
		"",
		"---\ntitle: x\n---\n# T\n\n## Mitigation\n\n1. Do\n   ```bash\n   echo hi\n   ```\n",
		"+++\ntitle = \"x\"\n[[alerts]]\nname = \"A\"\n+++\n# T\n",
		"---\ntitle: [unclosed\nservice: x\n---\n",
		"---\nnever closed\n",
		"```\nunclosed\n",
		"````md\n```\ninner\n```\n````\n",
		"## Step 1: a\n## Step 2: b\n",
		"- [ ] one\n- [x] two\n",
		"<details>\n<summary>s</summary>\n\n## Diagnosis\n\n* a `kubectl get pods`\n</details>\n",
		"[a]({{< ref \"b.md\" >}}) {{< hint >}}\n[[_TOC_]]\n",
		"```console\n$ a \\\n  b\nout\n```\n",
		"\xef\xbb\xbf# BOM\r\n\r\n1. crlf\r\n",
		"# bad \xff\xfe utf8\n",
		"Title\n=====\n\nSub\n---\n",
		"---\ndashboards:\n  - {name: d, url: 'http://x/{{nope}}'}\nbreadcrumbs: {a: {query: '{{'}}\n---\n",
		"1. a\n   1. b\n      1. c\n",
		"| a | b |\n|---|---|\n| `kubectl x` | ![i](i.png) |\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, page []byte) {
		rb := Parse("dir/page.md", page, ParseOptions{Source: "fuzz"})
		if _, err := json.Marshal(rb); err != nil {
			t.Fatalf("the result cannot be encoded: %v", err)
		}
		lines := strings.Count(string(page), "\n") + strings.Count(string(page), "\r") + 2
		for _, d := range rb.Diagnostics {
			if d.Line < 1 || d.Line > lines {
				t.Errorf("diagnostic %v points outside the page's %d lines", d, lines)
			}
		}
		for _, s := range rb.Steps {
			if !utf8.ValidString(s.Title) || !utf8.ValidString(s.Body) {
				t.Errorf("step %d is not valid UTF-8", s.Number)
			}
		}
		if rb.Title == "" {
			t.Error("the page has no title at all; the file name should have been used")
		}
		LintLinks([]*Runbook{rb}, nil)
	})
}
