package synth

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

func generate(t *testing.T, n int, seed uint64) Corpus {
	t.Helper()
	c, err := Generate(t.TempDir(), n, seed)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestTheSameSeedWritesTheSameBytes(t *testing.T) {
	a, b := generate(t, 300, 7), generate(t, 300, 7)
	for _, p := range a.Pages {
		x, err := os.ReadFile(filepath.Join(a.Dir, p.Path))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b.Dir, p.Path))
		if err != nil {
			t.Fatalf("%s is missing from the second corpus: %v", p.Path, err)
		}
		if !bytes.Equal(x, y) {
			t.Fatalf("%s differs between two corpora of the same seed", p.Path)
		}
	}
	a.Dir, b.Dir = "", ""
	if !reflect.DeepEqual(a, b) {
		t.Error("the corpus descriptions (pages, queries, alerts) differ between two runs of the same seed")
	}
	if c := generate(t, 300, 8); reflect.DeepEqual(a.Queries, c.Queries) {
		t.Error("another seed gave the same queries")
	}
}

func TestEveryPageParsesWithSteps(t *testing.T) {
	c := generate(t, 1500, 1)
	styles := map[Style]int{}
	var big, warnings int
	seen := map[string]bool{}
	for _, p := range c.Pages {
		if seen[p.Alert] {
			t.Errorf("two pages are about alert %s", p.Alert)
		}
		seen[p.Alert] = true
		data, err := os.ReadFile(filepath.Join(c.Dir, p.Path))
		if err != nil {
			t.Fatal(err)
		}
		styles[p.Style]++
		if len(data) > 50<<10 {
			big++
		}
		rb := runbooks.Parse(p.Path, data, runbooks.ParseOptions{Source: "synth"})
		for _, d := range rb.Diagnostics {
			switch d.Severity {
			case runbooks.SeverityError:
				t.Errorf("%s", d)
			case runbooks.SeverityWarning:
				warnings++
				if warnings <= 5 {
					t.Logf("warning: %s", d)
				}
			}
		}
		if len(rb.Steps) == 0 {
			t.Errorf("%s (%s): no steps", p.Path, p.Style)
		}
		if rb.Title != p.Title {
			t.Errorf("%s: title %q, want %q", p.Path, rb.Title, p.Title)
		}
		if len(rb.Alerts) == 0 && p.Style != StylePlain {
			t.Errorf("%s (%s): bound to no alert, want %s", p.Path, p.Style, p.Alert)
		}
	}
	if warnings > 0 {
		t.Errorf("%d warnings over %d pages, want none", warnings, len(c.Pages))
	}
	t.Logf("%d pages, %d KB, styles %v, %d over 50 KB, %d queries, %d alerts",
		len(c.Pages), c.Bytes>>10, styles, big, len(c.Queries), len(c.Alerts))
	if styles[StyleYAML] < 800 || styles[StyleHugo] < 300 || styles[StylePlain] < 150 {
		t.Errorf("styles %v, want about 60%% yaml, 25%% hugo, 15%% plain", styles)
	}
}

func TestQueriesAndAlertsPointAtTheirPages(t *testing.T) {
	c := generate(t, 500, 3)
	paths := map[string]bool{}
	for _, p := range c.Pages {
		paths[p.Path] = true
	}
	if len(c.Queries) != 50 || len(c.Alerts) != 50 {
		t.Fatalf("%d queries and %d alerts, want 50 of each", len(c.Queries), len(c.Alerts))
	}
	for _, q := range c.Queries {
		if n := len(strings.Fields(q.Text)); n < 2 || n > 5 {
			t.Errorf("query %q has %d words, want 2 to 4 and perhaps a noise word", q.Text, n)
		}
		if len(q.Want) == 0 || !slices.IsSorted(q.Want) {
			t.Errorf("query %q: want %v, a non-empty sorted list", q.Text, q.Want)
		}
		for _, w := range q.Want {
			if !paths[w] {
				t.Errorf("query %q wants %s, which was not generated", q.Text, w)
			}
		}
	}
	for _, a := range c.Alerts {
		if !paths[a.Want] {
			t.Errorf("alert %s wants %s, which was not generated", a.Alert.Name, a.Want)
		}
		if a.Alert.Labels["alertname"] != a.Alert.Name || a.Alert.Summary == "" {
			t.Errorf("alert %+v: want alertname and a summary", a.Alert)
		}
	}
}

func TestFillKeepsBracesThatAreNotPlaceholders(t *testing.T) {
	w := &writer{p: plan{topic: topic{service: "checkout", comp: &components[0], cond: &components[0].conds[0]}}}
	got := w.fill(`rate(x{service="{svc}", code=~"5.."}[5m]) '%{http_code}'`, "")
	want := `rate(x{service="checkout", code=~"5.."}[5m]) '%{http_code}'`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
