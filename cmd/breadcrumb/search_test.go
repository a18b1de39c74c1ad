package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breadcrumb-oncall/breadcrumb/search"
)

// inEmptyDir runs a test in a fresh working directory with its own data
// directory, so that the bundled examples are the runbooks.
func inEmptyDir(t *testing.T) map[string]string {
	t.Helper()
	t.Chdir(t.TempDir())
	return map[string]string{"BREADCRUMB_DATA_DIR": filepath.Join(t.TempDir(), "data")}
}

func TestIndexBuildsOnceThenReindexesNothing(t *testing.T) {
	env := inEmptyDir(t)
	first := runCLI(t, env, "index")
	if first.code != exitOK || !strings.Contains(first.stdout, "(new index): 11 indexed") {
		t.Fatalf("first index: code %d, stdout %q, stderr %q", first.code, first.stdout, first.stderr)
	}
	second := runCLI(t, env, "index")
	if second.code != exitOK || !strings.Contains(second.stdout, "0 indexed, 0 removed, 11 unchanged") {
		t.Fatalf("second index: code %d, stdout %q", second.code, second.stdout)
	}
}

func TestSearchWorksOnAFreshDataDirectory(t *testing.T) {
	env := inEmptyDir(t)
	res := runCLI(t, env, "search", "pods", "keep", "restarting")
	if res.code != exitOK {
		t.Fatalf("code %d, stderr %q", res.code, res.stderr)
	}
	if first := lines(res.stdout)[0]; first != "1. Pod crash looping" {
		t.Errorf("first line %q, want the crash-looping runbook first", first)
	}
	if !strings.Contains(res.stdout, "examples:platform/PodCrashLooping.md") {
		t.Errorf("the hit's source and path are missing:\n%s", res.stdout)
	}
}

func TestSearchJSONIsOneHitPerLine(t *testing.T) {
	env := inEmptyDir(t)
	// Two typos in one word: nothing matches exactly, so the fuzzy
	// fallback finds it, and says so.
	res := runCLI(t, env, "search", "--json", "--limit", "3", "crashloopng")
	if res.code != exitOK {
		t.Fatalf("code %d, stderr %q", res.code, res.stderr)
	}
	got := lines(res.stdout)
	if len(got) == 0 || len(got) > 3 {
		t.Fatalf("got %d lines, want 1 to 3", len(got))
	}
	var hit struct {
		ID, Source, Path, Title string
		Score                   float64
		Snippet                 struct{ Text string }
		Fuzzy                   bool
	}
	if err := json.Unmarshal([]byte(got[0]), &hit); err != nil {
		t.Fatal(err)
	}
	if hit.Path != "platform/PodCrashLooping.md" || !hit.Fuzzy || hit.Snippet.Text == "" {
		t.Errorf("first hit %+v, want the crash-looping page found despite the typo", hit)
	}
}

func TestSearchFailsFastWhenAnotherProcessHoldsTheIndex(t *testing.T) {
	env := inEmptyDir(t)
	ix, err := search.Open(search.Config{Dir: filepath.Join(env["BREADCRUMB_DATA_DIR"], "search")})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	res := runCLI(t, env, "search", "disk")
	if res.code != exitUsage || !strings.Contains(res.stderr, "in use by process") || !strings.Contains(res.stderr, "/api/search") {
		t.Errorf("code %d, stderr %q: want exit 2 and a message naming the holder and the alternative", res.code, res.stderr)
	}
}

func TestSearchUsage(t *testing.T) {
	env := inEmptyDir(t)
	for _, args := range [][]string{{"search"}, {"search", "--limit", "0", "x"}, {"index", "extra"}} {
		if res := runCLI(t, env, args...); res.code != exitUsage {
			t.Errorf("%v: code %d, want %d", args, res.code, exitUsage)
		}
	}
}
