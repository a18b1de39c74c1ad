package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
	"github.com/breadcrumb-oncall/breadcrumb/internal/api"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
	"github.com/breadcrumb-oncall/breadcrumb/search"
)

// world is the API over a real library, a real bleve index and a real
// embedded store, each in the test's own directory.
type world struct {
	srv   *httptest.Server
	svc   *incidents.Service
	store *boltstore.Store
	ready atomic.Bool
	// failInbox makes the inbox's Pending fail, as a store that does not
	// answer would.
	failInbox atomic.Bool
}

// failingInbox is the store's inbox, failing Pending on demand.
type failingInbox struct {
	*boltstore.Store
	w *world
}

func (f failingInbox) Pending(ctx context.Context) (int, error) {
	if f.w.failInbox.Load() {
		return 0, errors.New("injected: the store does not answer")
	}
	return f.Store.Pending(ctx)
}

func newWorld(t *testing.T) *world {
	t.Helper()
	page := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	lib := runbooks.NewLibrary(runbooks.LibraryOptions{})
	err := lib.Add(runbooks.NewFSSource("team", fstest.MapFS{
		"payments/5xx.md":       page("---\ntitle: Payments API 5xx spike\nservice: payments-api\nalerts: [PaymentsAPIHigh5xxRate]\n---\n# Payments API 5xx spike\n\nMore than 2% of payment requests fail.\n\n## Mitigation\n\n1. Check the payment provider's status page\n"),
		"platform/crashloop.md": page("---\ntitle: Pods keep restarting\nalerts: [KubePodCrashLooping]\n---\n# Pods keep restarting\n\n## Mitigation\n\n1. Read the last logs with `kubectl logs --previous`\n"),
		"broken.md":             page("---\ntitle: [unclosed\n---\n# Broken\n"),
	}), runbooks.SourceConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lib.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	ix, err := search.Open(search.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ix.Close() })
	if _, err := ix.Update(lib.Pages(), nil); err != nil {
		t.Fatal(err)
	}
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "incidents.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	w := &world{svc: incidents.NewService(st, incidents.Options{}), store: st}
	w.ready.Store(true)
	mux := http.NewServeMux()
	api.New(api.Config{Library: lib, Index: ix, Matcher: search.NewMatcher(lib, ix), Incidents: w.svc,
		ReadAlerts: func(_ context.Context, body []byte) ([]runbooks.Alert, error, error) {
			var alerts []runbooks.Alert
			if err := json.Unmarshal(body, &alerts); err != nil {
				return nil, nil, fmt.Errorf("not a list of alerts: %w", err)
			}
			return alerts, nil, nil
		},
		Ready: w.ready.Load, Inbox: failingInbox{st, w}, Metrics: api.NewMetrics()}).Register(mux)
	w.srv = httptest.NewServer(mux)
	t.Cleanup(w.srv.Close)
	return w
}

// do sends a request and returns the status and the body.
func (w *world) do(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, w.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestReadinessSaysWhatIsMissing(t *testing.T) {
	w := newWorld(t)
	w.ready.Store(false)
	if code, body := w.do(t, "GET", "/readyz", ""); code != http.StatusServiceUnavailable || !strings.Contains(body, "runbooks not loaded") {
		t.Errorf("before the runbooks are loaded: %d %q, want 503 saying so", code, body)
	}
	w.ready.Store(true)
	if code, _ := w.do(t, "GET", "/readyz", ""); code != http.StatusOK {
		t.Errorf("ready: %d, want 200", code)
	}
	w.failInbox.Store(true)
	if code, body := w.do(t, "GET", "/readyz", ""); code != http.StatusServiceUnavailable || !strings.Contains(body, "incident store") {
		t.Errorf("with the store down: %d %q, want 503 naming the store", code, body)
	}
	if code, _ := w.do(t, "GET", "/healthz", ""); code != http.StatusOK {
		t.Errorf("/healthz with the store down: %d, want 200 (alive, only not ready)", code)
	}
}

func TestTheAPIAnswersBadRequestsWithWhatWasExpected(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		method, path, body string
		status             int
		says               string
	}{
		{"GET", "/api/search", "", http.StatusBadRequest, "q is empty"},
		{"GET", "/api/search?q=pods&limit=0", "", http.StatusBadRequest, "limit must be"},
		{"GET", "/api/search?q=pods&limit=many", "", http.StatusBadRequest, "limit must be"},
		{"POST", "/api/match", "{", http.StatusBadRequest, "not a list of alerts"},
		{"POST", "/api/match", strings.Repeat(" ", api.MaxMatchBody+1), http.StatusRequestEntityTooLarge, "too large"},
		{"GET", "/api/incidents?status=closed", "", http.StatusBadRequest, "status must be"},
		{"GET", "/api/incidents?limit=1001", "", http.StatusBadRequest, "limit must be"},
		{"GET", "/api/incidents?cursor=nonsense", "", http.StatusBadRequest, "cursor"},
		{"GET", "/api/incidents?cursor=AAAA", "", http.StatusBadRequest, "cursor"},
		{"GET", "/api/incidents/INC-NOPE", "", http.StatusNotFound, "no such incident"},
		{"GET", "/api/incidents/INC-NOPE?after=1", "", http.StatusNotFound, "no such incident"},
		{"GET", "/api/incidents/INC-NOPE?after=x", "", http.StatusBadRequest, "after must be"},
		{"GET", "/api/incidents/INC-NOPE/report", "", http.StatusNotFound, "no such incident"},
	}
	for _, tt := range tests {
		code, body := w.do(t, tt.method, tt.path, tt.body)
		var answer struct{ Error string }
		if code != tt.status || json.Unmarshal([]byte(body), &answer) != nil || !strings.Contains(answer.Error, tt.says) {
			t.Errorf("%s %s: %d %.200q, want %d and an error saying %q", tt.method, tt.path, code, body, tt.status, tt.says)
		}
	}
}

func TestSearchMatchRunbooksAndMetrics(t *testing.T) {
	w := newWorld(t)
	var found struct {
		Query string
		Hits  []struct{ ID string }
	}
	code, body := w.do(t, "GET", "/api/search?q=pods+keep+restarting&limit=1", "")
	if err := json.Unmarshal([]byte(body), &found); err != nil || code != http.StatusOK {
		t.Fatalf("/api/search: %d %v", code, err)
	}
	if found.Query != "pods keep restarting" || len(found.Hits) != 1 || found.Hits[0].ID != "team:platform/crashloop.md" {
		t.Errorf("/api/search: %+v, want the crash-looping page alone", found)
	}
	var matched struct {
		Alerts []struct {
			Alert      string
			Candidates []struct{ ID string }
		}
	}
	code, body = w.do(t, "POST", "/api/match", `[{"name":"PaymentsAPIHigh5xxRate"},{"name":"NothingLikeIt"}]`)
	if err := json.Unmarshal([]byte(body), &matched); err != nil || code != http.StatusOK {
		t.Fatalf("/api/match: %d %v", code, err)
	}
	if len(matched.Alerts) != 2 || len(matched.Alerts[0].Candidates) == 0 || matched.Alerts[0].Candidates[0].ID != "team:payments/5xx.md" ||
		matched.Alerts[1].Candidates == nil || len(matched.Alerts[1].Candidates) != 0 {
		t.Errorf("/api/match: %s, want the 5xx page for the first alert and an empty list for the second", body)
	}
	var books struct {
		Runbooks []struct {
			ID          string
			Alerts      []string
			Diagnostics []string
		}
	}
	if _, body = w.do(t, "GET", "/api/runbooks", ""); json.Unmarshal([]byte(body), &books) != nil || len(books.Runbooks) != 3 {
		t.Fatalf("/api/runbooks: %s, want the three pages", body)
	}
	for _, rb := range books.Runbooks {
		if rb.ID == "team:broken.md" && (len(rb.Diagnostics) == 0 || !strings.Contains(rb.Diagnostics[0], "broken.md:")) {
			t.Errorf("the broken page's diagnostics: %q, want a file:line one", rb.Diagnostics)
		}
	}
	_, metrics := w.do(t, "GET", "/metrics", "")
	for _, op := range []string{"search", "match"} {
		if !strings.Contains(metrics, `breadcrumb_request_duration_seconds_count{op="`+op+`"} 1`) {
			t.Errorf("/metrics does not count the one %s request", op)
		}
	}
}

func TestAnIncidentItsTimelineAndItsReport(t *testing.T) {
	w := newWorld(t)
	inc, _, err := w.svc.Declare(t.Context(), incidents.Declaration{Title: "Payments <5xx> & co", Service: "payments-api"}, incidents.Action{Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	for _, note := range []string{"rolled back", "errors down", "watching"} {
		if err := w.svc.Note(t.Context(), inc.ID, incidents.Action{Actor: "alice", Text: note}); err != nil {
			t.Fatal(err)
		}
	}
	var page struct {
		Incident struct{ ID string }
		Timeline []struct{ Seq int64 }
		Next     int64
	}
	_, body := w.do(t, "GET", "/api/incidents/"+inc.ID+"?after=1&limit=2", "")
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatal(err)
	}
	if page.Incident.ID != inc.ID || len(page.Timeline) != 2 || page.Timeline[0].Seq != 2 || page.Next != 3 {
		t.Errorf("a page of the timeline: %s, want seqs 2 and 3 and next 3", body)
	}
	for format, want := range map[string]string{"": "# ", "md": "# ", "html": "<!DOCTYPE html>", "json": `"severity_label"`} {
		code, body := w.do(t, "GET", "/api/incidents/"+inc.ID+"/report?format="+format, "")
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("report, format %q: %d, want 200 with %q; body %.200q", format, code, want, body)
		}
		if strings.Contains(body, "<5xx>") && format == "html" {
			t.Error("the HTML report holds the title unescaped")
		}
	}
	if code, _ := w.do(t, "GET", "/api/incidents/"+inc.ID+"/report?format=pdf", ""); code != http.StatusBadRequest {
		t.Errorf("report, format pdf: %d, want 400", code)
	}
}

func TestIncidentListsAreWhatTheStoreListsPageAfterPage(t *testing.T) {
	w := newWorld(t)
	svc := w.svc
	// 450 incidents, more than two of the pages the list is read in, a
	// third of them resolved, some created at the same instant.
	start := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for i := range 450 {
		wg.Go(func() {
			inc, _, err := svc.Declare(t.Context(), incidents.Declaration{Title: fmt.Sprintf("Incident <%d> & co", i), Service: fmt.Sprintf("svc-%d", i%3)},
				incidents.Action{At: start.Add(time.Duration(i/2) * time.Minute)})
			if err == nil && i%3 == 0 {
				_, err = svc.Transition(t.Context(), inc.ID, incidents.StatusResolved, incidents.Action{})
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	tests := []struct {
		query string
		f     incidents.Filter
	}{
		{"", incidents.Filter{Limit: 100}},
		{"?limit=1000", incidents.Filter{Limit: 1000}},
		{"?limit=420", incidents.Filter{Limit: 420}},
		{"?status=open&limit=1000", incidents.Filter{Open: true, Limit: 1000}},
		{"?status=resolved&service=svc-0&limit=1000", incidents.Filter{Statuses: []incidents.Status{incidents.StatusResolved}, Service: "svc-0", Limit: 1000}},
		{"?service=none", incidents.Filter{Service: "none", Limit: 100}},
	}
	for _, tt := range tests {
		f := tt.f
		f.Limit++ // one more tells whether there is a next page
		list, err := svc.List(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Incidents []*incidents.Incident
			Next      string
		}
		_, body := w.do(t, "GET", "/api/incidents"+tt.query, "")
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("/api/incidents%s: %v", tt.query, err)
		}
		if more := len(list) > tt.f.Limit; more != (got.Next != "") {
			t.Errorf("/api/incidents%s: next %q, want one only when more than %d match", tt.query, got.Next, tt.f.Limit)
		}
		list = list[:min(len(list), tt.f.Limit)]
		wantJSON, _ := json.Marshal(list)
		gotJSON, _ := json.Marshal(got.Incidents)
		if len(list) == 0 {
			wantJSON = []byte("[]")
		}
		if string(gotJSON) != string(wantJSON) || !strings.Contains(body, `"incidents":[`) {
			t.Errorf("/api/incidents%s: got %d incidents, want the store's %d", tt.query, len(got.Incidents), len(list))
		}
	}
	all, err := svc.List(t.Context(), incidents.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	open, err := svc.List(t.Context(), incidents.Filter{Open: true})
	if err != nil {
		t.Fatal(err)
	}
	// Following next, page after page, reads every incident once, in
	// order, and the last page has no next.
	for _, pages := range []struct {
		query string
		want  []*incidents.Incident
	}{
		{"?limit=100", all},
		{"?limit=7&status=open", open},
		{"?limit=450", all},
	} {
		var got []string
		query := pages.query
		for n := 0; ; n++ {
			var page struct {
				Incidents []struct{ ID string }
				Next      string
			}
			_, body := w.do(t, "GET", "/api/incidents"+query, "")
			if err := json.Unmarshal([]byte(body), &page); err != nil {
				t.Fatal(err)
			}
			for _, inc := range page.Incidents {
				got = append(got, inc.ID)
			}
			if page.Next == "" || n > len(pages.want) {
				break
			}
			query = pages.query + "&cursor=" + page.Next
		}
		if len(got) != len(pages.want) {
			t.Fatalf("/api/incidents%s, page after page: got %d incidents, want %d", pages.query, len(got), len(pages.want))
		}
		for i, inc := range pages.want {
			if got[i] != inc.ID {
				t.Fatalf("/api/incidents%s, page after page: incident %d is %s, want %s", pages.query, i, got[i], inc.ID)
			}
		}
	}
}

// Finding: HTML and Markdown reports went out without a
// Content-Security-Policy and without X-Content-Type-Options: nosniff,
// so a report opened in a browser could run what an incident's text
// smuggled in.
func TestReportsAreServedUnderAPolicyThatRunsNothing(t *testing.T) {
	w := newWorld(t)
	inc, _, err := w.svc.Declare(t.Context(), incidents.Declaration{Title: "<script>alert(1)</script>"}, incidents.Action{Actor: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"md", "html", "json"} {
		for _, download := range []string{"", "&download=1"} {
			resp, err := http.Get(w.srv.URL + "/api/incidents/" + inc.ID + "/report?format=" + format + download)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			csp := resp.Header.Get("Content-Security-Policy")
			for _, want := range []string{"sandbox", "default-src 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("report %s%s: Content-Security-Policy %q lacks %q", format, download, csp, want)
				}
			}
			if strings.Contains(csp, "script-src") || strings.Contains(csp, "allow-scripts") {
				t.Errorf("report %s%s: Content-Security-Policy %q lets scripts run", format, download, csp)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("report %s%s: X-Content-Type-Options %q, want nosniff", format, download, got)
			}
		}
	}
}

// Finding: GET /api/incidents could not list more than 1,000 incidents.
// While 1,150 are created concurrently, walks through the list 500 at a
// time see none twice and miss none that existed when they began; once
// the creation is over, a walk sees every one exactly once.
func TestTheIncidentListPagesThroughIncidentsCreatedWhileItIsRead(t *testing.T) {
	w := newWorld(t)
	const total = 1150
	var mu sync.Mutex
	var created []string
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 8 {
		wg.Go(func() {
			for i := next.Add(1); i <= total; i = next.Add(1) {
				inc, _, err := w.svc.Declare(context.Background(), incidents.Declaration{Title: fmt.Sprintf("Incident %d", i)}, incidents.Action{})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				created = append(created, inc.ID)
				mu.Unlock()
			}
		})
	}
	// walk reads every page and returns how often each incident was seen.
	walk := func() (map[string]int, int) {
		seen, pages, cursor := map[string]int{}, 0, ""
		for {
			path := "/api/incidents?limit=500"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			code, body := w.do(t, "GET", path, "")
			var page struct {
				Incidents []struct{ ID string }
				Next      string
			}
			if code != http.StatusOK || json.Unmarshal([]byte(body), &page) != nil {
				t.Fatalf("%s: %d %.200s", path, code, body)
			}
			pages++
			if len(page.Incidents) > 500 {
				t.Fatalf("%s: %d incidents in a page of 500", path, len(page.Incidents))
			}
			for _, inc := range page.Incidents {
				seen[inc.ID]++
			}
			if page.Next == "" {
				return seen, pages
			}
			cursor = page.Next
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	walks := 0
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		mu.Lock()
		before := append([]string(nil), created...)
		mu.Unlock()
		seen, _ := walk()
		walks++
		for id, n := range seen {
			if n > 1 {
				t.Fatalf("walk %d saw %s %d times", walks, id, n)
			}
		}
		for _, id := range before {
			if seen[id] == 0 {
				t.Fatalf("walk %d missed %s, which existed before it began", walks, id)
			}
		}
	}
	seen, pages := walk()
	if len(seen) != total || pages != 3 {
		t.Errorf("after the creation: %d incidents in %d pages, want %d in 3", len(seen), pages, total)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s seen %d times", id, n)
		}
	}
	t.Logf("%d walks while the incidents were created", walks)
}

// TestTheAPIAnswersStaySmallWhateverTheAlertsCarried answers a security
// review's finding: twenty reports, each adding an alert with a 1 MB
// label and a 3 MB summary, made GET /api/incidents answer tens of MB.
// With the caps applied on arrival, and on read to an incident stored
// before them, each answer stays small.
func TestTheAPIAnswersStaySmallWhateverTheAlertsCarried(t *testing.T) {
	w := newWorld(t)
	label, summary := strings.Repeat("l", 1<<20), strings.Repeat("s", 3<<20)
	var id string
	for i := range 20 {
		res, err := w.svc.ReportAlerts(t.Context(), incidents.AlertGroup{
			Refs: map[string]string{incidents.RefAlertmanagerGroup: "g"}, Source: "alertmanager",
			Alerts: []runbooks.Alert{{Name: "DiskFull", Fingerprint: fmt.Sprint("fp", i), Status: "firing", Summary: summary,
				Labels: map[string]string{"alertname": "DiskFull", "description": label}, StartsAt: time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)}},
		}, incidents.Action{Key: fmt.Sprint("delivery-", i)})
		if err != nil {
			t.Fatal(err)
		}
		id = res.Incident.ID
	}
	// An incident stored before the caps, as an old data directory holds
	// it: a 3 MB title, and twenty alerts of a 1 MB label and a large
	// summary, whose events repeat the summary.
	old := &incidents.Incident{ID: "INC-OLD", Title: summary, Status: incidents.StatusTriggered, Source: "alertmanager",
		CreatedAt: time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)}
	var events []incidents.Event
	for i := range 20 {
		old.Alerts = append(old.Alerts, incidents.AlertState{Name: "DiskFull", Fingerprint: fmt.Sprint("fp", i), Status: "firing",
			Labels: map[string]string{"alertname": "DiskFull", "description": label}, Summary: summary[:256<<10]})
		events = append(events, incidents.Event{Key: fmt.Sprint("alert-", i), Type: incidents.EventAlertFired, At: old.CreatedAt, Text: summary[:256<<10],
			Data: map[string]string{"alert": "DiskFull", "fingerprint": fmt.Sprint("fp", i)}})
	}
	if err := w.store.Create(t.Context(), old, events); err != nil {
		t.Fatal(err)
	}

	// The incident (its 20 alerts at 4 KiB of label and 4 KiB of summary
	// each) is about 170 KB; the timeline repeats the summaries.
	const small = 256 << 10
	for _, tt := range []struct {
		path string
		max  int
	}{
		{"/api/incidents", 2 * small},
		{"/api/incidents/" + id, 2 * small},
		{"/api/incidents/" + id + "?after=0&limit=5", small},
		{"/api/incidents/INC-OLD", 2 * small},
		{"/api/incidents/" + id + "/report?format=json", 2 * small},
	} {
		code, body := w.do(t, "GET", tt.path, "")
		t.Logf("GET %s: %d bytes", tt.path, len(body))
		if code != http.StatusOK || len(body) > tt.max {
			t.Errorf("GET %s: %d with %d bytes, want 200 with at most %d", tt.path, code, len(body), tt.max)
		}
	}
	var list struct{ Incidents []*incidents.Incident }
	_, body := w.do(t, "GET", "/api/incidents", "")
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Incidents) != 2 {
		t.Fatalf("listed %d incidents, want 2", len(list.Incidents))
	}
	for _, inc := range list.Incidents {
		data, _ := json.Marshal(inc)
		if len(data) > incidents.MaxIncidentBytes || len(inc.Alerts) != 20 || len(inc.Alerts[0].Labels["description"]) > incidents.MaxValueBytes {
			t.Errorf("%s is listed with %d bytes and %d alerts, want at most %d bytes and its 20 alerts, cut", inc.ID, len(data), len(inc.Alerts), incidents.MaxIncidentBytes)
		}
	}
}
