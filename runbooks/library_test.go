package runbooks

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const page = "# %s\n\n## Mitigation\n\n1. Restart it\n   ```bash\n   systemctl restart x\n   ```\n"

func TestLibraryReloadsOnlyChangedPages(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.md", strings.Replace(page, "%s", "A", 1))
	writeFile(t, dir, "sub/b.md", strings.Replace(page, "%s", "B", 1))
	lib := NewLibrary(LibraryOptions{})
	if err := lib.Add(NewDirSource("local", dir), SourceConfig{}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ch, err := lib.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"local:a.md", "local:sub/b.md"}; !reflect.DeepEqual(ch.Added, want) {
		t.Fatalf("first refresh added %v, want %v", ch.Added, want)
	}
	before, _ := lib.Get("local:a.md")

	ch, err = lib.Refresh(ctx)
	if err != nil || !ch.Empty() {
		t.Fatalf("second refresh with nothing changed: changes %+v, err %v", ch, err)
	}
	if again, _ := lib.Get("local:a.md"); again != before {
		t.Error("an unchanged page was parsed again")
	}

	writeFile(t, dir, "a.md", strings.Replace(page, "%s", "A changed", 1))
	if err := os.Remove(filepath.Join(dir, "sub/b.md")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "c.md", strings.Replace(page, "%s", "C", 1))
	ch, err = lib.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := []any{ch.Added, ch.Changed, ch.Removed}
	want := []any{[]string{"local:c.md"}, []string{"local:a.md"}, []string{"local:sub/b.md"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("changes = %v, want added/changed/removed %v", got, want)
	}
	if a, _ := lib.Get("local:a.md"); a.Title != "A changed" {
		t.Errorf("title after the change = %q", a.Title)
	}
}

// failingSource serves a fixed page until it is told to fail.
type failingSource struct {
	fail bool
	fsys fstest.MapFS
}

func (s *failingSource) Name() string { return "flaky" }
func (s *failingSource) Sync(context.Context) error {
	if s.fail {
		return errors.New("connection refused")
	}
	return nil
}
func (s *failingSource) Snapshot(context.Context) (Snapshot, error) {
	if s.fail {
		return Snapshot{}, errors.New("no checkout")
	}
	return Snapshot{FS: s.fsys, Revision: "abc"}, nil
}

func TestLibraryKeepsServingWhenASourceFails(t *testing.T) {
	src := &failingSource{fsys: fstest.MapFS{"x.md": {Data: []byte("# X\n")}}}
	now := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	lib := NewLibrary(LibraryOptions{Now: func() time.Time { return now }})
	other := t.TempDir()
	writeFile(t, other, "y.md", "# Y\n")
	for _, s := range []Source{src, NewDirSource("other", other)} {
		if err := lib.Add(s, SourceConfig{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := lib.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	src.fail = true
	writeFile(t, other, "z.md", "# Z\n")
	ch, err := lib.Refresh(context.Background())
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("refresh error = %v, want the failing source's error", err)
	}
	if want := []string{"other:z.md"}; !reflect.DeepEqual(ch.Added, want) {
		t.Errorf("the healthy source was not refreshed: added %v, want %v", ch.Added, want)
	}
	if _, ok := lib.Get("flaky:x.md"); !ok {
		t.Error("the failing source's pages were dropped; they must be served until it recovers")
	}
	st := lib.Status()[0]
	if st.Error == "" || st.Revision != "abc" || st.Pages != 1 || !st.LoadedAt.Equal(now) {
		t.Errorf("status of the failing source = %+v", st)
	}
	if rb, _ := lib.Get("flaky:x.md"); rb.Commit != "abc" {
		t.Errorf("commit = %q, want the revision the page was read at", rb.Commit)
	}
}

func TestMissingDirectoryIsAnError(t *testing.T) {
	lib := NewLibrary(LibraryOptions{})
	_ = lib.Add(NewDirSource("gone", filepath.Join(t.TempDir(), "nope")), SourceConfig{})
	if _, err := lib.Refresh(context.Background()); err == nil {
		t.Fatal("a missing directory was read as an empty source")
	}
}

func TestListPagesAppliesGlobsAndSkipsHiddenDirectories(t *testing.T) {
	fsys := fstest.MapFS{
		"services/payments/runbooks/5xx.md":      {},
		"services/payments/runbooks/deep/lag.md": {},
		"services/payments/README.md":            {},
		"services/orders/runbooks/drafts/x.md":   {},
		"services/orders/runbooks/backlog.md":    {},
		".github/ISSUE_TEMPLATE/bug.md":          {},
		"node_modules/pkg/readme.md":             {},
		"docs/page.markdown":                     {},
		"notes.txt":                              {},
	}
	tests := []struct {
		name string
		cfg  SourceConfig
		want []string
	}{
		{"defaults take every markdown page", SourceConfig{}, []string{
			"docs/page.markdown", "services/orders/runbooks/backlog.md", "services/orders/runbooks/drafts/x.md",
			"services/payments/README.md", "services/payments/runbooks/5xx.md", "services/payments/runbooks/deep/lag.md"}},
		{"include narrows to runbooks next to the code", SourceConfig{Include: []string{"services/*/runbooks/**/*.md"}}, []string{
			"services/orders/runbooks/backlog.md", "services/orders/runbooks/drafts/x.md",
			"services/payments/runbooks/5xx.md", "services/payments/runbooks/deep/lag.md"}},
		{"exclude removes drafts", SourceConfig{Include: []string{"services/*/runbooks/**/*.md"}, Exclude: []string{"**/drafts/**"}}, []string{
			"services/orders/runbooks/backlog.md", "services/payments/runbooks/5xx.md", "services/payments/runbooks/deep/lag.md"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := ListPages(fsys, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestSourceNamesAndGlobsAreChecked(t *testing.T) {
	lib := NewLibrary(LibraryOptions{})
	if err := lib.Add(NewFSSource("a", fstest.MapFS{}), SourceConfig{}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		cfg  SourceConfig
	}{{"a", SourceConfig{}}, {"has:colon", SourceConfig{}}, {"", SourceConfig{}}, {"b", SourceConfig{Include: []string{"[unclosed"}}}} {
		if err := lib.Add(NewFSSource(tt.name, fstest.MapFS{}), tt.cfg); err == nil {
			t.Errorf("Add(%q, %+v) succeeded, want an error", tt.name, tt.cfg)
		}
	}
}

func TestASlimLibraryKeepsSummariesAndReadsPagesWholeWhenAsked(t *testing.T) {
	dir, cache := t.TempDir(), t.TempDir()
	writeFile(t, dir, "a.md", strings.Replace(page, "%s", "A", 1))
	writeFile(t, dir, "b.md", strings.Replace(page, "%s", "B", 1))
	open := func() *Library {
		lib := NewLibrary(LibraryOptions{Slim: true, CacheDir: cache})
		if err := lib.Add(NewDirSource("local", dir), SourceConfig{}); err != nil {
			t.Fatal(err)
		}
		if _, err := lib.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		return lib
	}
	lib := open()
	for _, rb := range lib.Pages() {
		if !rb.IsSlim() || rb.Text != "" || len(rb.Steps) != 1 || rb.Steps[0].Title == "" || rb.Steps[0].Body != "" || len(rb.Sections) == 0 {
			t.Fatalf("a kept page %+v, want it slim with its step titles and headings", rb)
		}
	}
	whole := func(lib *Library, id string) *Runbook {
		t.Helper()
		rb, ok := lib.Get(id)
		if !ok || rb.IsSlim() || !strings.Contains(rb.Text, "systemctl restart x") || len(rb.Steps[0].Commands) != 1 {
			t.Fatalf("Get(%s) = %+v, %v; want the page whole", id, rb, ok)
		}
		return rb
	}
	fresh := whole(lib, "local:a.md") // the page the refresh parsed
	lib.ReleaseFresh()
	again := whole(lib, "local:a.md") // read from the source again
	if again == fresh {
		t.Error("after ReleaseFresh, Get still answered the page the refresh parsed")
	}
	if whole(lib, "local:a.md") != again {
		t.Error("a page read whole again was not kept for the next Get")
	}

	// A restart reads the slim pages from the cache, and parses nothing.
	restarted := open()
	for _, rb := range restarted.Pages() {
		if !rb.IsSlim() {
			t.Errorf("%s came back whole from the cache", rb.ID)
		}
	}
	whole(restarted, "local:b.md")
	if _, ok := restarted.Get("local:nope.md"); ok {
		t.Error("Get found a page that does not exist")
	}
}

func TestAFileOfTheSameSizeAndTimeIsNotReadAgain(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.md")
	writeFile(t, dir, "a.md", "# Aaaa\n\n## Mitigation\n\n1. Do it\n")
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	lib := NewLibrary(LibraryOptions{})
	if err := lib.Add(NewDirSource("local", dir), SourceConfig{}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := lib.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	// Other bytes, the same size and time: the page is taken as it was.
	writeFile(t, dir, "a.md", "# Bbbb\n\n## Mitigation\n\n1. Do it\n")
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	if ch, _ := lib.Refresh(ctx); !ch.Empty() {
		t.Fatalf("a file of the same size and time was read again: %+v", ch)
	}
	// A new time: the file is read, and the change seen.
	if err := os.Chtimes(p, time.Now(), time.Now()); err != nil {
		t.Fatal(err)
	}
	ch, _ := lib.Refresh(ctx)
	rb, _ := lib.Get("local:a.md")
	if len(ch.Changed) != 1 || rb.Title != "Bbbb" {
		t.Errorf("a file with a new time: changes %+v, title %q; want it read again", ch, rb.Title)
	}
}
