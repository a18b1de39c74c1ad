package gitsource

import (
	"bytes"
	"context"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// commitTime is the time of the first upstream commit; each further one is
// a minute later.
var commitTime = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// upstream is a repository standing in for the remote, made with go-git in
// a temporary directory and reached through its path.
type upstream struct {
	t    *testing.T
	dir  string
	repo *git.Repository
	n    int
}

// requireGit skips a test that fetches from a local repository when the
// git programs are missing (go-git runs git-upload-pack for local and
// file:// URLs), except in CI, where the test must run.
func requireGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("git is not installed; .ci/run must install it")
		}
		t.Skip("git is not installed: install git to run the tests that fetch from a local repository")
	}
}

// newUpstream creates a repository whose default branch (master) has one
// commit holding files.
func newUpstream(t *testing.T, files map[string]string) *upstream {
	t.Helper()
	requireGit(t)
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatalf("init upstream: %v", err)
	}
	u := &upstream{t: t, dir: dir, repo: repo}
	u.commit("initial", files)
	return u
}

// commit writes files (slash paths), removes the paths in remove, commits
// on the current branch, and returns the commit's hash.
func (u *upstream) commit(msg string, files map[string]string, remove ...string) string {
	u.t.Helper()
	wt, err := u.repo.Worktree()
	if err != nil {
		u.t.Fatalf("worktree: %v", err)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		path := filepath.Join(u.dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			u.t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(files[name]), 0o644); err != nil {
			u.t.Fatal(err)
		}
		if _, err := wt.Add(name); err != nil {
			u.t.Fatalf("add %s: %v", name, err)
		}
	}
	for _, name := range remove {
		if _, err := wt.Remove(name); err != nil {
			u.t.Fatalf("remove %s: %v", name, err)
		}
	}
	u.n++
	sig := &object.Signature{Name: "Breadcrumb Test", Email: "test@example.com", When: commitTime.Add(time.Duration(u.n-1) * time.Minute)}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		u.t.Fatalf("commit: %v", err)
	}
	return h.String()
}

// rewrite replaces the history of the current branch with one new root
// commit holding only files, as a force-push of unrelated history does, and
// returns the commit's hash.
func (u *upstream) rewrite(files map[string]string) string {
	u.t.Helper()
	head, err := u.repo.Head()
	if err != nil {
		u.t.Fatal(err)
	}
	branch := head.Name()
	// Commit on an unborn branch, so that the commit has no parent.
	orphan := plumbing.NewBranchReferenceName("orphan")
	u.setRef(plumbing.NewSymbolicReference(plumbing.HEAD, orphan))
	idx, err := u.repo.Storer.Index()
	if err != nil {
		u.t.Fatal(err)
	}
	var tracked []string
	for _, e := range idx.Entries {
		tracked = append(tracked, e.Name)
	}
	h := u.commit("rewritten", files, tracked...)
	u.setRef(plumbing.NewHashReference(branch, plumbing.NewHash(h)))
	u.setRef(plumbing.NewSymbolicReference(plumbing.HEAD, branch))
	if err := u.repo.Storer.RemoveReference(orphan); err != nil {
		u.t.Fatal(err)
	}
	return h
}

// branch creates branch name from the current commit, commits files on it,
// switches back, and returns the commit's hash.
func (u *upstream) branch(name string, files map[string]string) string {
	u.t.Helper()
	wt, err := u.repo.Worktree()
	if err != nil {
		u.t.Fatal(err)
	}
	head, err := u.repo.Head()
	if err != nil {
		u.t.Fatal(err)
	}
	if err := wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(name), Create: true}); err != nil {
		u.t.Fatalf("checkout -b %s: %v", name, err)
	}
	h := u.commit("on "+name, files)
	if err := wt.Checkout(&git.CheckoutOptions{Branch: head.Name()}); err != nil {
		u.t.Fatalf("checkout %s: %v", head.Name(), err)
	}
	return h
}

func (u *upstream) setRef(ref *plumbing.Reference) {
	u.t.Helper()
	if err := u.repo.Storer.SetReference(ref); err != nil {
		u.t.Fatal(err)
	}
}

// newSource returns a source named "payments" for cfg, with a temporary
// Dir unless cfg has one.
func newSource(t *testing.T, cfg Config) *Source {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "payments"
	}
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func mustSync(t *testing.T, s *Source) {
	t.Helper()
	if err := s.Sync(context.Background()); err != nil {
		t.Fatalf("Sync: %v", err)
	}
}

func mustSnapshot(t *testing.T, s *Source) (fs.FS, string) {
	t.Helper()
	snap, err := s.Snapshot(context.Background())
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	return snap.FS, snap.Revision
}

// readTree returns every file of fsys with its content, walking it with
// fs.WalkDir.
func readTree(t *testing.T, fsys fs.FS) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		data, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		files[path] = string(data)
		return nil
	})
	if err != nil {
		t.Fatalf("walk: %v", err)
	}
	return files
}

func sameFiles(got, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			return false
		}
	}
	return true
}

// logBuffer collects log lines, safely for concurrent writers.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) lines() []string {
	s := strings.TrimSpace(b.String())
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func newLogger(b *logBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
