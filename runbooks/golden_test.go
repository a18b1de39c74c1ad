package runbooks

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/pages")

// TestParseGolden parses every page in testdata/pages and compares what was
// understood with the page's .golden.json. Run with -update after a
// deliberate change, and read the diff.
func TestParseGolden(t *testing.T) {
	pages, err := filepath.Glob("testdata/pages/*.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) == 0 {
		t.Fatal("no pages in testdata/pages")
	}
	fsys := os.DirFS("testdata/pages")
	parsed := map[string]*Runbook{}
	var all []*Runbook
	for _, page := range pages {
		rb := ReadPage(fsys, filepath.Base(page), ParseOptions{Source: "testdata", Commit: "0123abc"}, nil)
		parsed[rb.Path] = rb
		all = append(all, rb)
	}
	// Links are checked against every page, as lint does.
	linted := map[string][]Diagnostic{}
	for _, d := range LintLinks(all, fsys) {
		linted[d.Path] = append(linted[d.Path], d)
	}
	for _, page := range pages {
		name := filepath.Base(page)
		t.Run(strings.TrimSuffix(name, ".md"), func(t *testing.T) {
			rb := parsed[name]
			rb.Diagnostics = append([]Diagnostic{}, linted[name]...)
			got, err := json.MarshalIndent(rb, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(page, ".md") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./runbooks -run TestParseGolden -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s; run with -update and review the diff:\n%s", name, golden, firstDiff(string(want), string(got)))
			}
		})
	}
}

// firstDiff shows the first line where two texts differ, with context.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + itoa(i+1) + ":\n  want: " + w + "\n  got:  " + g
		}
	}
	return "(no line differs)"
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
