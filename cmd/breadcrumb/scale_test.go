package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
)

// The scale benchmarks run the breadcrumb binary, as a user does, on a
// collection of real text shaped like the large runbook collections teams
// keep: the one ../shared/tools/make-scale-corpus builds. They measure
// what a user meets: index build time and peak memory, a restart until
// ready, memory while serving (and with 3,000 incidents on top), search
// latency at the client against grep
// over the same files and words in the same run.
//
// BREADCRUMB_SCALE_CORPUS names either the make-scale-corpus tool, which
// then builds the collection in the benchmark's temporary directory, or a
// collection it built before (a directory holding breadcrumb.yaml).
// BREADCRUMB_SCALE_PAGES sets its size (default 10,000). Without the
// variable, the benchmarks skip.
//
//	BREADCRUMB_SCALE_CORPUS=../shared/tools/make-scale-corpus go test ./cmd/breadcrumb -run '^$' -bench Scale -benchtime 1x -timeout 30m

const (
	envScaleCorpus = "BREADCRUMB_SCALE_CORPUS"
	envScalePages  = "BREADCRUMB_SCALE_PAGES"
)

// scaleCorpus returns the collection's directory and its configuration,
// building it when the variable names the tool.
func scaleCorpus(tb testing.TB, pages int) (dir, config string) {
	tb.Helper()
	src := os.Getenv(envScaleCorpus)
	if src == "" {
		tb.Skipf("%s is not set: point it at ../shared/tools/make-scale-corpus (or a collection it built) to run the scale benchmarks", envScaleCorpus)
	}
	st, err := os.Stat(src)
	if err != nil {
		tb.Fatalf("%s=%s: %v", envScaleCorpus, src, err)
	}
	if st.IsDir() {
		return src, filepath.Join(src, "breadcrumb.yaml")
	}
	dir = filepath.Join(tb.TempDir(), "corpus")
	start := time.Now()
	out, err := exec.Command(src, dir, "--pages", strconv.Itoa(pages)).CombinedOutput()
	if err != nil {
		tb.Fatalf("%s: %v\n%s", src, err, out)
	}
	tb.Logf("%s (%s)", strings.TrimSpace(string(out)), time.Since(start).Round(time.Millisecond))
	return dir, filepath.Join(dir, "breadcrumb.yaml")
}

func scalePages() int {
	if n, err := strconv.Atoi(os.Getenv(envScalePages)); err == nil && n > 0 {
		return n
	}
	return 10000
}

// buildBinary builds breadcrumb into a temporary directory.
func buildBinary(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "breadcrumb")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// indexRun is what one `breadcrumb index` cost.
type indexRun struct {
	took   time.Duration
	peakMB float64
}

// runIndexCommand runs `breadcrumb index` on a fresh data directory.
func runIndexCommand(tb testing.TB, bin, config, dataDir string) indexRun {
	tb.Helper()
	cmd := exec.Command(bin, "index", "--config", config)
	cmd.Env = append(os.Environ(), "BREADCRUMB_DATA_DIR="+dataDir)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("breadcrumb index: %v\n%s", err, out)
	}
	took := time.Since(start)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return indexRun{took: took, peakMB: float64(ru.Maxrss) / 1024}
}

// served is a `breadcrumb serve` process.
type served struct {
	cmd   *exec.Cmd
	url   string
	ready time.Duration // from start to the first /readyz 200
}

// startServed starts serve on a free port and waits until it is ready.
func startServed(tb testing.TB, bin, config, dataDir string) *served {
	tb.Helper()
	cmd := exec.Command(bin, "serve", "--config", config)
	cmd.Env = append(os.Environ(), "BREADCRUMB_DATA_DIR="+dataDir, "BREADCRUMB_LISTEN=127.0.0.1:0", "BREADCRUMB_LOG_LEVEL=info")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	s := &served{cmd: cmd}
	tb.Cleanup(func() { s.stop() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "breadcrumb is listening" {
				addr <- rec.Addr
			}
		}
	}()
	select {
	case s.url = <-addr:
	case <-time.After(time.Minute):
		tb.Fatal("serve did not say where it listens within a minute")
	}
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		resp, err := client.Get(s.url + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				s.ready = time.Since(start)
				return s
			}
		}
	}
	tb.Fatal("serve was not ready within 5 minutes")
	return nil
}

// rssMB is the process's resident memory now.
func (s *served) rssMB(tb testing.TB) float64 {
	tb.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		tb.Skipf("no /proc here to read the resident memory from: %v", err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

func (s *served) stop() {
	if s.cmd.ProcessState != nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// scaleQueries draws n queries of three words of four letters or more,
// each from a page of the collection, as a responder's words come from
// what they saw; the same seed gives the same queries.
func scaleQueries(tb testing.TB, dir string, n int) [][]string {
	tb.Helper()
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return nil
	})
	slices.Sort(files)
	if len(files) == 0 {
		tb.Fatalf("no page in %s", dir)
	}
	rnd := rand.New(rand.NewPCG(7, 11))
	word := regexp.MustCompile(`[A-Za-z]{4,}`)
	var out [][]string
	for len(out) < n {
		data, err := os.ReadFile(files[rnd.IntN(len(files))])
		if err != nil {
			tb.Fatal(err)
		}
		ws := word.FindAllString(string(data), -1)
		if len(ws) < 3 {
			continue
		}
		out = append(out, []string{ws[rnd.IntN(len(ws))], ws[rnd.IntN(len(ws))], ws[rnd.IntN(len(ws))]})
	}
	return out
}

// latencies returns the p50 and p99 of ds, sorting them.
func latencies(ds []time.Duration) (p50, p99 time.Duration) {
	slices.Sort(ds)
	return ds[len(ds)/2], ds[min(len(ds)-1, len(ds)*99/100)]
}

// searchAtClient times GET /api/search for each query, over loopback, on
// a server warmed by warm other queries first (a server that has served
// for a while has its index in memory).
func searchAtClient(tb testing.TB, base string, queries [][]string, warm int) []time.Duration {
	tb.Helper()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: 10 * time.Second}
	var out []time.Duration
	for i, q := range queries {
		if i == warm {
			out = out[:0]
		}
		start := time.Now()
		resp, err := client.Get(base + "/api/search?limit=10&q=" + url.QueryEscape(strings.Join(q, " ")))
		if err != nil {
			tb.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			tb.Fatalf("search %q: %s", q, resp.Status)
		}
		out = append(out, time.Since(start))
	}
	return out
}

// grepBaseline times `grep -rilF` over the collection for each query's
// words: what a responder would run without Breadcrumb.
func grepBaseline(tb testing.TB, dir string, queries [][]string) []time.Duration {
	tb.Helper()
	var out []time.Duration
	for _, q := range queries {
		args := []string{"-rilF"}
		for _, w := range q {
			args = append(args, "-e", w)
		}
		args = append(args, dir)
		start := time.Now()
		err := exec.Command("grep", args...).Run()
		if err != nil && !isExit1(err) {
			tb.Fatalf("grep: %v", err)
		}
		out = append(out, time.Since(start))
	}
	return out
}

func isExit1(err error) bool {
	ee, ok := err.(*exec.ExitError)
	return ok && ee.ExitCode() == 1
}

// BenchmarkScale measures the binary on a make-scale-corpus collection.
func BenchmarkScale(b *testing.B) {
	dir, config := scaleCorpus(b, scalePages())
	bin := buildBinary(b)
	data := filepath.Join(b.TempDir(), "data")

	b.Run("index", func(b *testing.B) {
		var last indexRun
		for i := 0; i < b.N; i++ {
			d := filepath.Join(b.TempDir(), "index-data")
			last = runIndexCommand(b, bin, config, d)
		}
		b.ReportMetric(last.took.Seconds(), "s/build")
		b.ReportMetric(last.peakMB, "peak-MB")
		b.ReportMetric(0, "ns/op")
	})

	// A first start indexes and fills the parse cache; a restart reads
	// them.
	first := startServed(b, bin, config, data)
	firstReady, firstRSS := first.ready, first.rssMB(b)
	first.stop()

	queries := scaleQueries(b, dir, 500)
	b.Run("restart", func(b *testing.B) {
		// Each run opens its own 3,000 incidents: those of a run before
		// (-count) go, the index and the parse cache stay.
		if err := os.Remove(filepath.Join(data, "incidents.db")); err != nil && !os.IsNotExist(err) {
			b.Fatal(err)
		}
		var s *served
		for i := 0; i < b.N; i++ {
			if s != nil {
				s.stop()
			}
			s = startServed(b, bin, config, data)
		}
		ready, atReady := s.ready, s.rssMB(b)
		lat := searchAtClient(b, s.url, queries, 50)
		after := s.rssMB(b)
		p50, p99 := latencies(lat)
		g50, g99 := latencies(grepBaseline(b, dir, queries[50:]))
		b.ReportMetric(ready.Seconds(), "s/ready")
		b.ReportMetric(atReady, "RSS-MB-ready")
		b.ReportMetric(after, "RSS-MB-after-450-searches")
		b.ReportMetric(float64(p50.Microseconds())/1000, "search-p50-ms")
		b.ReportMetric(float64(p99.Microseconds())/1000, "search-p99-ms")
		b.ReportMetric(float64(g50.Microseconds())/1000, "grep-p50-ms")
		b.ReportMetric(float64(g99.Microseconds())/1000, "grep-p99-ms")
		b.ReportMetric(float64(g50)/float64(p50), "x-grep-p50")
		b.ReportMetric(float64(g99)/float64(p99), "x-grep-p99")
		b.ReportMetric(firstReady.Seconds(), "s/first-ready")
		b.ReportMetric(firstRSS, "RSS-MB-first-ready")

		// Then 3,000 incidents on top, opened through the Alertmanager
		// webhook and read through the console and the API, as in
		// BenchmarkIncidentMemory; the embedded store drops its mapped
		// pages from the resident set every DefaultReleaseInterval.
		svc := &service{t: b, url: s.url, client: &http.Client{Timeout: 30 * time.Second}}
		openIncidents(b, svc, 3000)
		svc.readIncidentPages(b, 3000)
		time.Sleep(boltstore.DefaultReleaseInterval + time.Second)
		b.ReportMetric(s.rssMB(b), "RSS-MB-3000-incidents")
		b.ReportMetric(0, "ns/op")
		s.stop()
	})
}

// The guard's figures, measured on 2,000 pages of make-scale-corpus on
// 2026-12-07 (see docs/performance.md). The guard fails when the peak
// memory of an index build doubles, or when search loses half of its
// lead over grep at p99 (a ratio to a baseline run at the same time, so
// that a busy machine slows both).
const (
	guardPages       = 2000
	guardIndexPeakMB = 210.0
	guardGrepRatio   = 7.0
)

// TestScaleGuard fails when memory or search latency on real-shaped
// pages gets much worse than it is. It runs only with
// BREADCRUMB_SCALE_CORPUS set (CI sets it where ../shared is present).
func TestScaleGuard(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	if os.Getenv(envScaleCorpus) == "" {
		t.Skipf("%s is not set: this guard runs where ../shared/tools/make-scale-corpus is present", envScaleCorpus)
	}
	dir, config := scaleCorpus(t, guardPages)
	bin := buildBinary(t)
	run := runIndexCommand(t, bin, config, filepath.Join(t.TempDir(), "index-data"))
	data := filepath.Join(t.TempDir(), "data")
	first := startServed(t, bin, config, data)
	first.stop()
	s := startServed(t, bin, config, data)
	queries := scaleQueries(t, dir, 350)
	p50, p99 := latencies(searchAtClient(t, s.url, queries, 50))
	g50, g99 := latencies(grepBaseline(t, dir, queries[50:]))
	ratio := float64(g99) / float64(p99)
	t.Logf("%d pages: index %s, peak %.0f MB; search p50 %s p99 %s, grep p50 %s p99 %s: %.0f times faster at p99; ready in %s",
		guardPages, run.took.Round(time.Millisecond), run.peakMB, p50, p99, g50, g99, ratio, s.ready.Round(time.Millisecond))
	if run.peakMB > 2*guardIndexPeakMB {
		t.Errorf("breadcrumb index on %d pages peaked at %.0f MB, over twice the %.0f MB it took", guardPages, run.peakMB, guardIndexPeakMB)
	}
	if ratio < guardGrepRatio/2 {
		t.Errorf("search p99 is %.1f times faster than grep's, under half the %.0f times it was", ratio, guardGrepRatio)
	}
}
