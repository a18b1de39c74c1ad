package search

import (
	"syscall"
	"math/rand/v2"
	"regexp"
	"slices"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

func heapMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapInuse) / (1 << 20)
}

func TestProfScale(t *testing.T) {
	dir := os.Getenv("PROF_CORPUS")
	if dir == "" {
		t.Skip()
	}
	t.Logf("heap at start %.0f MB", heapMB())
	start := time.Now()
	lib := runbooks.NewLibrary(runbooks.LibraryOptions{})
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.IsDir() {
			lib.Add(runbooks.NewDirSource(e.Name(), filepath.Join(dir, e.Name())), runbooks.SourceConfig{})
		}
	}
	lib.Refresh(context.Background())
	t.Logf("library: %d pages in %s, heap %.0f MB", len(lib.Pages()), time.Since(start), heapMB())
	if f, err := os.Create("/tmp/lib.heap"); err == nil {
		pprof.WriteHeapProfile(f)
		f.Close()
	}
	if os.Getenv("PROF_INDEX") == "" {
		return
	}
	ix, err := Open(Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	st, err := ix.Update(lib.Pages(), nil)
	t.Logf("index: %+v in %s, heap %.0f MB", st, time.Since(start), heapMB())
	ix.Close()
}

func TestProfSearch(t *testing.T) {
	dir := os.Getenv("PROF_CORPUS")
	if dir == "" {
		t.Skip()
	}
	lib := runbooks.NewLibrary(runbooks.LibraryOptions{})
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.IsDir() {
			lib.Add(runbooks.NewDirSource(e.Name(), filepath.Join(dir, e.Name())), runbooks.SourceConfig{})
		}
	}
	lib.Refresh(context.Background())
	ix, err := Open(Config{Dir: t.TempDir(), ResultCache: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	ix.Update(lib.Pages(), nil)
	pages := lib.Pages()
	rnd := rand.New(rand.NewPCG(1, 2))
	word := regexp.MustCompile(`[A-Za-z]{4,}`)
	var qs []string
	for i := 0; i < 900; i++ {
		rb := pages[rnd.IntN(len(pages))]
		ws := word.FindAllString(rb.Text, -1)
		if len(ws) < 3 {
			continue
		}
		qs = append(qs, ws[rnd.IntN(len(ws))]+" "+ws[rnd.IntN(len(ws))]+" "+ws[rnd.IntN(len(ws))])
	}
	f, _ := os.Create("/tmp/search.cpu")
	pprof.StartCPUProfile(f)
	var lat []time.Duration
	type slow struct {
		q string
		d time.Duration
	}
	var slows []slow
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	defer func() {
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
		cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano())
		t.Logf("CPU per query %s", cpu/time.Duration(len(qs)))
	}()
	for _, q := range qs {
		t0 := time.Now()
		if _, err := ix.Search(context.Background(), Query{Text: q, Limit: 10}); err != nil {
			t.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		slows = append(slows, slow{q, time.Since(t0)})
	}
	slices.SortFunc(slows, func(a, b slow) int { return int(b.d - a.d) })
	for _, s := range slows[:12] {
		t.Logf("slow %s %q", s.d, s.q)
	}
	pprof.StopCPUProfile()
	f.Close()
	slices.Sort(lat)
	t.Logf("search over %d queries: p50 %s p90 %s p99 %s max %s", len(lat), lat[len(lat)/2], lat[len(lat)*9/10], lat[len(lat)*99/100], lat[len(lat)-1])
}

func TestProfTypo(t *testing.T) {
	dir := os.Getenv("PROF_CORPUS")
	if dir == "" {
		t.Skip()
	}
	lib := runbooks.NewLibrary(runbooks.LibraryOptions{})
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.IsDir() {
			lib.Add(runbooks.NewDirSource(e.Name(), filepath.Join(dir, e.Name())), runbooks.SourceConfig{})
		}
	}
	lib.Refresh(context.Background())
	ix, _ := Open(Config{Dir: t.TempDir(), ResultCache: -1})
	defer ix.Close()
	ix.Update(lib.Pages(), nil)
	pages := lib.Pages()
	rnd := rand.New(rand.NewPCG(5, 6))
	word := regexp.MustCompile(`[a-z]{5,}`)
	var ws []string
	for len(ws) < 200 {
		rb := pages[rnd.IntN(len(pages))]
		all := word.FindAllString(rb.Text, -1)
		if len(all) > 0 {
			ws = append(ws, all[rnd.IntN(len(all))])
		}
	}
	ctx := context.Background()
	t0 := time.Now()
	for _, w := range ws {
		for _, tok := range ix.tokens(w) {
			ix.nearTerms(ctx, fAll, tok)
		}
	}
	t.Logf("nearTerms: %s per word", time.Since(t0)/time.Duration(len(ws)))
	t0 = time.Now()
	for _, w := range ws {
		for _, tok := range ix.tokens(w) {
			ix.corrections(ctx, fAll, w+"x", tok+"x")
		}
	}
	t.Logf("corrections: %s per word", time.Since(t0)/time.Duration(len(ws)))
	t0 = time.Now()
	for _, w := range ws {
		ix.knownTerms(ctx, w+" zz")
	}
	t.Logf("knownTerms: %s per word", time.Since(t0)/time.Duration(len(ws)))
}

func TestProfRestart(t *testing.T) {
	dir, cache := os.Getenv("PROF_CORPUS"), os.Getenv("PROF_CACHE")
	if dir == "" || cache == "" {
		t.Skip()
	}
	start := time.Now()
	lib := runbooks.NewLibrary(runbooks.LibraryOptions{CacheDir: cache, Slim: true})
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.IsDir() {
			lib.Add(runbooks.NewDirSource(e.Name(), filepath.Join(dir, e.Name())), runbooks.SourceConfig{})
		}
	}
	f, _ := os.Create("/tmp/restart.cpu")
	pprof.StartCPUProfile(f)
	lib.Refresh(context.Background())
	t.Logf("library %d pages in %s, heap %.0f MB", len(lib.Pages()), time.Since(start), heapMB())
	m := NewMatcher(lib, nil)
	t0 := time.Now()
	m.Notes()
	t.Logf("matcher lookup %s, heap %.0f MB", time.Since(t0), heapMB())
	pprof.StopCPUProfile()
	f.Close()
}
