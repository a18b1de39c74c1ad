package memory_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
	"github.com/breadcrumb-oncall/breadcrumb/search/memory"
)

var day0 = time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)

// world is a Service over a real embedded store, with a clock the test
// moves, and an index of past incidents in the test's directory.
type world struct {
	t     testing.TB
	svc   *incidents.Service
	store incidents.Store
	ix    *memory.Index
	now   time.Time
	dir   string
}

// crashLoop is the enrichment of a crash-loop alert: its runbook and
// steps.
type enricher struct{}

func (enricher) Enrich(_ context.Context, _ string, alerts []runbooks.Alert) incidents.Enrichment {
	if len(alerts) > 0 && alerts[0].Name == "KubePodCrashLooping" {
		return incidents.Enrichment{Runbook: &incidents.RunbookRef{ID: "platform:crashloop.md", Title: "Pods keep restarting"},
			Steps: []incidents.StepProgress{{Number: 1, Title: "Read the last logs"}, {Number: 2, Title: "Check the memory limit"}, {Number: 3, Title: "Roll back the release"}}}
	}
	return incidents.Enrichment{}
}

func newWorld(t testing.TB) *world {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "incidents.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	w := &world{t: t, now: day0, dir: t.TempDir(), store: st}
	w.svc = incidents.NewService(st, incidents.Options{Now: func() time.Time { return w.now }, Enricher: enricher{}})
	w.open()
	return w
}

func (w *world) open() {
	w.t.Helper()
	ix, err := memory.Open(w.dir, memory.Options{Now: func() time.Time { return w.now }})
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { _ = ix.Close() })
	w.ix = ix
}

// fire opens an incident for one alert, as Alertmanager would.
func (w *world) fire(group, name string, labels map[string]string, summary string) *incidents.Incident {
	w.t.Helper()
	l := map[string]string{"alertname": name}
	for k, v := range labels {
		l[k] = v
	}
	res, err := w.svc.ReportAlerts(context.Background(), incidents.AlertGroup{Refs: map[string]string{incidents.RefAlertmanagerGroup: group},
		Title: summary, Service: labels["service"], Source: "alertmanager",
		Alerts: []runbooks.Alert{{Name: name, Labels: l, Summary: summary, Status: "firing", Fingerprint: group + name, StartsAt: w.now}}}, incidents.Action{})
	if err != nil {
		w.t.Fatal(err)
	}
	return res.Incident
}

// work notes, does the steps and resolves, taking the given time.
func (w *world) work(inc *incidents.Incident, took time.Duration, notes []string, steps map[int]incidents.StepState) {
	w.t.Helper()
	ctx := context.Background()
	for _, n := range notes {
		w.now = w.now.Add(took / time.Duration(len(notes)+1))
		if err := w.svc.Note(ctx, inc.ID, incidents.Action{Actor: "alice", Text: n}); err != nil {
			w.t.Fatal(err)
		}
	}
	for _, n := range []int{1, 2, 3} {
		if s, ok := steps[n]; ok {
			if _, err := w.svc.Step(ctx, inc.ID, n, s, incidents.Action{Actor: "alice"}); err != nil {
				w.t.Fatal(err)
			}
		}
	}
	w.now = w.now.Add(took / time.Duration(len(notes)+1))
	if _, err := w.svc.Transition(ctx, inc.ID, incidents.StatusResolved, incidents.Action{Actor: "alice"}); err != nil {
		w.t.Fatal(err)
	}
}

// history makes three crash-loop incidents, resolved with notes, and two
// unrelated ones, over ten days.
func (w *world) history() []string {
	var ids []string
	for i, ns := range []string{"shop", "shop", "payments"} {
		w.now = day0.Add(time.Duration(i*3) * 24 * time.Hour)
		inc := w.fire(fmt.Sprintf("crash-%d", i), "KubePodCrashLooping", map[string]string{"namespace": ns, "service": "checkout", "job": "kube-state-metrics"},
			"Pod checkout-7d9f is restarting: OOMKilled")
		w.work(inc, 12*time.Minute, []string{"the pod was OOMKilled after the release", fmt.Sprintf("raised the memory limit to %dGi, restarts stopped", i+2)},
			map[int]incidents.StepState{1: incidents.StepDone, 2: incidents.StepDone, 3: incidents.StepSkipped})
		ids = append(ids, inc.ID)
	}
	w.now = day0.Add(4 * 24 * time.Hour)
	disk := w.fire("disk", "NodeFilesystemAlmostOutOfSpace", map[string]string{"namespace": "monitoring", "job": "node-exporter"}, "Filesystem on /var is 95% full")
	w.work(disk, time.Hour, []string{"cleared old docker images"}, nil)
	cert := w.fire("cert", "CertificateExpiringSoon", map[string]string{"namespace": "shop", "service": "gateway"}, "TLS certificate of shop.example.com expires in 6 days")
	w.work(cert, 2*time.Hour, nil, nil)
	w.now = day0.Add(10 * 24 * time.Hour)
	return ids
}

func TestAPastCrashLoopComesBackWithWhatResolvedIt(t *testing.T) {
	w := newWorld(t)
	past := w.history()
	if n, err := w.ix.Rebuild(context.Background(), w.svc); err != nil || n != 5 {
		t.Fatalf("rebuild: %d incidents, %v; want 5", n, err)
	}
	now := w.fire("crash-new", "KubePodCrashLooping", map[string]string{"namespace": "shop", "service": "checkout", "job": "kube-state-metrics"}, "Pod checkout-5c2a is restarting")

	got, err := w.ix.Similar(context.Background(), now, 5)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range got {
		ids = append(ids, m.ID)
	}
	if len(got) < 3 || !slices.Contains(ids[:3], past[0]) || !slices.Contains(ids[:3], past[1]) || !slices.Contains(ids[:3], past[2]) {
		t.Fatalf("similar: got %v, want the three crash loops %v first", ids, past)
	}
	// The two in the same namespace, then the most recent of them, come
	// first: the third crash loop was in another namespace.
	if ids[2] != past[2] {
		t.Errorf("the crash loop of another namespace is %v in %v, want it third", slices.Index(ids, past[2])+1, ids)
	}
	first := got[0]
	for _, want := range []string{"same alert KubePodCrashLooping", "same runbook “Pods keep restarting”", "same service checkout", "same namespace=shop"} {
		if !slices.Contains(first.Reasons, want) {
			t.Errorf("the first match's reasons %q lack %q", first.Reasons, want)
		}
	}
	if len(first.ResolvedBy) == 0 || !strings.Contains(strings.Join(first.ResolvedBy, "\n"), "raised the memory limit") {
		t.Errorf("the first match was resolved by %q, want the note that raised the memory limit", first.ResolvedBy)
	}
	if first.Duration() != 12*time.Minute {
		t.Errorf("the first match took %v, want 12m", first.Duration())
	}
	for _, m := range got[3:] {
		if slices.Contains(m.Reasons, "same alert KubePodCrashLooping") {
			t.Errorf("%s ranks below the unrelated incidents", m.ID)
		}
	}
	if slices.Contains(ids, now.ID) {
		t.Error("the incident is its own match")
	}

	seen, err := w.ix.SeenBefore(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	if seen.Count != 3 || seen.Last == nil || seen.Last.ID != past[2] || len(seen.Last.ResolvedBy) == 0 {
		t.Errorf("seen before: %+v, want 3 times, last %s, with what resolved it", seen, past[2])
	}

	use, err := w.ix.Runbook(context.Background(), "platform:crashloop.md")
	if err != nil {
		t.Fatal(err)
	}
	if use.Incidents != 3 || use.Resolved != 3 || use.Median != 12*time.Minute || len(use.Skipped) != 1 || use.Skipped[0] != (memory.StepCount{Step: "Roll back the release", Count: 3}) {
		t.Errorf("runbook use: %+v, want 3 incidents resolved in a median 12m, step 3 skipped 3 times", use)
	}
}

func TestAnIncidentThatSharesTooLittleIsNotSimilar(t *testing.T) {
	w := newWorld(t)
	w.history()
	if _, err := w.ix.Rebuild(context.Background(), w.svc); err != nil {
		t.Fatal(err)
	}
	// Another alert, in a namespace that others share, with one word in
	// common: nothing is like it.
	inc := w.fire("odd", "KafkaConsumerLagHigh", map[string]string{"namespace": "shop"}, "Consumer lag on orders is restarting")
	got, err := w.ix.Similar(context.Background(), inc, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("got %d matches (first %s: %q), want none", len(got), got[0].ID, got[0].Reasons)
	}
	seen, err := w.ix.SeenBefore(context.Background(), inc)
	if err != nil || seen.Count != 0 || seen.Last != nil {
		t.Errorf("seen before: %+v, %v; want never", seen, err)
	}
}

func TestTheIndexIsMadeAgainWhenMissingOrOfAnotherSchema(t *testing.T) {
	w := newWorld(t)
	w.history()
	if !w.ix.NeedsRebuild() {
		t.Fatal("a new index does not ask to be rebuilt")
	}
	if _, err := w.ix.Rebuild(context.Background(), w.svc); err != nil {
		t.Fatal(err)
	}
	_ = w.ix.Close()
	w.open()
	if w.ix.NeedsRebuild() {
		t.Error("an index of this schema asks to be rebuilt")
	}
	if n, _ := w.ix.Count(); n != 5 {
		t.Errorf("reopened: %d incidents, want 5", n)
	}
	_ = w.ix.Close()
	if err := os.WriteFile(filepath.Join(w.dir, "schema"), []byte("0\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	w.open()
	if n, _ := w.ix.Count(); !w.ix.NeedsRebuild() || n != 0 {
		t.Errorf("an index of another schema: rebuild asked %v with %d incidents, want a new, empty one", w.ix.NeedsRebuild(), n)
	}
}

func TestAKeeperIndexesWhatChanges(t *testing.T) {
	w := newWorld(t)
	k := memory.NewKeeper(w.ix, w.svc, nil)
	w.svc.Subscribe(k)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); k.Run(ctx) }()
	past := w.history()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, _ := w.ix.Count()
		if n == 5 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	inc := w.fire("crash-new", "KubePodCrashLooping", map[string]string{"namespace": "shop", "service": "checkout"}, "Pod checkout is restarting")
	got, err := w.ix.Similar(context.Background(), inc, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !slices.Contains(past, got[0].ID) || len(got[0].ResolvedBy) == 0 {
		t.Fatalf("after the keeper ran: %+v, want the crash loops with what resolved them", got)
	}
}

// BenchmarkSimilar answers "what is like this one" over 1,000 and 10,000
// past incidents: a tenth of them of the same alert, the others spread
// over 200 alerts and 50 services.
func BenchmarkSimilar(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("incidents=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			ix, err := memory.Open(dir, memory.Options{Now: func() time.Time { return day0.Add(400 * 24 * time.Hour) }})
			if err != nil {
				b.Fatal(err)
			}
			defer ix.Close()
			for i := range n {
				name := fmt.Sprintf("Alert%03d", i%200)
				if i%10 == 0 {
					name = "KubePodCrashLooping"
				}
				r := memory.Record{ID: fmt.Sprintf("INC-%05d", i), Title: name + " on service " + fmt.Sprint(i%50), Status: incidents.StatusResolved,
					Service: fmt.Sprintf("svc-%d", i%50), Alerts: []string{name}, Labels: []string{fmt.Sprintf("namespace=ns-%d", i%20)},
					CreatedAt: day0.Add(time.Duration(i) * time.Hour), ResolvedAt: day0.Add(time.Duration(i)*time.Hour + 20*time.Minute), Notes: i % 4,
					ResolvedBy: []string{"restarted the pod"}, Words: name + " pod restarting memory oom note " + fmt.Sprint(i)}
				if err := ix.Put(r); err != nil {
					b.Fatal(err)
				}
			}
			inc := &incidents.Incident{ID: "INC-NEW", Title: "Pod checkout is restarting: OOMKilled", Service: "svc-3",
				Alerts: []incidents.AlertState{{Name: "KubePodCrashLooping", Labels: map[string]string{"namespace": "ns-3"}}}}
			b.ResetTimer()
			for b.Loop() {
				got, err := ix.Similar(context.Background(), inc, 5)
				if err != nil || len(got) != 5 {
					b.Fatalf("%d matches, %v", len(got), err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(dirSize(dir))/(1<<20), "index-MB")
		})
	}
}

// BenchmarkRebuild makes the index again from a store of 1,000 and
// 10,000 incidents with their timelines.
func BenchmarkRebuild(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("incidents=%d", n), func(b *testing.B) {
			w := newWorld(b)
			ctx := context.Background()
			for i := range n {
				inc, _, err := w.svc.Declare(ctx, incidents.Declaration{Title: fmt.Sprintf("Incident %d of service %d", i, i%50), Service: fmt.Sprintf("svc-%d", i%50)}, incidents.Action{})
				if err == nil {
					err = w.svc.Note(ctx, inc.ID, incidents.Action{Actor: "alice", Text: "restarted the pod"})
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for b.Loop() {
				ix, err := memory.Open(b.TempDir(), memory.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if got, err := ix.Rebuild(ctx, w.svc); err != nil || got != n {
					b.Fatalf("rebuilt %d, %v", got, err)
				}
				_ = ix.Close()
			}
		})
	}
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

func TestOutcomesCountTheResolvedIncidentsThatFollowedARunbook(t *testing.T) {
	w := newWorld(t)
	w.history()
	if _, err := w.ix.Rebuild(context.Background(), w.svc); err != nil {
		t.Fatal(err)
	}
	got := w.ix.Outcomes(context.Background(), "KubePodCrashLooping")
	if len(got) != 1 || got["platform:crashloop.md"] != 3 {
		t.Errorf("outcomes: %v, want the crash-loop runbook, followed 3 times", got)
	}
	if got := w.ix.Outcomes(context.Background(), "NodeFilesystemAlmostOutOfSpace"); len(got) != 0 {
		t.Errorf("an incident without a runbook counts for one: %v", got)
	}
}

// A change made by another replica is not heard by this one's Keeper; its
// catch-up finds it by the incident's version, and indexes it.
func TestAKeeperCatchesUpWithWhatAnotherReplicaChanged(t *testing.T) {
	w := newWorld(t)
	k := memory.NewKeeper(w.ix, w.svc, nil)
	w.svc.Subscribe(k)
	past := w.history()
	k.Flush(context.Background())
	// Another replica, on the same store, notes and reopens the last
	// crash loop; this Keeper hears nothing of it.
	w.now = time.Now() // the catch-up looks at the incidents of the last days
	other := incidents.NewService(w.store, incidents.Options{Now: func() time.Time { return w.now }})
	if _, err := other.Get(context.Background(), past[2]); err != nil {
		t.Fatal(err)
	}
	fresh := w.fire("crash-elsewhere", "KubePodCrashLooping", map[string]string{"namespace": "shop", "service": "checkout"}, "Pod checkout is crash looping again")
	k.Flush(context.Background())
	if err := other.Note(context.Background(), fresh.ID, incidents.Action{Actor: "bob", Text: "drained node-7, where every crash happened"}); err != nil {
		t.Fatal(err)
	}
	if _, err := other.Transition(context.Background(), fresh.ID, incidents.StatusResolved, incidents.Action{Actor: "bob"}); err != nil {
		t.Fatal(err)
	}
	probe := &incidents.Incident{ID: "INC-PROBE", Title: "Pod checkout is crash looping", Alerts: []incidents.AlertState{{Name: "KubePodCrashLooping"}}, CreatedAt: w.now}
	resolvedBy := func() string {
		got, err := w.ix.Similar(context.Background(), probe, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range got {
			if m.ID == fresh.ID {
				return strings.Join(m.ResolvedBy, " · ")
			}
		}
		return ""
	}
	if by := resolvedBy(); strings.Contains(by, "drained node-7") {
		t.Fatalf("the other replica's note is indexed before any catch-up: %q", by)
	}
	k.CatchUp(context.Background())
	if by := resolvedBy(); !strings.Contains(by, "drained node-7") {
		t.Errorf("after the catch-up, the incident another replica resolved says it was resolved by %q, want its note", by)
	}
}
