package incidents

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// FuzzCaps cuts arbitrary text and checks what every cut must give: no
// more than the cap, the text itself when it was within it, else a
// prefix of it ending in "…", valid UTF-8 from valid UTF-8, and the same
// again when cut twice.
func FuzzCaps(f *testing.F) {
	f.Add("Disk full", 4)
	f.Add(strings.Repeat("é", 10), 7)
	f.Add("日本語のテキスト", 8)
	f.Add("\xff\xfe\x80\x80\x80abc", 5)
	f.Add("", 3)
	f.Fuzz(func(t *testing.T, s string, n int) {
		n = 3 + abs(n)%64 // room for the ellipsis, and a cap shorter than most inputs
		for _, c := range []struct {
			name string
			cut  func(string, int) (string, bool)
			size func(string) int
		}{
			{"cutBytes", cutBytes, func(s string) int { return len(s) }},
			{"cutRunes", cutRunes, utf8.RuneCountInString},
		} {
			got, cut := c.cut(s, n)
			if c.size(got) > n {
				t.Fatalf("%s(%q, %d) = %q, over the cap", c.name, s, n, got)
			}
			if cut != (c.size(s) > n) || (!cut && got != s) {
				t.Fatalf("%s(%q, %d) = %q, %v: want the text when it is within the cap, a cut otherwise", c.name, s, n, got, cut)
			}
			if cut && (!strings.HasSuffix(got, ellipsis) || !strings.HasPrefix(s, strings.TrimSuffix(got, ellipsis))) {
				t.Fatalf("%s(%q, %d) = %q: want a prefix of the text and …", c.name, s, n, got)
			}
			if utf8.ValidString(s) && !utf8.ValidString(got) {
				t.Fatalf("%s(%q, %d) = %q: not UTF-8", c.name, s, n, got)
			}
			if again, _ := c.cut(got, n); again != got {
				t.Fatalf("%s(%q, %d) = %q, then %q when cut again", c.name, s, n, got, again)
			}
		}
		// An alert of that text everywhere keeps its values and names
		// within their caps.
		a := runbooks.Alert{Name: s, Summary: s, Labels: map[string]string{s: s, "alertname": s}, Annotations: map[string]string{s: s}}
		capAlert(&a)
		for _, m := range []map[string]string{a.Labels, a.Annotations} {
			for k, v := range m {
				if len(k) > MaxNameBytes || len(v) > MaxValueBytes {
					t.Fatalf("kept %d bytes of name and %d of value", len(k), len(v))
				}
			}
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
