package search

import "testing"

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
