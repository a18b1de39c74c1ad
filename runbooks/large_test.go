package runbooks

import (
	"strings"
	"testing"
)

// TestLargeAndPathologicalPagesLoad feeds the parser pages of several
// megabytes and shapes known to make markdown parsers slow. It asserts no
// time limit (the machine is shared); a hang would fail the run by its
// timeout, and BenchmarkParse measures the speed.
func TestLargeAndPathologicalPagesLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("large pages skipped in -short mode")
	}
	section := "## Mitigation\n\n1. Restart the pods\n   ```bash\n   kubectl rollout restart deploy/api\n   ```\n2. Check `kubectl get pods -n prod`\n\n"
	pages := map[string]string{
		"a 4 MB service page":                  "# Big\n\n" + strings.Repeat(section, 4<<20/len(section)),
		"one 2 MB line of {{<":                 strings.Repeat("{{< a ", 2<<20/6),
		"deeply nested brackets":               strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
		"deeply nested lists":                  nestedList(300),
		"many emphasis delimiters":             strings.Repeat("*a _b ", 300000),
		"many headings":                        strings.Repeat("## Diagnosis\n### Step 1: x\n", 20000),
		"an unclosed fence at the top of 2 MB": "```\n" + strings.Repeat("x\n", 1<<20),
		"many link reference definitions":      strings.Repeat("[a]: http://x\n", 20000) + strings.Repeat("[a] ", 20000),
	}
	for name, page := range pages {
		t.Run(name, func(t *testing.T) {
			rb := Parse("big.md", []byte(page), ParseOptions{Source: "t"})
			if rb.Title == "" {
				t.Error("no title")
			}
		})
	}
}

func nestedList(depth int) string {
	var b strings.Builder
	for i := 0; i < depth; i++ {
		b.WriteString(strings.Repeat("  ", i))
		b.WriteString("- item\n")
	}
	return b.String()
}

func TestPagesOverTheSizeLimitKeepTheirFrontMatter(t *testing.T) {
	page := "---\ntitle: Huge\nalerts: [HugeAlert]\n---\n" + strings.Repeat("text\n", 1000)
	rb := Parse("huge.md", []byte(page), ParseOptions{MaxPageSize: 1000})
	if rb.Title != "Huge" || len(rb.Alerts) != 1 {
		t.Errorf("title %q alerts %v: the front matter of a page over the limit was lost", rb.Title, rb.Alerts)
	}
	if findRule(rb, "too-large") == nil {
		t.Error("no too-large diagnostic")
	}
}
