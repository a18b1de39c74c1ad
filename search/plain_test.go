package search

import (
	"regexp"
	"testing"
)

func TestPlainMarkdown(t *testing.T) {
	tests := map[string]string{
		"## Mitigation\n\n1. Run `kubectl get pods` **now**\n": " Mitigation\n\n1. Run kubectl get pods now\n",
		"See [the guide](https://x/y) and ![img](a.png)":       "See the guide and img",
		"| a | b |\n|---|:-:|\n| c | d |\n":                    "  a   b  \n\n  c   d  \n",
		"```bash\necho hi\n```\n":                              "\necho hi\n\n",
		"<details><summary>More</summary>\nText\n</details>":   "  More \nText\n ",
		"#hashtag stays":             "#hashtag stays",
		"node_exporter and [ref][1]": "node_exporter and ref",
	}
	for in, want := range tests {
		if got := plainMarkdown(in); got != want {
			t.Errorf("plainMarkdown(%q) = %q, want %q", in, got, want)
		}
	}
}

// The regular expressions that the scanners of plainMarkdown replace:
// the oracle of the fuzz target below.
var (
	oracleLink    = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	oracleRefLink = regexp.MustCompile(`\[([^\]]+)\]\[[^\]]*\]`)
	oracleHTML    = regexp.MustCompile(`(?s)<!--.*?-->|</?[A-Za-z][^>]*>`)
)

// FuzzMarkupScanners holds that each scanner does what its regular
// expression did, on any text (runbook text is untrusted).
func FuzzMarkupScanners(f *testing.F) {
	for _, s := range []string{"<a href=x>t</a> <!-- c --> <b", "[a](b) ![c](d) [e](f", "[a][1] [b][] [][x] [c]", "<!-- x", "!![a](b)", "[a[b](c)]", "</ >"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := stripHTML(s), oracleHTML.ReplaceAllString(s, " "); got != want {
			t.Errorf("stripHTML(%q) = %q, want %q", s, got, want)
		}
		if got, want := stripLinks(s), oracleLink.ReplaceAllString(s, "$1"); got != want {
			t.Errorf("stripLinks(%q) = %q, want %q", s, got, want)
		}
		if got, want := stripRefLinks(s), oracleRefLink.ReplaceAllString(s, "$1"); got != want {
			t.Errorf("stripRefLinks(%q) = %q, want %q", s, got, want)
		}
	})
}
