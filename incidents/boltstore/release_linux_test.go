//go:build linux

package boltstore

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// mappedRSS is how much of the file at path this process holds resident
// through its mappings, in kB, from /proc/self/smaps.
func mappedRSS(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	total, in := 0, false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if fields := strings.Fields(line); len(fields) >= 5 && strings.Contains(fields[0], "-") {
			in = len(fields) >= 6 && fields[len(fields)-1] == path
			continue
		}
		if in && strings.HasPrefix(line, "Rss:") {
			kb, _ := strconv.Atoi(strings.Fields(line)[1])
			total += kb
		}
	}
	return total
}

// fillStore creates n incidents with a few events each, from 8 writers.
func fillStore(t *testing.T, s *Store, n int) {
	t.Helper()
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range work {
				inc := &incidents.Incident{ID: fmt.Sprintf("INC-%05d", i), Title: strings.Repeat("Checkout is slow ", 20), Status: incidents.StatusTriggered,
					Source: "alertmanager", CreatedAt: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second)}
				var events []incidents.Event
				for e := range 4 {
					events = append(events, incidents.Event{Key: fmt.Sprint("e", e), Type: incidents.EventNote, Text: strings.Repeat("x", 300), At: inc.CreatedAt})
				}
				if err := s.Create(t.Context(), inc, events); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
}

func TestReleasingTheMappedFileDropsItFromMemoryAndKeepsEveryIncident(t *testing.T) {
	s := openInbox(t, Options{ReleaseInterval: -1})
	fillStore(t, s, 1500)
	list, err := s.List(t.Context(), incidents.Filter{})
	if err != nil || len(list) != 1500 {
		t.Fatalf("List = %d incidents, %v, want 1500", len(list), err)
	}
	before := mappedRSS(t, s.path)
	if before < 1024 {
		t.Fatalf("the store's file holds %d kB resident after a full read, want more than 1 MB: the test reads the wrong mapping", before)
	}
	if err := s.releaseMapped(); err != nil {
		t.Fatal(err)
	}
	if after := mappedRSS(t, s.path); after > before/10 {
		t.Errorf("the store's file holds %d kB resident after the release, %d kB before, want a tenth of it at most", after, before)
	}
	again, err := s.List(t.Context(), incidents.Filter{})
	if err != nil || len(again) != len(list) {
		t.Fatalf("List after the release = %d incidents, %v, want %d", len(again), err, len(list))
	}
	for i := range list {
		if again[i].ID != list[i].ID || again[i].Title != list[i].Title {
			t.Fatalf("incident %d reads %s %q after the release, %s %q before", i, again[i].ID, again[i].Title, list[i].ID, list[i].Title)
		}
	}
}

func TestReleasingWhileTheFileGrowsLosesNothing(t *testing.T) {
	// Every millisecond, while writers grow the file (bbolt maps it
	// again as it grows) and readers read it.
	s := openInbox(t, Options{ReleaseInterval: time.Millisecond})
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.List(t.Context(), incidents.Filter{Limit: 200}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	fillStore(t, s, 2000)
	close(stop)
	readers.Wait()
	list, err := s.List(t.Context(), incidents.Filter{})
	if err != nil || len(list) != 2000 {
		t.Fatalf("List = %d incidents, %v, want 2000", len(list), err)
	}
	for _, inc := range list {
		events, err := s.Events(t.Context(), inc.ID, 0, 0)
		if err != nil || len(events) != 4 {
			t.Fatalf("%s: %d events, %v, want 4", inc.ID, len(events), err)
		}
	}
}
