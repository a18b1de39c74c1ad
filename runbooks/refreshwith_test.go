package runbooks_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks/gitsource"
)

// remote is a repository standing in for a git server, in a temporary
// directory, reached through a file:// URL.
type remote struct {
	t    *testing.T
	dir  string
	repo *git.Repository
	n    int
}

// newRemote makes a repository with one commit holding files. go-git runs
// git-upload-pack to fetch from a file:// URL, so the test is skipped
// without git, except in CI, where it must run.
func newRemote(t *testing.T, files map[string]string) *remote {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("git is not installed; .ci/run must install it")
		}
		t.Skip("git is not installed: install git to run the tests that fetch from a local repository")
	}
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatalf("init remote: %v", err)
	}
	r := &remote{t: t, dir: dir, repo: repo}
	r.commit(files)
	return r
}

func (r *remote) url() string { return "file://" + filepath.ToSlash(r.dir) }

// commit writes files and commits them, and returns the commit's hash.
func (r *remote) commit(files map[string]string) string {
	r.t.Helper()
	wt, err := r.repo.Worktree()
	if err != nil {
		r.t.Fatal(err)
	}
	for name, content := range files {
		writePage(r.t, r.dir, name, content)
		if _, err := wt.Add(name); err != nil {
			r.t.Fatalf("add %s: %v", name, err)
		}
	}
	r.n++
	sig := &object.Signature{Name: "Breadcrumb Test", Email: "test@example.com",
		When: time.Date(2024, 3, 1, 12, r.n, 0, 0, time.UTC)}
	h, err := wt.Commit("change", &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		r.t.Fatalf("commit: %v", err)
	}
	return h.String()
}

func writePage(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func runbookPage(title string) string {
	return "# " + title + "\n\n## Mitigation\n\n1. Restart it\n   ```bash\n   systemctl restart x\n   ```\n"
}

// newGitLibrary returns a library of a git source "payments" on r and a
// directory source "local", both read once by Refresh, and the directory.
func newGitLibrary(t *testing.T, r *remote) (*runbooks.Library, string) {
	t.Helper()
	src, err := gitsource.New(gitsource.Config{Name: "payments", URL: r.url(), Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writePage(t, dir, "disk.md", runbookPage("Disk v1"))
	lib := runbooks.NewLibrary(runbooks.LibraryOptions{})
	if err := lib.Add(src, runbooks.SourceConfig{}); err != nil {
		t.Fatal(err)
	}
	if err := lib.Add(runbooks.NewDirSource("local", dir), runbooks.SourceConfig{}); err != nil {
		t.Fatal(err)
	}
	if _, err := lib.Refresh(t.Context()); err != nil {
		t.Fatalf("first Refresh = %v", err)
	}
	return lib, dir
}

func checkTitle(t *testing.T, lib *runbooks.Library, id, want string) {
	t.Helper()
	rb, ok := lib.Get(id)
	if !ok {
		t.Fatalf("Get(%s): no such page", id)
	}
	if rb.Title != want {
		t.Errorf("%s's title = %q, want %q", id, rb.Title, want)
	}
}

func checkRevision(t *testing.T, lib *runbooks.Library, source, want string) {
	t.Helper()
	if got := lib.Revisions()[source]; got != want {
		t.Errorf("Revisions()[%s] = %q, want %q", source, got, want)
	}
}

func TestRefreshWithFetchesOnlyTheSourcesItIsToldTo(t *testing.T) {
	r := newRemote(t, map[string]string{"db.md": runbookPage("DB v1")})
	lib, dir := newGitLibrary(t, r)
	first := lib.Revisions()["payments"]
	if first == "" {
		t.Fatal("after the first Refresh, the git source serves no revision")
	}

	second := r.commit(map[string]string{"db.md": runbookPage("DB v2")})
	writePage(t, dir, "disk.md", runbookPage("Disk v2"))
	var asked []string
	ch, err := lib.RefreshWith(t.Context(), func(source string) bool {
		asked = append(asked, source)
		return false
	})
	if err != nil {
		t.Fatalf("RefreshWith(no fetch) = %v", err)
	}
	if got, want := strings.Join(asked, ","), "payments,local"; got != want {
		t.Errorf("fetch was asked about %s, want %s", got, want)
	}
	checkRevision(t, lib, "payments", first)
	checkTitle(t, lib, "payments:db.md", "DB v1")
	checkTitle(t, lib, "local:disk.md", "Disk v2")
	if got, want := strings.Join(ch.Changed, ","), "local:disk.md"; got != want {
		t.Errorf("without a fetch, Changed = %s, want %s", got, want)
	}

	writePage(t, dir, "disk.md", runbookPage("Disk v3"))
	ch, err = lib.RefreshWith(t.Context(), func(source string) bool { return source == "payments" })
	if err != nil {
		t.Fatalf("RefreshWith(fetch payments) = %v", err)
	}
	checkRevision(t, lib, "payments", second)
	checkRevision(t, lib, "local", "")
	checkTitle(t, lib, "payments:db.md", "DB v2")
	checkTitle(t, lib, "local:disk.md", "Disk v3")
	if got, want := strings.Join(ch.Changed, ","), "payments:db.md,local:disk.md"; got != want {
		t.Errorf("with a fetch, Changed = %s, want %s", got, want)
	}
}

func TestRefreshStillFetchesEverySource(t *testing.T) {
	r := newRemote(t, map[string]string{"db.md": runbookPage("DB v1")})
	lib, _ := newGitLibrary(t, r)
	second := r.commit(map[string]string{"db.md": runbookPage("DB v2")})
	if _, err := lib.Refresh(t.Context()); err != nil {
		t.Fatalf("Refresh = %v", err)
	}
	checkRevision(t, lib, "payments", second)
	checkTitle(t, lib, "payments:db.md", "DB v2")
}

// TestARefreshWithoutAFetchClearsTheLastFetchError: a replica that stops
// fetching a source serves the copy it was told to serve, so the error
// of its last fetch is no longer the source's state.
func TestARefreshWithoutAFetchClearsTheLastFetchError(t *testing.T) {
	r := newRemote(t, map[string]string{"db.md": runbookPage("DB v1")})
	lib, _ := newGitLibrary(t, r)
	first := lib.Revisions()["payments"]
	if err := os.RemoveAll(r.dir); err != nil {
		t.Fatal(err)
	}

	if _, err := lib.RefreshWith(t.Context(), func(string) bool { return true }); err == nil {
		t.Fatal("RefreshWith(fetch) from a removed remote = nil, want an error")
	}
	if st := sourceStatus(t, lib, "payments"); st.Error == "" || st.Revision != first {
		t.Errorf("after a failed fetch, status = %+v, want an error and revision %s", st, first)
	}
	checkTitle(t, lib, "payments:db.md", "DB v1")

	if _, err := lib.RefreshWith(t.Context(), func(string) bool { return false }); err != nil {
		t.Fatalf("RefreshWith(no fetch) = %v, want nil", err)
	}
	if st := sourceStatus(t, lib, "payments"); st.Error != "" || st.Revision != first {
		t.Errorf("after a refresh without a fetch, status = %+v, want no error and revision %s", st, first)
	}
	checkTitle(t, lib, "payments:db.md", "DB v1")
}

func sourceStatus(t *testing.T, lib *runbooks.Library, name string) runbooks.SourceStatus {
	t.Helper()
	for _, st := range lib.Status() {
		if st.Name == name {
			return st
		}
	}
	t.Fatalf("no status for source %s", name)
	return runbooks.SourceStatus{}
}

func TestRevisionsIsEmptyForASourceNotReadYet(t *testing.T) {
	lib := runbooks.NewLibrary(runbooks.LibraryOptions{})
	if err := lib.Add(runbooks.NewDirSource("local", t.TempDir()), runbooks.SourceConfig{}); err != nil {
		t.Fatal(err)
	}
	got := lib.Revisions()
	if rev, ok := got["local"]; !ok || rev != "" || len(got) != 1 {
		t.Errorf("Revisions() = %v, want map[local:]", got)
	}
}
