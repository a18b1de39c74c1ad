package search

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
	"github.com/breadcrumb-oncall/breadcrumb/search/internal/synth"
)

// The figures of docs/performance.md come from these benchmarks, over
// corpora that internal/synth generates (seed 1):
//
//	go test ./search -run '^$' -bench . -benchtime 10s
//	BREADCRUMB_BENCH_LARGE=1 go test ./search -run '^$' -bench IndexBuild/pages=100000 -benchtime 1x -timeout 60m
//
// The large corpus needs a longer -timeout than the default ten minutes.
// Per-operation latencies are reported as p50-us and p99-us beside the
// mean (ns/op). A p99 is only as good as the number of operations behind
// it: at 10s a run makes about 500 searches but only about 40 greps, whose
// p99 is then close to their slowest.

// Environment of the child process that TestHelperIndexBuild runs in.
const (
	envChildCorpus = "BREADCRUMB_BENCH_CHILD_CORPUS"
	envChildIndex  = "BREADCRUMB_BENCH_CHILD_INDEX"
	childMarker    = "breadcrumb-bench-child: indexed "
)

// BenchmarkIndexBuild measures a cold start: parse every page of a
// directory source and index it into a new index. peak-MB is the maximum
// resident set size of a separate process doing the same build once (the
// test binary's own few megabytes included), since the benchmark's process
// holds other corpora.
func BenchmarkIndexBuild(b *testing.B) {
	for _, n := range benchSizes(10_000, 100_000) {
		b.Run(pagesName(n), func(b *testing.B) {
			c := generated(b, n)
			peak, err := childPeakRSS(c.Dir, b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			root := b.TempDir()
			i := 0
			for b.Loop() {
				dir := filepath.Join(root, strconv.Itoa(i))
				i++
				buildIndex(b, c.Dir, dir)
				b.StopTimer()
				if err := os.RemoveAll(dir); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "pages/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
		})
	}
}

// childPeakRSS runs TestHelperIndexBuild in a new process of this test
// binary and returns its maximum resident set size in bytes.
func childPeakRSS(corpusDir, indexDir string) (int64, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperIndexBuild$", "-test.count=1")
	cmd.Env = append(os.Environ(), envChildCorpus+"="+corpusDir, envChildIndex+"="+indexDir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("index build in a child process: %w\n%s", err, out)
	}
	if !strings.Contains(string(out), childMarker) {
		return 0, fmt.Errorf("the child process did not build the index:\n%s", out)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, errors.New("no resource usage for the child process on " + runtime.GOOS)
	}
	if runtime.GOOS == "darwin" {
		return ru.Maxrss, nil // bytes on macOS
	}
	return ru.Maxrss << 10, nil // kilobytes on Linux and the BSDs
}

// TestHelperIndexBuild is BenchmarkIndexBuild's child process: it builds
// the index of the corpus named by its environment, and is skipped
// otherwise.
func TestHelperIndexBuild(t *testing.T) {
	corpus, dir := os.Getenv(envChildCorpus), os.Getenv(envChildIndex)
	if corpus == "" || dir == "" {
		t.Skip("run by BenchmarkIndexBuild in a child process to measure its peak memory")
	}
	st := buildIndex(t, corpus, dir)
	fmt.Printf("%s%d pages in %s\n", childMarker, st.Indexed, st.Took.Round(time.Millisecond))
}

// BenchmarkSearch measures the latency of one query, over the queries
// the corpus was generated with. Its baseline, grep-baseline, lists the
// files holding any of the query's words with grep -rilE over the same
// pages, which is what a responder without Breadcrumb would run (and
// which does not rank). The index sub-benchmark runs without the result
// cache, so that every search goes to the index, and reports how many
// times grep's p99 is its own when both ran; index-cached keeps the
// results of every query (Config.ResultCache): the queries repeat, so
// after their first round it measures a repeated search.
func BenchmarkSearch(b *testing.B) {
	b.Run(pagesName(10_000), func(b *testing.B) {
		c := indexed(b, 10_000)
		ix, err := Open(Config{Dir: c.indexDir, ResultCache: -1})
		if err != nil {
			b.Fatal(err)
		}
		defer ix.Close()
		var grepP99 time.Duration
		b.Run("grep-baseline", func(b *testing.B) {
			grep, err := exec.LookPath("grep")
			if err != nil {
				b.Skip("grep is not installed, so there is no baseline: ", err)
			}
			var lat latencies
			i := 0
			for b.Loop() {
				q := c.Queries[i%len(c.Queries)]
				i++
				start := time.Now()
				out, err := exec.Command(grep, "-rilE", "--", grepPattern(q.Text), c.Dir).Output()
				lat = append(lat, time.Since(start))
				var exit *exec.ExitError
				if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) { // 1: no match
					b.Fatalf("grep %q: %v", q.Text, err)
				}
				if len(out) == 0 {
					b.Fatalf("grep %q found nothing", q.Text)
				}
			}
			lat.report(b)
			grepP99 = lat.percentile(0.99)
		})
		search := func(b *testing.B, ix *Index) {
			ctx := context.Background()
			var lat latencies
			i := 0
			for b.Loop() {
				q := c.Queries[i%len(c.Queries)]
				i++
				start := time.Now()
				hits, err := ix.Search(ctx, Query{Text: q.Text, Limit: 10})
				lat = append(lat, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				if len(hits) == 0 {
					b.Fatalf("no hits for %q", q.Text)
				}
			}
			lat.report(b)
			if p99 := lat.percentile(0.99); grepP99 > 0 && p99 > 0 {
				b.ReportMetric(float64(grepP99)/float64(p99), "grep-p99/p99")
			}
		}
		b.Run("index", func(b *testing.B) { search(b, ix) })
		b.Run("index-cached", func(b *testing.B) {
			// The same index with the result cache on, large enough for
			// every query (there are 1,000, more than the default keeps):
			// this measures a repeated search. It is opened in turn, as
			// one process holds an index at a time.
			if err := ix.Close(); err != nil {
				b.Fatal(err)
			}
			cached, err := Open(Config{Dir: c.indexDir, ResultCache: len(c.Queries)})
			if err != nil {
				b.Fatal(err)
			}
			defer cached.Close()
			search(b, cached)
		})
	})
}

// grepPattern makes an extended regular expression that matches any of
// the words of a query.
func grepPattern(text string) string {
	words := strings.Fields(text)
	for i, w := range words {
		words[i] = regexp.QuoteMeta(w)
	}
	return strings.Join(words, "|")
}

// BenchmarkMatch measures the latency of matching one alert to its
// runbooks, over the alerts the corpus was generated with, with the
// Library as catalog.
func BenchmarkMatch(b *testing.B) {
	b.Run(pagesName(10_000), func(b *testing.B) {
		c := indexed(b, 10_000)
		ix, err := Open(Config{Dir: c.indexDir})
		if err != nil {
			b.Fatal(err)
		}
		defer ix.Close()
		m := NewMatcher(c.lib, ix)
		ctx := context.Background()
		// The first match builds the matcher's lookup tables, once per
		// version of the library: a cost of loading, not of matching.
		if _, err := m.Match(ctx, c.Alerts[0].Alert, 5); err != nil {
			b.Fatal(err)
		}
		var lat latencies
		i := 0
		for b.Loop() {
			a := c.Alerts[i%len(c.Alerts)]
			i++
			start := time.Now()
			_, err := m.Match(ctx, a.Alert, 5)
			lat = append(lat, time.Since(start))
			if err != nil {
				b.Fatal(err)
			}
		}
		lat.report(b)
	})
}

// BenchmarkRestart measures how long a restarted process takes to be
// ready when its index on disk is up to date. open+update opens the index
// and checks every page against the manifest, with the pages already
// parsed; load+open+update first reads and parses the pages from disk
// into a new Library, which is what a restart without a parse cache does;
// cached-load+open+update reads the files and takes their parsed pages
// from the Library's cache (runbooks.LibraryOptions.CacheDir), which a
// first load wrote.
func BenchmarkRestart(b *testing.B) {
	b.Run(pagesName(10_000), func(b *testing.B) {
		c := indexed(b, 10_000)
		restart := func(b *testing.B, pages []*runbooks.Runbook) {
			ix, err := Open(Config{Dir: c.indexDir})
			if err != nil {
				b.Fatal(err)
			}
			st, err := ix.Update(pages, nil)
			if err != nil {
				b.Fatal(err)
			}
			if err := ix.Close(); err != nil {
				b.Fatal(err)
			}
			if ix.Rebuilt() || st.Indexed+st.Deleted > 0 {
				b.Fatalf("rebuilt %v, %d pages indexed and %d deleted: want an up-to-date index", ix.Rebuilt(), st.Indexed, st.Deleted)
			}
		}
		b.Run("open+update", func(b *testing.B) {
			for b.Loop() {
				restart(b, c.pages)
			}
		})
		b.Run("load+open+update", func(b *testing.B) {
			for b.Loop() {
				restart(b, loadLibrary(b, c.Dir).Pages())
			}
		})
		b.Run("cached-load+open+update", func(b *testing.B) {
			cache := b.TempDir()
			loadCachedLibrary(b, c.Dir, cache) // the run before the restart
			for b.Loop() {
				restart(b, loadCachedLibrary(b, c.Dir, cache).Pages())
			}
		})
	})
}

// TestSyntheticQuality measures how often search and matching put the
// right page first, and in the first three, over a generated corpus of
// 2,000 pages. The floors are loose: they catch a broken analyzer or
// matcher, not a small regression; read the logged figures for that.
func TestSyntheticQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("quality over a generated corpus skipped in -short mode")
	}
	c, err := synth.Generate(t.TempDir(), 2000, benchSeed)
	if err != nil {
		t.Fatal(err)
	}
	lib := loadLibrary(t, c.Dir)
	ix := openIndex(t, t.TempDir())
	if _, err := ix.Update(lib.Pages(), nil); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	var search accuracy
	for _, q := range c.Queries {
		hits, err := ix.Search(ctx, Query{Text: q.Text, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range hits {
			got = append(got, h.Path)
		}
		search.add(got, func(p string) bool { _, ok := slices.BinarySearch(q.Want, p); return ok },
			fmt.Sprintf("query %q: got %v, want one of %v", q.Text, got, q.Want))
	}
	m := NewMatcher(lib, ix)
	var match accuracy
	rules := map[string]int{}
	for _, a := range c.Alerts {
		cands, err := m.Match(ctx, a.Alert, 3)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, cd := range cands {
			got = append(got, cd.Path)
		}
		if len(cands) > 0 && cands[0].Path == a.Want {
			rules[cands[0].Rule]++
		}
		match.add(got, func(p string) bool { return p == a.Want },
			fmt.Sprintf("alert %s (%q): got %v, want %s", a.Alert.Name, a.Alert.Summary, got, a.Want))
	}

	t.Logf("search over %d queries: top-1 %.3f, top-3 %.3f", search.n, search.top1(), search.top3())
	t.Logf("match over %d alerts: top-1 %.3f, top-3 %.3f; right first by rule %v", match.n, match.top1(), match.top3(), rules)
	for _, miss := range append(search.misses[:min(5, len(search.misses))], match.misses[:min(5, len(match.misses))]...) {
		t.Logf("missed: %s", miss)
	}
	if search.top3() < 0.6 {
		t.Errorf("search top-3 accuracy %.3f, want at least 0.6", search.top3())
	}
	if match.top3() < 0.9 {
		t.Errorf("match top-3 accuracy %.3f, want at least 0.9", match.top3())
	}
}

// accuracy counts how often the right answer came first, and in the
// first three.
type accuracy struct {
	n, first, three int
	misses          []string
}

func (a *accuracy) add(got []string, right func(string) bool, miss string) {
	a.n++
	for i, p := range got[:min(3, len(got))] {
		if right(p) {
			if i == 0 {
				a.first++
			}
			a.three++
			return
		}
	}
	a.misses = append(a.misses, miss)
}

func (a *accuracy) top1() float64 { return float64(a.first) / float64(max(a.n, 1)) }
func (a *accuracy) top3() float64 { return float64(a.three) / float64(max(a.n, 1)) }
