package search

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
	"github.com/breadcrumb-oncall/breadcrumb/search/internal/synth"
)

// The benchmarks share generated corpora: generating, parsing and
// indexing 10,000 pages takes longer than most benchmarks run, so each
// is done once per process, under one temporary directory that TestMain
// removes.

const (
	benchSeed   = 1
	benchSource = "synth"
	// envLarge adds the 100,000-page corpus to BenchmarkIndexBuild.
	envLarge = "BREADCRUMB_BENCH_LARGE"
)

var bench struct {
	mu      sync.Mutex
	root    string
	corpora map[int]*benchCorpus
}

// benchCorpus is a generated corpus and, once asked for, its parsed pages
// and an up-to-date index of them (closed, so that each benchmark opens
// it).
type benchCorpus struct {
	synth.Corpus
	lib      *runbooks.Library
	pages    []*runbooks.Runbook
	indexDir string
}

// TestMain removes the corpora the benchmarks generated.
func TestMain(m *testing.M) {
	code := m.Run()
	if bench.root != "" {
		_ = os.RemoveAll(bench.root)
	}
	os.Exit(code)
}

// generated returns the corpus of n pages, generating it on first use.
func generated(tb testing.TB, n int) *benchCorpus {
	tb.Helper()
	bench.mu.Lock()
	defer bench.mu.Unlock()
	if c := bench.corpora[n]; c != nil {
		return c
	}
	if bench.root == "" {
		root, err := os.MkdirTemp("", "breadcrumb-bench-")
		if err != nil {
			tb.Fatal(err)
		}
		bench.root, bench.corpora = root, map[int]*benchCorpus{}
	}
	start := time.Now()
	dir := filepath.Join(bench.root, "pages-"+strconv.Itoa(n))
	sc, err := synth.Generate(dir, n, benchSeed)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Logf("generated %d pages (%d MB) in %s", n, sc.Bytes>>20, time.Since(start).Round(time.Millisecond))
	c := &benchCorpus{Corpus: sc}
	bench.corpora[n] = c
	return c
}

// indexed returns the corpus of n pages with its pages loaded into a
// Library and an up-to-date index of them in c.indexDir.
func indexed(tb testing.TB, n int) *benchCorpus {
	tb.Helper()
	c := generated(tb, n)
	bench.mu.Lock()
	defer bench.mu.Unlock()
	if c.indexDir != "" {
		return c
	}
	start := time.Now()
	c.lib = loadLibrary(tb, c.Dir)
	c.pages = c.lib.Pages()
	dir := filepath.Join(bench.root, "index-"+strconv.Itoa(n))
	ix, err := Open(Config{Dir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := ix.Update(c.pages, nil); err != nil {
		tb.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		tb.Fatal(err)
	}
	c.indexDir = dir
	tb.Logf("loaded and indexed %d pages in %s", len(c.pages), time.Since(start).Round(time.Millisecond))
	return c
}

// loadLibrary reads and parses the pages of dir, as `breadcrumb serve`
// does for a directory source.
func loadLibrary(tb testing.TB, dir string) *runbooks.Library {
	tb.Helper()
	return loadCachedLibrary(tb, dir, "")
}

// loadCachedLibrary reads the pages of dir, taking the parsed pages of
// unchanged files from cacheDir and writing them there; with no
// cacheDir, it parses every page.
func loadCachedLibrary(tb testing.TB, dir, cacheDir string) *runbooks.Library {
	tb.Helper()
	lib := runbooks.NewLibrary(runbooks.LibraryOptions{CacheDir: cacheDir})
	if err := lib.Add(runbooks.NewDirSource(benchSource, dir), runbooks.SourceConfig{}); err != nil {
		tb.Fatal(err)
	}
	if _, err := lib.Refresh(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return lib
}

// buildIndex is what BenchmarkIndexBuild measures: parse every page of
// corpusDir and index it into a new index in indexDir.
func buildIndex(tb testing.TB, corpusDir, indexDir string) UpdateStats {
	tb.Helper()
	pages := loadLibrary(tb, corpusDir).Pages()
	ix, err := Open(Config{Dir: indexDir})
	if err != nil {
		tb.Fatal(err)
	}
	st, err := ix.Update(pages, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		tb.Fatal(err)
	}
	if st.Indexed != len(pages) {
		tb.Fatalf("indexed %d of %d pages", st.Indexed, len(pages))
	}
	return st
}

// benchSizes returns the corpus sizes of a benchmark: the small one
// always, the large one when envLarge is set.
func benchSizes(small, large int) []int {
	if os.Getenv(envLarge) == "1" {
		return []int{small, large}
	}
	return []int{small}
}

func pagesName(n int) string { return fmt.Sprintf("pages=%d", n) }

// latencies collects the duration of each operation of a benchmark.
type latencies []time.Duration

// percentile returns the nearest-rank percentile p (0 < p <= 1).
func (l latencies) percentile(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// report adds the median and the 99th percentile, in microseconds, to the
// benchmark's figures. With fewer than 100 operations the p99 is the
// slowest one.
func (l latencies) report(b *testing.B) {
	b.ReportMetric(float64(l.percentile(0.50))/float64(time.Microsecond), "p50-us")
	b.ReportMetric(float64(l.percentile(0.99))/float64(time.Microsecond), "p99-us")
}
