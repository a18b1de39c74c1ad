package runbooks

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// cacheCases are pages that exercise what gob does not carry by itself:
// free-form front matter, regular-expression matchers, an empty page,
// Hugo refs and HTML anchors.
var cacheCases = map[string]string{
	"params.md": "---\ntitle: Params\nweight: 7\nbig: 9007199254740993\nnested: {a: [1, two, 3.5]}\nwhen: 2024-05-01T10:00:00Z\n" +
		"alerts:\n  - name: Foo\n    matchers: ['service=~\"pay.*\"', 'env!~\"dev|test\"']\n---\n# Params\n\nText.\n",
	"empty.md": "   \n",
	"hugo.md": "# Hugo\n\nSee [the other]({{< ref \"other.md\" >}}) and <a name=\"here\"></a> this.\n\n" +
		"## Mitigation\n\n1. Run `kubectl get pods`\n2. Wait\n",
	"toml.md": "+++\ntitle = \"Toml\"\ncount = 3\n+++\n# Toml\n",
}

// cachedPages returns every golden page and every case, parsed.
func cachedPages(t *testing.T) map[string]*Runbook {
	t.Helper()
	out := map[string]*Runbook{}
	files, err := filepath.Glob("testdata/pages/*.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rb := Parse(filepath.Base(f), data, ParseOptions{Source: "s", Commit: "abc"})
		out[rb.Path] = rb
	}
	for p, md := range cacheCases {
		out[p] = Parse(p, []byte(md), ParseOptions{Source: "s"})
	}
	return out
}

func TestCachedPagesComeBackAsParsed(t *testing.T) {
	pages := cachedPages(t)
	var buf bytes.Buffer
	if err := encodePages(&buf, "build", "s", 0, pages); err != nil {
		t.Fatal(err)
	}
	got, err := decodePages(&buf, "build", "s", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(pages) {
		t.Fatalf("got %d pages, want %d", len(got), len(pages))
	}
	for p, want := range pages {
		t.Run(p, func(t *testing.T) {
			g := got[p]
			if g == nil {
				t.Fatal("missing")
			}
			gj, _ := json.Marshal(g)
			wj, _ := json.Marshal(want)
			if !bytes.Equal(gj, wj) {
				t.Errorf("JSON differs:\ngot  %s\nwant %s", gj, wj)
			}
			// Beyond the JSON: the text, the unexported fields and the
			// compiled matchers.
			gc, wc := *g, *want
			gc.Params, wc.Params = nil, nil
			if !reflect.DeepEqual(gc, wc) {
				t.Errorf("got %+v, want %+v", gc, wc)
			}
		})
	}
	if m := got["params.md"].Alerts[0].Matchers[0]; m.re == nil || !m.Matches(map[string]string{"service": "payments"}) {
		t.Errorf("got matcher %v without its regular expression, want it compiled", m)
	}
}

func TestACacheOfAnotherBuildSourceOrLimitIsNotRead(t *testing.T) {
	pages := cachedPages(t)
	var buf bytes.Buffer
	if err := encodePages(&buf, "build", "s", 0, pages); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	tests := []struct {
		name, build, source string
		limit               int
	}{
		{"another build", "build2", "s", 0},
		{"another source", "build", "t", 0},
		{"another page size limit", "build", "s", 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decodePages(bytes.NewReader(data), tt.build, tt.source, tt.limit); err != errStale {
				t.Errorf("got %v, want errStale", err)
			}
		})
	}
}

func TestARestartReusesTheCachedPagesOfUnchangedFiles(t *testing.T) {
	dir, cacheDir := t.TempDir(), t.TempDir()
	writeFile(t, dir, "a.md", strings.Replace(page, "%s", "A", 1))
	writeFile(t, dir, "b.md", strings.Replace(page, "%s", "B", 1))
	load := func() *Library {
		t.Helper()
		lib := NewLibrary(LibraryOptions{CacheDir: cacheDir})
		if err := lib.Add(NewDirSource("docs", dir), SourceConfig{}); err != nil {
			t.Fatal(err)
		}
		if _, err := lib.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		return lib
	}
	first := load()
	if _, err := os.Stat(filepath.Join(cacheDir, "docs.pages")); err != nil {
		t.Fatalf("no cache after the first load: %v", err)
	}
	// Mark the cached pages, so that a page taken from the cache tells.
	c := newPageCache(cacheDir)
	marked := map[string]*Runbook{}
	for _, rb := range first.Pages() {
		cp := *rb
		cp.Title += " (cached)"
		marked[rb.Path] = &cp
	}
	if err := c.write("docs", ParseOptions{}, marked); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "b.md", strings.Replace(page, "%s", "B2", 1))

	second := load()
	titles := map[string]string{}
	for _, rb := range second.Pages() {
		titles[rb.Path] = rb.Title
	}
	want := map[string]string{"a.md": "A (cached)", "b.md": "B2"}
	if !reflect.DeepEqual(titles, want) {
		t.Errorf("got titles %v, want %v (a.md from the cache, b.md parsed)", titles, want)
	}
	// The cache now holds b.md as changed.
	pages, err := c.read("docs", ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := pages["b.md"].Title; got != "B2" {
		t.Errorf("got b.md cached as %q, want B2", got)
	}
}

func TestAnUnreadableCacheOnlyCostsAParse(t *testing.T) {
	dir, cacheDir := t.TempDir(), t.TempDir()
	writeFile(t, dir, "a.md", strings.Replace(page, "%s", "A", 1))
	writeFile(t, cacheDir, "docs.pages", "not a cache")
	lib := NewLibrary(LibraryOptions{CacheDir: cacheDir})
	if err := lib.Add(NewDirSource("docs", dir), SourceConfig{}); err != nil {
		t.Fatal(err)
	}
	if _, err := lib.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rb, ok := lib.Get("docs:a.md"); !ok || rb.Title != "A" {
		t.Fatalf("got %v, want page A parsed", rb)
	}
	if _, err := newPageCache(cacheDir).read("docs", ParseOptions{}); err != nil {
		t.Errorf("the cache was not rewritten: %v", err)
	}
}

// FuzzDecodePages feeds arbitrary bytes to the cache reader: it must
// return an error or pages, never panic.
func FuzzDecodePages(f *testing.F) {
	var buf bytes.Buffer
	if err := encodePages(&buf, "b", "s", 0, map[string]*Runbook{"x.md": Parse("x.md", []byte(cacheCases["params.md"]), ParseOptions{Source: "s"})}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("junk"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = decodePages(bytes.NewReader(data), "b", "s", 0)
	})
}
