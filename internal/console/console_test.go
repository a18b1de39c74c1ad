package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/examples"
	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
	"github.com/breadcrumb-oncall/breadcrumb/internal/console"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
	"github.com/breadcrumb-oncall/breadcrumb/search"
)

type fixture struct {
	srv *httptest.Server
	svc *incidents.Service
	lib *runbooks.Library
	ix  *search.Index
}

func newFixture(t testing.TB, token string) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "incidents.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	svc := incidents.NewService(st, incidents.Options{})
	lib := runbooks.NewLibrary(runbooks.LibraryOptions{})
	if err := lib.Add(runbooks.NewFSSource("examples", examples.Runbooks()), runbooks.SourceConfig{}); err != nil {
		t.Fatal(err)
	}
	if err := lib.AddRules(runbooks.NewFSSource("example-rules", examples.Rules()), runbooks.SourceConfig{}); err != nil {
		t.Fatal(err)
	}
	extra := fstest.MapFS{"team.yaml": {Data: []byte("groups:\n- name: team\n  rules:\n  - alert: CheckoutSlow<b>\n    expr: up == 0\n    annotations:\n      summary: Checkout takes <i>9 s</i>\n  - alert: CartDown\n    expr: up == 0\n    annotations:\n      runbook_url: https://wiki.example/cart\n")}}
	if err := lib.AddRules(runbooks.NewFSSource("team-rules", extra), runbooks.SourceConfig{}); err != nil {
		t.Fatal(err)
	}
	if _, err := lib.Refresh(ctx); err != nil {
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
	m := search.NewMatcher(lib, ix)
	c, err := console.New(console.Config{Incidents: svc, Library: lib, Search: ix, Token: secret.New(token),
		Rules: m.Rules, RulesStatus: lib.RulesStatus,
		LinkURL: func(id string, n int) string { return "/b/" + id + "/" + string(rune('0'+n)) },
		Chat:    http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "chat here") }),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	c.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &fixture{srv: srv, svc: svc, lib: lib, ix: ix}
}

func (f *fixture) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(f.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestPagesShowIncidentsRunbooksAndSearchEscaped(t *testing.T) {
	f := newFixture(t, "")
	ctx := context.Background()
	inc, _, err := f.svc.Declare(ctx, incidents.Declaration{Title: `<script>alert(1)</script> payments & co`, Severity: 2,
		Service: "payments", Runbook: &incidents.RunbookRef{ID: f.lib.Pages()[0].ID, Title: "First page"},
		Steps: []incidents.StepProgress{{Number: 1, Title: "Look at <b>logs</b>"}},
		Links: []incidents.Link{{Name: "logs", Kind: "logs", URL: "https://logs.example/?q=a"}}}, incidents.Action{Actor: "U1", Source: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Note(ctx, inc.ID, incidents.Action{Actor: "U2", Text: `<img src=x onerror=alert(2)>`}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path       string
		status     int
		want, hide []string
	}{
		{"/", 200, []string{inc.ID, "payments &amp; co", "Open incidents"}, []string{"<script>alert(1)"}},
		{"/incidents?status=open", 200, []string{inc.ID}, nil},
		{"/incidents?status=resolved", 200, []string{"No incident matches"}, []string{inc.ID}},
		{"/incidents/" + inc.ID, 200, []string{"&lt;img src=x onerror=alert(2)&gt;", "Look at &lt;b&gt;logs&lt;/b&gt;", `href="/b/` + inc.ID + `/0"`, "format=html"},
			[]string{"<img src=x", "<b>logs</b>"}},
		{"/incidents/INC-NOPE", 404, []string{"There is no incident INC-NOPE"}, nil},
		{"/runbooks", 200, []string{"examples", f.lib.Pages()[0].Title}, nil},
		{"/runbooks/" + f.lib.Pages()[0].ID, 200, []string{"<h", "Steps"}, nil},
		{"/runbooks/examples:nope.md", 404, []string{"There is no runbook"}, nil},
		{"/search?q=" + url.QueryEscape("disk full"), 200, []string{"<mark>"}, nil},
		{"/search?q=zzzqqqxxx", 200, []string{"No runbook matches"}, nil},
		{"/coverage", 200, []string{"Runbooks never used", "Runbooks used"}, nil},
	}
	for _, tt := range tests {
		code, body := f.get(t, tt.path)
		if code != tt.status {
			t.Errorf("GET %s: got %d, want %d", tt.path, code, tt.status)
		}
		for _, w := range tt.want {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s: the page lacks %q", tt.path, w)
			}
		}
		for _, h := range tt.hide {
			if strings.Contains(body, h) {
				t.Errorf("GET %s: the page holds %q unescaped", tt.path, h)
			}
		}
	}
}

func TestWritingNeedsTheToken(t *testing.T) {
	f := newFixture(t, "s3cret")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(req *http.Request) *http.Response {
		t.Helper()
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	req, _ := http.NewRequest("GET", f.srv.URL+"/chat", nil)
	if got := do(req).StatusCode; got != http.StatusUnauthorized {
		t.Errorf("chat without a token: got %d, want 401", got)
	}
	req, _ = http.NewRequest("GET", f.srv.URL+"/chat", nil)
	req.Header.Set("Authorization", "Bearer wrong")
	if got := do(req).StatusCode; got != http.StatusUnauthorized {
		t.Errorf("chat with a wrong token: got %d, want 401", got)
	}
	req, _ = http.NewRequest("GET", f.srv.URL+"/chat", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	if got := do(req).StatusCode; got != http.StatusOK {
		t.Errorf("chat with the token: got %d, want 200", got)
	}
	// The sign-in form sets a cookie that works, and refuses a bad token.
	resp, err := noRedirect.PostForm(f.srv.URL+"/signin", url.Values{"token": {"nope"}, "next": {"/chat"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("sign-in with a bad token: got %d, want 401", resp.StatusCode)
	}
	resp, err = noRedirect.PostForm(f.srv.URL+"/signin", url.Values{"token": {"s3cret"}, "next": {"//evil.example/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != "/" {
		t.Errorf("sign-in redirected to %q, want / (never off the site)", loc)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		cookie = c
	}
	if cookie == nil || !cookie.HttpOnly {
		t.Fatalf("got cookie %v, want an HttpOnly cookie", cookie)
	}
	req, _ = http.NewRequest("GET", f.srv.URL+"/chat", nil)
	req.AddCookie(cookie)
	if got := do(req).StatusCode; got != http.StatusOK {
		t.Errorf("chat with the cookie: got %d, want 200", got)
	}
}

func TestWithoutATokenNothingCanBeWritten(t *testing.T) {
	f := newFixture(t, "")
	req, _ := http.NewRequest("GET", f.srv.URL+"/chat", nil)
	req.Header.Set("Authorization", "Bearer ")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("got %d, want 403 when no token is configured", resp.StatusCode)
	}
}

func TestCoverageCountsUnmatchedAlertsUnusedRunbooksAndSkippedSteps(t *testing.T) {
	at := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	list := []*incidents.Incident{
		{ID: "1", Title: "a", CreatedAt: at, Alerts: []incidents.AlertState{{Name: "DiskFull"}, {Name: "DiskFull"}}},
		{ID: "2", Title: "b", CreatedAt: at, Alerts: []incidents.AlertState{{Name: "DiskFull"}}},
		{ID: "3", Title: "Manual", CreatedAt: at},
		{ID: "4", Title: "c", CreatedAt: at, Runbook: &incidents.RunbookRef{ID: "x:a.md"},
			Steps: []incidents.StepProgress{{Number: 1, Title: "Look", State: incidents.StepSkipped}, {Number: 2, Title: "Fix", State: incidents.StepDone}}},
		{ID: "5", Title: "d", CreatedAt: at, Runbook: &incidents.RunbookRef{ID: "x:a.md"},
			Steps: []incidents.StepProgress{{Number: 1, Title: "Look", State: incidents.StepSkipped}}},
	}
	cov := console.ComputeCoverage(list, []string{"x:a.md", "x:b.md"})
	if len(cov.Unmatched) != 2 || cov.Unmatched[0].Name != "DiskFull" || cov.Unmatched[0].Count != 2 || cov.Unmatched[1].Name != "Manual" {
		t.Errorf("unmatched: got %+v, want DiskFull×2 then Manual×1", cov.Unmatched)
	}
	if len(cov.Unused) != 1 || cov.Unused[0] != "x:b.md" {
		t.Errorf("unused: got %v, want [x:b.md]", cov.Unused)
	}
	if len(cov.Skipped) != 1 || cov.Skipped[0].Name != "1. Look" || cov.Skipped[0].Count != 2 || !cov.Skipped[0].Always() {
		t.Errorf("skipped: got %+v, want step 1 Look ×2, skipped every time its runbook was used", cov.Skipped)
	}
	if len(cov.Used) != 1 || cov.Used[0].Count != 2 {
		t.Errorf("used: got %+v, want x:a.md ×2", cov.Used)
	}
}

func TestTheSignInLinkSetsTheCookieAndABadOneDoesNot(t *testing.T) {
	f := newFixture(t, "printed-token")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(f.srv.URL + "/signin?token=printed-token&next=/chat")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/chat" || len(resp.Cookies()) != 1 {
		t.Errorf("good link: got %d to %q with %d cookies, want 303 to /chat with the cookie", resp.StatusCode, resp.Header.Get("Location"), len(resp.Cookies()))
	}
	resp, err = noRedirect.Get(f.srv.URL + "/signin?token=guess&next=/chat")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Errorf("bad link: got %d with %d cookies, want 401 and none", resp.StatusCode, len(resp.Cookies()))
	}
}

func TestTheDemoNeedsTheToken(t *testing.T) {
	f := newFixture(t, "s3cret")
	sent := 0
	c, err := console.New(console.Config{Incidents: f.svc, Library: f.lib, Search: f.ix, Token: secret.New("s3cret"),
		Demo: func(context.Context) error { sent++; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	c.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		auth       string
		want, sent int
	}{{"", http.StatusUnauthorized, 0}, {"Bearer nope", http.StatusUnauthorized, 0}, {"Bearer s3cret", http.StatusSeeOther, 1}} {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/demo", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want || sent != tc.sent {
			t.Errorf("POST /demo with %q: got %d and %d demos sent, want %d and %d", tc.auth, resp.StatusCode, sent, tc.want, tc.sent)
		}
	}
}

func TestAnIncidentWithoutARunbookShowsWhatMightFitAndHowToWriteOne(t *testing.T) {
	f := newFixture(t, "")
	ctx := context.Background()
	res, err := f.svc.ReportAlerts(ctx, incidents.AlertGroup{Refs: map[string]string{incidents.RefAlertmanagerGroup: "g1"}, Source: "alertmanager",
		Alerts: []runbooks.Alert{{Name: "CheckoutSlow", Labels: map[string]string{"alertname": "CheckoutSlow", "service": "checkout"},
			Summary: "Checkout <script>takes</script> 9 s", Status: "firing", Fingerprint: "f1", StartsAt: time.Now()}}}, incidents.Action{})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Incident.ID
	// The enricher is the service's, in serve; here the incident gets
	// what it would have given.
	inc, err := f.svc.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	_ = inc
	code, body := f.get(t, "/incidents/"+url.PathEscape(id))
	if code != http.StatusOK || !strings.Contains(body, "No runbook matched") || !strings.Contains(body, "/runbooks/new?incident="+url.QueryEscape(id)) {
		t.Fatalf("incident page %d lacks the no-runbook card:\n%s", code, body)
	}

	code, body = f.get(t, "/runbooks/new?incident="+url.QueryEscape(id))
	if code != http.StatusOK {
		t.Fatalf("new runbook page: %d", code)
	}
	for _, want := range []string{"Write the runbook for CheckoutSlow", "CheckoutSlow.md", "alerts:", "  - CheckoutSlow", "service: checkout", "breadcrumb lint"} {
		if !strings.Contains(body, want) {
			t.Errorf("the new runbook page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>takes") {
		t.Error("the alert's text reached the page unescaped")
	}
	resp, err := http.Get(f.srv.URL + "/runbooks/new.md?incident=" + url.QueryEscape(id))
	if err != nil {
		t.Fatal(err)
	}
	md, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	rb := runbooks.Parse("CheckoutSlow.md", md, runbooks.ParseOptions{})
	if resp.Header.Get("Content-Disposition") == "" || rb.Problems() > 0 || len(rb.Alerts) == 0 || rb.Alerts[0].Name != "CheckoutSlow" {
		t.Errorf("the download: %q, problems %v, alerts %+v", resp.Header.Get("Content-Disposition"), rb.Diagnostics, rb.Alerts)
	}
	for _, bad := range []string{"/runbooks/new", "/runbooks/new?incident=NOPE", "/runbooks/new?alert=" + strings.Repeat("x", 300)} {
		if code, _ := f.get(t, bad); code != http.StatusBadRequest && code != http.StatusNotFound {
			t.Errorf("%s: %d, want 400 or 404", bad, code)
		}
	}
}

func TestCoverageListsTheRulesWithoutARunbook(t *testing.T) {
	f := newFixture(t, "")
	code, body := f.get(t, "/coverage")
	if code != http.StatusOK {
		t.Fatalf("coverage: %d", code)
	}
	for _, want := range []string{"19 of 21 alert rules lead to a runbook", "Rules without a runbook", "CheckoutSlow&lt;b&gt;", "team-rules/team.yaml:4",
		"/runbooks/new?alert=CheckoutSlow%3cb%3e", "Links that lead to no page", "https://wiki.example/cart"} {
		if !strings.Contains(body, want) {
			t.Errorf("the coverage page lacks %q", want)
		}
	}
	if strings.Contains(body, "<i>9 s</i>") || strings.Contains(body, "CheckoutSlow<b>") {
		t.Error("a rule's text reached the page unescaped")
	}
}
