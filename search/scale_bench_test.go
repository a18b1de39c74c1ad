package search

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// The scale benchmarks of this package build and search an index in the
// benchmark's own process, over a collection of real text that
// ../shared/tools/make-scale-corpus makes: the figures of the binary
// come from cmd/breadcrumb's BenchmarkScale, these are the ones to
// profile.
//
//	BREADCRUMB_SCALE_CORPUS=../shared/tools/make-scale-corpus go test ./search -run '^$' -bench ScaleIndex -benchtime 1x -cpuprofile cpu.out -memprofile mem.out
//	BREADCRUMB_SCALE_CORPUS=DIR go test ./search -run '^$' -bench ScaleSearch -benchtime 2000x -cpuprofile cpu.out -blockprofile block.out
//
// BREADCRUMB_SCALE_CORPUS names the tool (which then builds 10,000 pages
// in a temporary directory) or a collection it built before. Without it,
// they skip.
const envScaleCorpus = "BREADCRUMB_SCALE_CORPUS"

// scaleLibrary loads the collection: each of its directories is a
// source, as in the breadcrumb.yaml the tool writes beside them.
func scaleLibrary(b *testing.B) *runbooks.Library {
	b.Helper()
	src := os.Getenv(envScaleCorpus)
	if src == "" {
		b.Skipf("%s is not set: point it at ../shared/tools/make-scale-corpus (or a collection it built) to run the scale benchmarks", envScaleCorpus)
	}
	dir := src
	if st, err := os.Stat(src); err != nil {
		b.Fatalf("%s=%s: %v", envScaleCorpus, src, err)
	} else if !st.IsDir() {
		dir = filepath.Join(b.TempDir(), "corpus")
		if out, err := exec.Command(src, dir).CombinedOutput(); err != nil {
			b.Fatalf("%s: %v\n%s", src, err, out)
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	lib := runbooks.NewLibrary(runbooks.LibraryOptions{})
	for _, e := range ents {
		if e.IsDir() {
			lib.Add(runbooks.NewDirSource(e.Name(), filepath.Join(dir, e.Name())), runbooks.SourceConfig{})
		}
	}
	lib.Refresh(context.Background())
	if len(lib.Pages()) == 0 {
		b.Fatalf("no page in %s", dir)
	}
	return lib
}

// BenchmarkScaleIndex parses the collection and indexes it into a new
// index, and reports the live heap once it is built.
func BenchmarkScaleIndex(b *testing.B) {
	var pages []*runbooks.Runbook
	for b.Loop() {
		b.StopTimer()
		dirs := b.TempDir()
		b.StartTimer()
		lib := scaleLibrary(b)
		ix, err := Open(Config{Dir: filepath.Join(dirs, "index")})
		if err != nil {
			b.Fatal(err)
		}
		pages = lib.Pages()
		if _, err := ix.Update(pages, nil); err != nil {
			b.Fatal(err)
		}
		if err := ix.Close(); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
	b.ReportMetric(float64(len(pages)), "pages")
}

// BenchmarkScaleSearch searches the collection's index, uncached, with
// queries of three words of four letters or more from a page each (the
// queries of cmd/breadcrumb's BenchmarkScale, drawn from the parsed text).
func BenchmarkScaleSearch(b *testing.B) {
	lib := scaleLibrary(b)
	ix, err := Open(Config{Dir: b.TempDir(), ResultCache: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	pages := lib.Pages()
	if _, err := ix.Update(pages, nil); err != nil {
		b.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(7, 11))
	word := regexp.MustCompile(`[A-Za-z]{4,}`)
	var queries []string
	for len(queries) < 1000 {
		ws := word.FindAllString(pages[rnd.IntN(len(pages))].Text, -1)
		if len(ws) >= 3 {
			queries = append(queries, strings.Join([]string{ws[rnd.IntN(len(ws))], ws[rnd.IntN(len(ws))], ws[rnd.IntN(len(ws))]}, " "))
		}
	}
	ctx := context.Background()
	for _, q := range queries[:50] { // warm up, as a server that has served a while
		if _, err := ix.Search(ctx, Query{Text: q, Limit: 10}); err != nil {
			b.Fatal(err)
		}
	}
	var lat latencies
	i := 0
	for b.Loop() {
		q := queries[50+i%(len(queries)-50)]
		i++
		start := time.Now()
		if _, err := ix.Search(ctx, Query{Text: q, Limit: 10}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	lat.report(b)
}
