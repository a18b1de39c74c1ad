package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
)

// BenchmarkIncidentMemory measures what `breadcrumb serve` holds as its
// incidents accumulate: with 300, then 3,000 incidents kept, each opened
// by an Alertmanager notification of three alerts and given a timeline
// (the alerts fired, the runbook attached, one alert resolved later), it
// reads what people and scripts read: the API's list, the console's home,
// incident list, coverage page and incident pages, and the API's
// incidents with their timelines. It reports, in MB:
//
//   - heap-MB: the live heap after the reads and a collection, what the
//     process keeps (caches, maps);
//   - peak-heap-MB: the most heap in use while the pages were read,
//     sampled every 5 ms, what a read costs at once;
//   - rss-MB and rss-file-MB: the process's resident memory after the
//     reads (its anonymous part, the Go heap and stacks, and its mapped
//     files: the binary and the store's mmap), as /proc/self/status says,
//     once the store has had the time to drop its mapped pages.
//
// serve runs in the benchmark's process, so the figures include the
// benchmark's own (small, and the same for both counts); what matters is
// the difference between 300 and 3,000. Run one count at a time for RSS
// figures that the other did not leave behind:
//
//	go test ./cmd/breadcrumb -run '^$' -bench 'IncidentMemory/incidents=3000$' -benchtime 1x
//
// BREADCRUMB_BENCH_HEAP=FILE writes the heap's profile after the reads to
// FILE.300 and FILE.3000, for go tool pprof -sample_index=inuse_space.
func BenchmarkIncidentMemory(b *testing.B) {
	for _, n := range []int{300, 3000} {
		b.Run(fmt.Sprintf("incidents=%d", n), func(b *testing.B) {
			for range b.N {
				debug.FreeOSMemory()
				s := startServe(b, map[string]string{
					"BREADCRUMB_LISTEN":   "127.0.0.1:0",
					"BREADCRUMB_DATA_DIR": b.TempDir(),
				})
				openIncidents(b, s, n)
				s.waitInboxEmpty()
				peak := sampleHeap()
				ids := s.readIncidentPages(b, n)
				peakHeap := peak()
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
				b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MB")
				// The embedded store drops the pages of its file from the
				// resident set every DefaultReleaseInterval.
				time.Sleep(boltstore.DefaultReleaseInterval + time.Second)
				anon, file := residentMemory(b)
				b.ReportMetric(float64(anon)/(1<<20), "rss-MB")
				b.ReportMetric(float64(file)/(1<<20), "rss-file-MB")
				if path := os.Getenv("BREADCRUMB_BENCH_HEAP"); path != "" {
					writeHeapProfile(b, fmt.Sprintf("%s.%d", path, n))
				}
				if len(ids) != min(n, 1000) {
					b.Errorf("the API listed %d incidents, want %d", len(ids), min(n, 1000))
				}
				s.stop()
			}
		})
	}
}

// openIncidents opens n incidents through the Alertmanager webhook, from
// 16 senders: a notification of three firing alerts per group, then one
// resolving the first of them.
func openIncidents(b *testing.B, s *service, n int) {
	b.Helper()
	start := time.Now().Add(-time.Hour)
	notify := func(g int, resolved bool) []byte {
		var alerts []map[string]any
		for a := range 3 {
			if resolved && a > 0 {
				break
			}
			al := map[string]any{
				"status": "firing",
				"labels": map[string]string{"alertname": "PodCrashLooping", "namespace": fmt.Sprintf("shop-%04d", g),
					"pod": fmt.Sprintf("checkout-%04d-%d", g, a), "severity": "critical"},
				"annotations": map[string]string{"summary": fmt.Sprintf("Pod shop-%04d/checkout-%04d-%d is crash looping", g, g, a),
					"description": "The container restarted more than 3 times in 10 minutes."},
				"startsAt":    start.Add(time.Duration(g) * time.Second).UTC().Format(time.RFC3339),
				"endsAt":      "0001-01-01T00:00:00Z",
				"fingerprint": fmt.Sprintf("%08x%04x", g, a),
			}
			if resolved {
				al["status"], al["endsAt"] = "resolved", start.Add(time.Duration(g)*time.Second+time.Minute).UTC().Format(time.RFC3339)
			}
			alerts = append(alerts, al)
		}
		status := "firing"
		if resolved {
			status = "resolved"
		}
		body, err := json.Marshal(map[string]any{
			"version": "4", "status": status, "receiver": "breadcrumb", "groupKey": fmt.Sprintf(`{}:{namespace="shop-%04d"}`, g),
			"groupLabels": map[string]string{"namespace": fmt.Sprintf("shop-%04d", g)}, "commonLabels": map[string]string{"alertname": "PodCrashLooping"},
			"commonAnnotations": map[string]string{}, "externalURL": "http://alertmanager.example:9093", "alerts": alerts,
		})
		if err != nil {
			b.Fatal(err)
		}
		return body
	}
	for _, resolved := range []bool{false, true} {
		work := make(chan int)
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				for g := range work {
					if code, msg, err := postOnce(s.client, s.url+"/webhooks/alertmanager", notify(g, resolved)); err != nil || code != http.StatusOK {
						b.Errorf("group %d: %d %s %v", g, code, msg, err)
					}
				}
			})
		}
		for g := range n {
			work <- g
		}
		close(work)
		wg.Wait()
		s.waitInboxEmpty()
	}
	// A connection dialed and never used would hold the server's
	// shutdown for 5 seconds.
	s.client.CloseIdleConnections()
}

// readIncidentPages reads what people and scripts read of n incidents
// and returns the IDs the API listed.
func (s *service) readIncidentPages(b *testing.B, n int) []string {
	b.Helper()
	var list struct {
		Incidents []struct {
			ID string `json:"id"`
		} `json:"incidents"`
	}
	if err := json.Unmarshal([]byte(s.get("/api/incidents?limit=1000", "application/json")), &list); err != nil {
		b.Fatal(err)
	}
	var ids []string
	for _, inc := range list.Incidents {
		ids = append(ids, inc.ID)
	}
	for _, path := range []string{"/", "/incidents", "/incidents?status=resolved", "/coverage", "/api/incidents?status=open&limit=1000"} {
		ct := "text/html"
		if strings.HasPrefix(path, "/api/") {
			ct = "application/json"
		}
		s.get(path, ct)
	}
	for i := 0; i < len(ids); i += max(len(ids)/50, 1) {
		s.get("/incidents/"+ids[i], "text/html")
		s.get("/api/incidents/"+ids[i], "application/json")
		s.get("/api/incidents/"+ids[i]+"/report?format=md", "text/markdown")
	}
	return ids
}

// sampleHeap samples the heap in use every 5 ms until the returned
// function is called, which returns the most it saw.
func sampleHeap() (stop func() uint64) {
	done := make(chan struct{})
	peak := make(chan uint64, 1)
	go func() {
		var most uint64
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			most = max(most, ms.HeapInuse)
			select {
			case <-done:
				peak <- most
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		return <-peak
	}
}

// writeHeapProfile writes the live heap's profile to path.
func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
}

// residentMemory reads the process's resident anonymous and file-backed
// memory, in bytes.
func residentMemory(b *testing.B) (anon, file uint64) {
	b.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc/self/status: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "RssAnon":
			anon = kb << 10
		case "RssFile":
			file = kb << 10
		}
	}
	return anon, file
}
