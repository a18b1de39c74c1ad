package gitsource

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/transport"
	xssh "golang.org/x/crypto/ssh"

	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

func TestFirstSyncClonesTheDefaultBranchAndSnapshotServesItsFiles(t *testing.T) {
	files := map[string]string{
		"README.md":           "# Runbooks\n",
		"payments/latency.md": "# Latency\n",
		"payments/errors.md":  "# Errors\n",
	}
	up := newUpstream(t, files)
	head, _ := up.repo.Head()
	s := newSource(t, Config{URL: up.dir})

	mustSync(t, s)
	fsys, rev := mustSnapshot(t, s)

	if got, want := rev, head.Hash().String(); got != want {
		t.Errorf("Revision = %q, want %q", got, want)
	}
	if got := readTree(t, fsys); !sameFiles(got, files) {
		t.Errorf("files = %v, want %v", got, files)
	}
	st := s.Status()
	if got, want := st.Branch, "master"; got != want {
		t.Errorf("Status().Branch = %q, want %q", got, want)
	}
	if got, want := st.Revision, rev; got != want {
		t.Errorf("Status().Revision = %q, want %q", got, want)
	}
	if st.LastError != nil || st.LastSync.IsZero() || !st.LastSuccess.Equal(st.LastSync) {
		t.Errorf("Status() = %+v, want a successful sync", st)
	}
	info, err := fs.Stat(fsys, "README.md")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := info.ModTime(), commitTime; !got.Equal(want) {
		t.Errorf("ModTime = %v, want the commit time %v", got, want)
	}
}

func TestSyncFollowsNewUpstreamCommits(t *testing.T) {
	up := newUpstream(t, map[string]string{
		"a.md": "first\n",
		"b.md": "to be deleted\n",
	})
	var logs logBuffer
	s := newSource(t, Config{URL: "file://" + filepath.ToSlash(up.dir), Logger: newLogger(&logs)})
	mustSync(t, s)
	_, first := mustSnapshot(t, s)

	second := up.commit("change", map[string]string{"a.md": "second\n", "c/new.md": "new\n"}, "b.md")
	mustSync(t, s)
	fsys, rev := mustSnapshot(t, s)

	if got, want := rev, second; got != want {
		t.Errorf("Revision = %q, want %q", got, want)
	}
	want := map[string]string{"a.md": "second\n", "c/new.md": "new\n"}
	if got := readTree(t, fsys); !sameFiles(got, want) {
		t.Errorf("files = %v, want %v", got, want)
	}
	if _, err := fs.Stat(fsys, "b.md"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat(b.md) error = %v, want fs.ErrNotExist", err)
	}

	// A Sync with nothing new succeeds and logs no revision change.
	mustSync(t, s)
	var synced []string
	for _, line := range logs.lines() {
		if strings.Contains(line, "level=INFO") && strings.Contains(line, "gitsource: synced") {
			synced = append(synced, line)
		}
	}
	if got, want := len(synced), 2; got != want {
		t.Fatalf("%d Info lines for revision changes, want %d:\n%s", got, want, logs.String())
	}
	for _, part := range []string{"source=payments", "old=" + first, "new=" + second} {
		if !strings.Contains(synced[1], part) {
			t.Errorf("log line %q does not contain %q", synced[1], part)
		}
	}
}

func TestSyncFollowsAForcePushToUnrelatedHistory(t *testing.T) {
	up := newUpstream(t, map[string]string{"old.md": "old history\n"})
	up.commit("more", map[string]string{"more.md": "more old history\n"})
	s := newSource(t, Config{URL: up.dir})
	mustSync(t, s)

	rewritten := up.rewrite(map[string]string{"new.md": "new history\n"})
	mustSync(t, s)
	fsys, rev := mustSnapshot(t, s)

	if got, want := rev, rewritten; got != want {
		t.Errorf("Revision = %q, want %q", got, want)
	}
	want := map[string]string{"new.md": "new history\n"}
	if got := readTree(t, fsys); !sameFiles(got, want) {
		t.Errorf("files = %v, want %v", got, want)
	}
}

func TestSyncFollowsAForcePushThatRewritesTheLastCommit(t *testing.T) {
	up := newUpstream(t, map[string]string{"a.md": "one\n"})
	base, _ := up.repo.Head()
	up.commit("bad", map[string]string{"a.md": "bad\n"})
	s := newSource(t, Config{URL: up.dir})
	mustSync(t, s)

	// Reset the branch to the first commit and commit something else.
	wt, _ := up.repo.Worktree()
	if err := wt.Reset(&git.ResetOptions{Commit: base.Hash(), Mode: git.HardReset}); err != nil {
		t.Fatal(err)
	}
	good := up.commit("good", map[string]string{"a.md": "good\n"})
	mustSync(t, s)
	fsys, rev := mustSnapshot(t, s)

	if got, want := rev, good; got != want {
		t.Errorf("Revision = %q, want %q", got, want)
	}
	if got, want := readTree(t, fsys)["a.md"], "good\n"; got != want {
		t.Errorf("a.md = %q, want %q", got, want)
	}
}

func TestSubdirLimitsTheSnapshotToThatDirectory(t *testing.T) {
	up := newUpstream(t, map[string]string{
		"main.go":                    "package main\n",
		"docs/runbooks/latency.md":   "# Latency\n",
		"docs/runbooks/db/backup.md": "# Backup\n",
		"docs/other.md":              "# Other\n",
	})
	s := newSource(t, Config{URL: up.dir, Subdir: "docs/runbooks"})
	mustSync(t, s)
	fsys, _ := mustSnapshot(t, s)

	want := map[string]string{"latency.md": "# Latency\n", "db/backup.md": "# Backup\n"}
	if got := readTree(t, fsys); !sameFiles(got, want) {
		t.Errorf("files = %v, want %v", got, want)
	}
}

func TestSnapshotFailsWhenSubdirIsMissingAtTheRevision(t *testing.T) {
	up := newUpstream(t, map[string]string{"runbooks/a.md": "a\n", "notes.md": "n\n"})
	for _, subdir := range []string{"missing", "notes.md"} {
		t.Run(subdir, func(t *testing.T) {
			s := newSource(t, Config{URL: up.dir, Subdir: subdir})
			mustSync(t, s)
			_, err := s.Snapshot(context.Background())
			if err == nil {
				t.Fatal("Snapshot succeeded, want an error")
			}
			for _, part := range []string{"gitsource: snapshot payments:", subdir} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not contain %q", err, part)
				}
			}
		})
	}
}

func TestBranchSelectsANonDefaultBranch(t *testing.T) {
	up := newUpstream(t, map[string]string{"a.md": "on master\n"})
	release := up.branch("release", map[string]string{"a.md": "on release\n"})
	s := newSource(t, Config{URL: up.dir, Branch: "release"})
	mustSync(t, s)
	fsys, rev := mustSnapshot(t, s)

	if got, want := rev, release; got != want {
		t.Errorf("Revision = %q, want %q", got, want)
	}
	if got, want := readTree(t, fsys)["a.md"], "on release\n"; got != want {
		t.Errorf("a.md = %q, want %q", got, want)
	}
	if got, want := s.Status().Branch, "release"; got != want {
		t.Errorf("Status().Branch = %q, want %q", got, want)
	}
}

func TestSyncFailsForABranchThatDoesNotExist(t *testing.T) {
	up := newUpstream(t, map[string]string{"a.md": "a\n"})
	s := newSource(t, Config{URL: up.dir, Branch: "nope"})
	err := s.Sync(context.Background())
	if err == nil {
		t.Fatal("Sync succeeded, want an error")
	}
	for _, part := range []string{"gitsource: sync payments:", "nope"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %q", err, part)
		}
	}
	if _, err := os.Stat(filepath.Join(s.cfg.Dir, cloneName)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the failed clone was left in %s (Stat error %v)", cloneName, err)
	}
}

func TestChangingBranchClonesTheNewBranch(t *testing.T) {
	up := newUpstream(t, map[string]string{"a.md": "on master\n"})
	release := up.branch("release", map[string]string{"a.md": "on release\n"})
	dir := t.TempDir()
	mustSync(t, newSource(t, Config{URL: up.dir, Dir: dir}))

	s := newSource(t, Config{URL: up.dir, Dir: dir, Branch: "release"})
	mustSync(t, s)
	fsys, rev := mustSnapshot(t, s)
	if got, want := rev, release; got != want {
		t.Errorf("Revision = %q, want %q", got, want)
	}
	if got, want := readTree(t, fsys)["a.md"], "on release\n"; got != want {
		t.Errorf("a.md = %q, want %q", got, want)
	}
}

func TestSnapshotBeforeAnySyncFails(t *testing.T) {
	up := newUpstream(t, map[string]string{"a.md": "a\n"})
	s := newSource(t, Config{URL: up.dir})
	_, err := s.Snapshot(context.Background())
	if err == nil {
		t.Fatal("Snapshot succeeded, want an error")
	}
	if got, want := err.Error(), "gitsource: snapshot payments:"; !strings.HasPrefix(got, want) {
		t.Errorf("error = %q, want it to start with %q", got, want)
	}
	if got := s.Status(); got.Revision != "" || !got.LastSync.IsZero() {
		t.Errorf("Status() = %+v, want no revision and no sync", got)
	}
}

func TestFailedSyncKeepsServingTheLastSnapshot(t *testing.T) {
	up := newUpstream(t, map[string]string{"a.md": "a\n"})
	var logs logBuffer
	s := newSource(t, Config{URL: up.dir, Logger: newLogger(&logs)})
	mustSync(t, s)
	_, before := mustSnapshot(t, s)

	if err := os.RemoveAll(up.dir); err != nil {
		t.Fatal(err)
	}
	err := s.Sync(context.Background())
	if err == nil {
		t.Fatal("Sync succeeded with the upstream removed, want an error")
	}
	if got, want := err.Error(), "gitsource: sync payments: "; !strings.HasPrefix(got, want) {
		t.Errorf("error = %q, want it to start with %q", got, want)
	}

	fsys, rev := mustSnapshot(t, s)
	if got, want := rev, before; got != want {
		t.Errorf("Revision = %q, want the previous %q", got, want)
	}
	if got, want := readTree(t, fsys)["a.md"], "a\n"; got != want {
		t.Errorf("a.md = %q, want %q", got, want)
	}
	st := s.Status()
	if st.LastError == nil || st.LastError.Error() != err.Error() {
		t.Errorf("Status().LastError = %v, want %v", st.LastError, err)
	}
	if got, want := st.Revision, before; got != want {
		t.Errorf("Status().Revision = %q, want %q", got, want)
	}
	if !st.LastSuccess.Before(st.LastSync) {
		t.Errorf("Status() = %+v, want LastSuccess before LastSync", st)
	}
	if strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("the source logged the failure it returned (its caller logs it, once):\n%s", logs.String())
	}
}

// A fetch that fails is said once in the log: by the library that keeps
// serving the last copy, not again by the source that failed.
func TestAFailedFetchIsLoggedOnceByTheLibrary(t *testing.T) {
	up := newUpstream(t, map[string]string{"a.md": "# A\n"})
	var logs logBuffer
	logger := newLogger(&logs)
	lib := runbooks.NewLibrary(runbooks.LibraryOptions{Logger: logger})
	if err := lib.Add(newSource(t, Config{URL: up.dir, Logger: logger}), runbooks.SourceConfig{}); err != nil {
		t.Fatal(err)
	}
	if _, err := lib.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(up.dir); err != nil {
		t.Fatal(err)
	}
	if _, err := lib.Refresh(t.Context()); err == nil {
		t.Fatal("Refresh succeeded with the upstream removed, want an error")
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Errorf("the failed fetch is in the log %d times, want once:\n%s", n, logs.String())
	}
	if len(lib.Pages()) != 1 {
		t.Errorf("got %d pages after the failed fetch, want the one read before", len(lib.Pages()))
	}
}

func TestUnusableCheckoutIsClonedAgain(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(t *testing.T, checkout string)
	}{
		{"checkout replaced by a garbage file", func(t *testing.T, checkout string) {
			if err := os.RemoveAll(checkout); err != nil {
				t.Fatal(err)
			}
			writeFile(t, checkout, "garbage")
		}},
		{"garbage HEAD", func(t *testing.T, checkout string) {
			writeFile(t, filepath.Join(checkout, "HEAD"), "\x00garbage\x00")
		}},
		{"garbage config", func(t *testing.T, checkout string) {
			writeFile(t, filepath.Join(checkout, "config"), "[[[ garbage")
		}},
		{"garbage pack files", func(t *testing.T, checkout string) {
			packs, _ := filepath.Glob(filepath.Join(checkout, "objects", "pack", "*"))
			if len(packs) == 0 {
				t.Fatal("no pack files to corrupt")
			}
			for _, p := range packs {
				writeFile(t, p, "garbage")
			}
		}},
		{"empty checkout directory", func(t *testing.T, checkout string) {
			if err := os.RemoveAll(checkout); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(checkout, 0o755); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t, map[string]string{"a.md": "a\n"})
			dir := t.TempDir()
			mustSync(t, newSource(t, Config{URL: up.dir, Dir: dir}))
			tt.corrupt(t, filepath.Join(dir, checkoutName))
			writeFile(t, filepath.Join(dir, "stray-file"), "garbage")
			next := up.commit("next", map[string]string{"a.md": "next\n"})

			s := newSource(t, Config{URL: up.dir, Dir: dir})
			mustSync(t, s)
			fsys, rev := mustSnapshot(t, s)
			if got, want := rev, next; got != want {
				t.Errorf("Revision = %q, want %q", got, want)
			}
			if got, want := readTree(t, fsys)["a.md"], "next\n"; got != want {
				t.Errorf("a.md = %q, want %q", got, want)
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCheckoutOfAnotherURLIsReplaced(t *testing.T) {
	first := newUpstream(t, map[string]string{"first.md": "first\n"})
	second := newUpstream(t, map[string]string{"second.md": "second\n"})
	dir := t.TempDir()
	mustSync(t, newSource(t, Config{URL: first.dir, Dir: dir}))

	s := newSource(t, Config{URL: second.dir, Dir: dir})
	mustSync(t, s)
	fsys, _ := mustSnapshot(t, s)
	want := map[string]string{"second.md": "second\n"}
	if got := readTree(t, fsys); !sameFiles(got, want) {
		t.Errorf("files = %v, want %v", got, want)
	}
}

func TestANewSourceServesTheCheckoutOfAnEarlierRunBeforeItsFirstSync(t *testing.T) {
	up := newUpstream(t, map[string]string{"a.md": "a\n"})
	dir := t.TempDir()
	mustSync(t, newSource(t, Config{URL: up.dir, Dir: dir}))
	head, _ := up.repo.Head()

	s := newSource(t, Config{URL: up.dir, Dir: dir})
	fsys, rev := mustSnapshot(t, s)
	if got, want := rev, head.Hash().String(); got != want {
		t.Errorf("Revision = %q, want %q", got, want)
	}
	if got, want := readTree(t, fsys)["a.md"], "a\n"; got != want {
		t.Errorf("a.md = %q, want %q", got, want)
	}

	// A checkout of another branch is not served.
	other := newSource(t, Config{URL: up.dir, Dir: dir, Branch: "release"})
	if _, err := other.Snapshot(context.Background()); err == nil {
		t.Error("Snapshot served a checkout of another branch, want an error")
	}
}

func TestSnapshotStaysTheSameWhileLaterSyncsMoveTheBranch(t *testing.T) {
	up := newUpstream(t, map[string]string{"a.md": "one\n", "b.md": "b\n"})
	s := newSource(t, Config{URL: up.dir})
	mustSync(t, s)
	old, _ := mustSnapshot(t, s)
	up.commit("two", map[string]string{"a.md": "two\n"}, "b.md")
	mustSync(t, s)
	up.rewrite(map[string]string{"c.md": "three\n"})
	mustSync(t, s)

	want := map[string]string{"a.md": "one\n", "b.md": "b\n"}
	if got := readTree(t, old); !sameFiles(got, want) {
		t.Errorf("old snapshot files = %v, want %v", got, want)
	}
}

func TestSnapshotFSPassesFSTest(t *testing.T) {
	up := newUpstream(t, map[string]string{
		"README.md":               "# Runbooks\n",
		"payments/latency.md":     "# Latency\n",
		"payments/db/backup.md":   "# Backup\n",
		"payments/db/restore.md":  "# Restore\n",
		"payments-legacy/old.md":  "# Old\n", // sorts between "payments" and "payments/" in git order
		"empty.md":                "",
		"scripts/check.sh":        "#!/bin/sh\n",
		"z/deeply/nested/page.md": strings.Repeat("long line\n", 1000),
	})
	s := newSource(t, Config{URL: up.dir})
	mustSync(t, s)
	fsys, _ := mustSnapshot(t, s)

	if err := fstest.TestFS(fsys,
		"README.md", "payments/latency.md", "payments/db/backup.md", "payments/db/restore.md",
		"payments-legacy/old.md", "empty.md", "scripts/check.sh", "z/deeply/nested/page.md",
	); err != nil {
		t.Fatal(err)
	}
}

func TestSyncAndSnapshotCanRunConcurrently(t *testing.T) {
	up := newUpstream(t, map[string]string{"a.md": "0\n"})
	head, _ := up.repo.Head()
	var contents sync.Map // revision → content of a.md
	contents.Store(head.Hash().String(), "0\n")
	s := newSource(t, Config{URL: up.dir})
	mustSync(t, s)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				snap, err := s.Snapshot(ctx)
				if err != nil {
					if ctx.Err() == nil {
						errs <- err
					}
					return
				}
				data, err := fs.ReadFile(snap.FS, "a.md")
				if err != nil {
					errs <- err
					return
				}
				want, _ := contents.Load(snap.Revision)
				if string(data) != want {
					errs <- fmt.Errorf("a.md at %s = %q, want %q", snap.Revision, data, want)
					return
				}
				_ = s.Status()
			}
		}()
	}
	for i := 1; i <= 5; i++ {
		content := fmt.Sprintf("%d\n", i)
		rev := up.commit("change", map[string]string{"a.md": content})
		contents.Store(rev, content)
		mustSync(t, s)
	}
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestManyPackFilesAreCompactedByAFreshClone(t *testing.T) {
	up := newUpstream(t, map[string]string{"a.md": "0\n"})
	s := newSource(t, Config{URL: up.dir})
	s.maxPacks = 2
	mustSync(t, s)
	for i := 1; i <= 4; i++ {
		last := up.commit("change", map[string]string{"a.md": fmt.Sprintf("%d\n", i)})
		mustSync(t, s)
		if got := countPacks(s.checkoutPath()); got > s.maxPacks {
			t.Errorf("after sync %d: %d pack files, want at most %d", i, got, s.maxPacks)
		}
		fsys, rev := mustSnapshot(t, s)
		if rev != last {
			t.Errorf("after sync %d: Revision = %q, want %q", i, rev, last)
		}
		if got, want := readTree(t, fsys)["a.md"], fmt.Sprintf("%d\n", i); got != want {
			t.Errorf("after sync %d: a.md = %q, want %q", i, got, want)
		}
	}
}

func TestSyncStopsWhenTheContextIsCanceled(t *testing.T) {
	up := newUpstream(t, map[string]string{"a.md": "a\n"})
	s := newSource(t, Config{URL: up.dir})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Sync(ctx)
	if err == nil {
		t.Fatal("Sync succeeded with a canceled context, want an error")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v is not context.Canceled", err)
	}
	if _, err := s.Snapshot(context.Background()); err == nil {
		t.Error("Snapshot succeeded after a canceled first Sync, want an error")
	}
}

func TestErrorsAndLogsNeverShowTheToken(t *testing.T) {
	const token = "ghp_s3cr3tT0k3nValue"
	basic := base64.StdEncoding.EncodeToString([]byte(defaultTokenUser + ":" + token))
	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusInternalServerError} {
		for _, branch := range []string{"", "main"} {
			t.Run(fmt.Sprintf("%d branch %q", status, branch), func(t *testing.T) {
				var mu sync.Mutex
				var gotPass string
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_, pass, _ := r.BasicAuth()
					mu.Lock()
					gotPass = pass
					mu.Unlock()
					// A careless server that echoes the credentials.
					w.WriteHeader(status)
					fmt.Fprintf(w, "denied: password %s, header %s, url %s", pass, r.Header.Get("Authorization"), r.URL)
				}))
				defer srv.Close()

				var logs logBuffer
				s := newSource(t, Config{
					URL:    srv.URL + "/acme/runbooks.git",
					Branch: branch,
					Auth:   Auth{Token: secret.New(token)},
					Logger: newLogger(&logs),
				})
				err := s.Sync(context.Background())
				if err == nil {
					t.Fatal("Sync succeeded, want an error")
				}
				mu.Lock()
				if gotPass != token {
					t.Errorf("server got password %q, want the token", gotPass)
				}
				mu.Unlock()
				if got, want := err.Error(), "gitsource: sync payments: "; !strings.HasPrefix(got, want) {
					t.Errorf("error = %q, want it to start with %q", got, want)
				}
				if status == http.StatusUnauthorized && !errors.Is(err, transport.ErrAuthenticationRequired) {
					t.Errorf("error %v is not transport.ErrAuthenticationRequired", err)
				}
				_, snapErr := s.Snapshot(context.Background())
				for what, text := range map[string]string{
					"Sync error":         err.Error(),
					"Status().LastError": fmt.Sprint(s.Status().LastError),
					"Snapshot error":     fmt.Sprint(snapErr),
					"logs":               logs.String(),
				} {
					if strings.Contains(text, token) || strings.Contains(text, basic) {
						t.Errorf("%s shows the token: %s", what, text)
					}
				}
			})
		}
	}
}

func TestNewRejectsBadConfigs(t *testing.T) {
	valid := Config{Name: "payments", URL: "https://github.com/acme/runbooks.git", Dir: "/var/lib/breadcrumb/git/payments"}
	tok := secret.New("t0k3n")
	tests := []struct {
		name    string
		edit    func(c *Config)
		wantErr string // "" when valid
	}{
		{"valid https", func(c *Config) {}, ""},
		{"valid https with a token", func(c *Config) { c.Auth.Token = tok }, ""},
		{"valid scp-like ssh", func(c *Config) { c.URL = "git@github.com:acme/runbooks.git"; c.Auth.SSHKeyFile = "/keys/id" }, ""},
		{"valid local path", func(c *Config) { c.URL = "/srv/git/runbooks" }, ""},
		{"valid subdir", func(c *Config) { c.Subdir = "docs/runbooks" }, ""},
		{"valid branch", func(c *Config) { c.Branch = "release/2024" }, ""},
		{"valid token over http to localhost", func(c *Config) { c.URL = "http://127.0.0.1:8080/r.git"; c.Auth.Token = tok }, ""},
		{"missing name", func(c *Config) { c.Name = "" }, "Name is required"},
		{"missing URL", func(c *Config) { c.URL = "" }, "URL is required"},
		{"missing Dir", func(c *Config) { c.Dir = "" }, "Dir is required"},
		{"unsupported scheme", func(c *Config) { c.URL = "ftp://example.com/r.git" }, "not supported"},
		{"password in the URL", func(c *Config) { c.URL = "https://user:t0k3n@github.com/acme/r.git" }, "must not hold credentials"},
		{"token as the URL's user", func(c *Config) { c.URL = "https://t0k3n@github.com/acme/r.git" }, "must not hold credentials"},
		{"absolute subdir", func(c *Config) { c.Subdir = "/docs" }, "Subdir"},
		{"subdir with ..", func(c *Config) { c.Subdir = "docs/../.." }, "Subdir"},
		{"subdir starting with ..", func(c *Config) { c.Subdir = "../elsewhere" }, "Subdir"},
		{"subdir with a trailing slash", func(c *Config) { c.Subdir = "docs/" }, "Subdir"},
		{"subdir with a backslash", func(c *Config) { c.Subdir = `docs\runbooks` }, "Subdir"},
		{"full ref as branch", func(c *Config) { c.Branch = "refs/heads/main" }, "without refs/heads/"},
		{"invalid branch", func(c *Config) { c.Branch = "bad..name" }, "not a valid branch name"},
		{"token with ssh", func(c *Config) { c.URL = "ssh://git@github.com/acme/r.git"; c.Auth.Token = tok }, "needs an https URL"},
		{"token over http", func(c *Config) { c.URL = "http://git.example.com/r.git"; c.Auth.Token = tok }, "clear text"},
		{"username without token", func(c *Config) { c.Auth.Username = "bot" }, "only used with Auth.Token"},
		{"key file with https", func(c *Config) { c.Auth.SSHKeyFile = "/keys/id" }, "needs an ssh URL"},
		{"passphrase without key file", func(c *Config) {
			c.URL = "git@github.com:acme/r.git"
			c.Auth.SSHKeyPassphrase = secret.New("pass")
		}, "needs Auth.SSHKeyFile"},
		{"insecure host key with https", func(c *Config) { c.Auth.InsecureIgnoreHostKey = true }, "needs an ssh URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid
			tt.edit(&cfg)
			s, err := New(cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v, want no error", err)
				}
				if s.Name() != cfg.Name {
					t.Errorf("Name() = %q, want %q", s.Name(), cfg.Name)
				}
				return
			}
			if err == nil {
				t.Fatalf("New succeeded, want an error containing %q", tt.wantErr)
			}
			if got := err.Error(); !strings.Contains(got, tt.wantErr) || !strings.HasPrefix(got, "gitsource: config") {
				t.Errorf("error = %q, want it to start with \"gitsource: config\" and contain %q", got, tt.wantErr)
			}
			if strings.Contains(err.Error(), "t0k3n") {
				t.Errorf("error %q shows the token", err)
			}
		})
	}
}

func TestNewDoesNoIO(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not-yet")
	if _, err := New(Config{Name: "payments", URL: "https://github.com/acme/r.git", Dir: dir}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("New created Dir (Stat error %v), want it untouched", err)
	}
}

func TestTokenUsernameDefaultsToXAccessToken(t *testing.T) {
	s, err := New(Config{Name: "p", URL: "https://github.com/a/r.git", Dir: "/d", Auth: Auth{Token: secret.New("x")}})
	if err != nil {
		t.Fatal(err)
	}
	auth, err := s.authMethod()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(auth), "http-basic-auth - x-access-token:*******"; got != want {
		t.Errorf("auth = %q, want %q", got, want)
	}
}

func TestSnapshotShowsModesAndLeavesOutSymbolicLinks(t *testing.T) {
	up := newUpstream(t, map[string]string{"docs/page.md": "page\n"})
	if err := os.WriteFile(filepath.Join(up.dir, "run.sh"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("docs/page.md", filepath.Join(up.dir, "link.md")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(up.dir, "escape.md")); err != nil {
		t.Fatal(err)
	}
	wt, _ := up.repo.Worktree()
	for _, name := range []string{"run.sh", "link.md", "escape.md"} {
		if _, err := wt.Add(name); err != nil {
			t.Fatal(err)
		}
	}
	up.commit("modes", nil)
	s := newSource(t, Config{URL: up.dir})
	mustSync(t, s)
	fsys, _ := mustSnapshot(t, s)

	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got, want := strings.Join(names, " "), "docs run.sh"; got != want {
		t.Errorf("entries = %q, want %q", got, want)
	}
	for _, tt := range []struct {
		path string
		want fs.FileMode
	}{
		{".", fs.ModeDir | 0o555},
		{"docs", fs.ModeDir | 0o555},
		{"docs/page.md", 0o444},
		{"run.sh", 0o555},
	} {
		info, err := fs.Stat(fsys, tt.path)
		if err != nil {
			t.Errorf("Stat(%s): %v", tt.path, err)
			continue
		}
		if got := info.Mode(); got != tt.want {
			t.Errorf("Stat(%s).Mode() = %v, want %v", tt.path, got, tt.want)
		}
	}
	for _, name := range []string{"link.md", "escape.md"} {
		if _, err := fsys.Open(name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open(%s) error = %v, want fs.ErrNotExist", name, err)
		}
	}
}

func TestSnapshotReadDirSortsByNameNotGitOrder(t *testing.T) {
	// Git orders the directory "a" as "a/", after "a-b" and "a.md".
	up := newUpstream(t, map[string]string{"a/x.md": "x\n", "a-b/y.md": "y\n", "a.md": "a\n", "b.md": "b\n"})
	s := newSource(t, Config{URL: up.dir})
	mustSync(t, s)
	fsys, _ := mustSnapshot(t, s)
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got, want := strings.Join(names, " "), "a a-b a.md b.md"; got != want {
		t.Errorf("entries = %q, want %q", got, want)
	}
}

func TestSyncReportsAnUnusableSSHKeyWithoutItsPassphrase(t *testing.T) {
	key := filepath.Join(t.TempDir(), "id_ed25519")
	writeFile(t, key, "not a key")
	s := newSource(t, Config{
		URL:  "ssh://git@127.0.0.1:1/acme/runbooks.git",
		Auth: Auth{SSHKeyFile: key, SSHKeyPassphrase: secret.New("hunter2"), InsecureIgnoreHostKey: true},
	})
	err := s.Sync(context.Background())
	if err == nil {
		t.Fatal("Sync succeeded, want an error")
	}
	if !strings.Contains(err.Error(), key) {
		t.Errorf("error %q does not name the key file %s", err, key)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %q shows the passphrase", err)
	}
}

func TestSyncWithAnSSHKeyConnectsToTheServer(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := xssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(t.TempDir(), "id_ed25519")
	writeFile(t, key, string(pem.EncodeToMemory(block)))
	// Nothing listens on port 1: the key is read, the connection is
	// refused.
	s := newSource(t, Config{
		URL:    "ssh://git@127.0.0.1:1/acme/runbooks.git",
		Branch: "main",
		Auth:   Auth{SSHKeyFile: key, InsecureIgnoreHostKey: true},
	})
	err = s.Sync(context.Background())
	if err == nil {
		t.Fatal("Sync succeeded, want an error")
	}
	if got, want := err.Error(), "connection refused"; !strings.Contains(got, want) {
		t.Errorf("error = %q, want it to contain %q", got, want)
	}
}
