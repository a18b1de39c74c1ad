package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/redis/go-redis/v9"
)

// commitPage writes a page into the repository at dir and commits it.
func commitPage(t *testing.T, repo *git.Repository, dir, path, body string, when time.Time) string {
	t.Helper()
	writeFile(t, dir, path, body)
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wt.Add(path); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "Breadcrumb Test", Email: "test@example.com", When: when}
	h, err := wt.Commit("Add "+path, &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func TestReplicasFollowTheRevisionTheLeaderFetched(t *testing.T) {
	redisURL, prefix := redisForServe(t)
	repoDir := t.TempDir()
	repo, err := git.PlainInit(repoDir, false)
	if err != nil {
		t.Fatal(err)
	}
	when := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	first := commitPage(t, repo, repoDir, "DiskFull.md", "# Disk full\n\n## Mitigation\n\n1. Free space.\n", when)
	cfg := writeFile(t, t.TempDir(), "breadcrumb.yaml", fmt.Sprintf("runbooks:\n  sources:\n    - name: ops\n      git:\n        url: %q\n", repoDir))
	var replicas []*service
	for range 2 {
		vars := serveEnv(t)
		vars["BREADCRUMB_REDIS_URL"] = redisURL
		vars["BREADCRUMB_REDIS_PREFIX"] = prefix
		vars["BREADCRUMB_RUNBOOKS_SYNC_INTERVAL"] = "1s"
		vars["BREADCRUMB_REMINDERS_ENABLED"] = "false"
		replicas = append(replicas, startServe(t, vars, "--config", cfg))
	}
	revisionOf := func(s *service) string {
		for _, src := range s.runbooks().Sources {
			if src.Name == "ops" {
				return src.Revision
			}
		}
		return ""
	}
	for i, r := range replicas {
		if got := revisionOf(r); got != first {
			t.Fatalf("replica %d serves %q at start, want %s", i, got, first)
		}
	}

	second := commitPage(t, repo, repoDir, "PodCrashLooping.md", "# Pod crash looping\n\n## Mitigation\n\n1. Roll back.\n", when.Add(time.Hour))
	stop := time.Now().Add(deadline)
	for {
		a, b := revisionOf(replicas[0]), revisionOf(replicas[1])
		if a == second && b == second {
			break
		}
		if time.Now().After(stop) {
			t.Fatalf("after %v the replicas serve %s and %s, want both on the new commit %s", deadline, a, b, second)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The leader published what it fetched, for the followers.
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	client := redis.NewClient(opts)
	defer client.Close()
	published, err := client.Get(context.Background(), prefix+"board:runbooks:rev:ops").Result()
	if err != nil || published != second {
		t.Errorf("the board holds %q (%v), want the leader's revision %s", published, err, second)
	}
	leaders := 0
	for _, r := range replicas {
		if strings.Contains(r.get("/metrics", "text/plain"), "\nbreadcrumb_leader 1\n") {
			leaders++
		}
	}
	if leaders != 1 {
		t.Errorf("got %d replicas leading, want 1", leaders)
	}
	for _, r := range replicas {
		r.stop()
	}
}
