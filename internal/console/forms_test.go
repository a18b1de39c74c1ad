package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/internal/console"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
)

// post sends a form to path with the given headers.
func post(t *testing.T, c *http.Client, target string, form url.Values, headers map[string]string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// Finding: the chat's form check was skipped for any Authorization
// header, and the sign-in cookie then accepted. A browser behind a
// proxy that asks for Basic credentials sends them with every request,
// another site's forms included.
func TestTheChatSkipsItsFormCheckOnlyForAValidBearerToken(t *testing.T) {
	w := newChatWorld(t)
	for _, tc := range []struct {
		name    string
		headers map[string]string
		client  *http.Client
		want    int
	}{
		{"signed in, Basic credentials, from another site", map[string]string{"Authorization": "Basic dXNlcjpwYXNz", "Origin": "https://evil.example"}, w.client, http.StatusForbidden},
		{"signed in, a wrong bearer token", map[string]string{"Authorization": "Bearer wrong"}, w.client, http.StatusUnauthorized},
		{"signed in, a Negotiate header, from another site", map[string]string{"Authorization": "Negotiate", "Origin": "https://evil.example"}, w.client, http.StatusForbidden},
		{"no cookie, the bearer token", map[string]string{"Authorization": "Bearer " + chatToken}, http.DefaultClient, http.StatusOK},
	} {
		form := url.Values{"channel": {"C0001"}, "text": {"hello from " + tc.name}}
		if got := post(t, tc.client, w.srv.URL+"/chat/say", form, tc.headers); got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.name, got, tc.want)
		}
	}
}

var demoTokenRE = regexp.MustCompile(`action="/demo"><input type="hidden" name="csrf" value="([0-9a-f]{32})"`)

// Finding: POST /demo had no origin or form-token check, so another site
// could make a signed-in browser send the sample alert.
func TestTheDemoFormIsGuardedLikeTheChats(t *testing.T) {
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
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if got := post(t, browser, srv.URL+"/signin", url.Values{"token": {"s3cret"}, "next": {"/"}}, nil); got != http.StatusSeeOther {
		t.Fatalf("sign-in: got %d", got)
	}
	if got := post(t, browser, srv.URL+"/demo", nil, map[string]string{"Origin": "https://evil.example"}); got != http.StatusForbidden || sent != 0 {
		t.Errorf("a signed-in browser posting from another site: got %d and %d demos, want 403 and none", got, sent)
	}
	if got := post(t, browser, srv.URL+"/demo", nil, nil); got != http.StatusForbidden || sent != 0 {
		t.Errorf("a post without the form token: got %d and %d demos, want 403 and none", got, sent)
	}
	resp, err := browser.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := demoTokenRE.FindSubmatch(body)
	if m == nil {
		t.Fatalf("the home page has no demo form with a form token:\n%s", body)
	}
	if got := post(t, browser, srv.URL+"/demo", url.Values{"csrf": {string(m[1])}}, map[string]string{"Origin": srv.URL}); got != http.StatusSeeOther || sent != 1 {
		t.Errorf("the home page's own form: got %d and %d demos, want 303 and one", got, sent)
	}
}

// Finding: the sign-in page said the token was "set in
// BREADCRUMB_CONSOLE_TOKEN" when the run had made its own.
func TestTheSignInPageSaysWhereThisRunsTokenIs(t *testing.T) {
	f := newFixture(t, "x")
	for _, forRun := range []bool{true, false} {
		c, err := console.New(console.Config{Incidents: f.svc, Library: f.lib, Search: f.ix, Token: secret.New("made-for-this-run"), TokenForRun: forRun})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		c.Register(mux)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", "/signin", nil))
		printed := strings.Contains(rec.Body.String(), "sign-in link it printed on its terminal")
		if printed != forRun {
			t.Errorf("a token made for this run %v: the page speaks of the printed link %v:\n%s", forRun, printed, rec.Body)
		}
	}
}

// Finding: the incident page listed an alert that fired at 01:30 after
// events of 01:37, in the order they were recorded.
func TestTheIncidentPageShowsEventsInTheOrderTheyHappened(t *testing.T) {
	f := newFixture(t, "")
	ctx := context.Background()
	t0 := time.Date(2026, 12, 1, 1, 37, 0, 0, time.UTC)
	inc, _, err := f.svc.Declare(ctx, incidents.Declaration{Title: "Orders slow"}, incidents.Action{At: t0})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Note(ctx, inc.ID, incidents.Action{Text: "second, at 01:40", At: t0.Add(3 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.AlertFired(ctx, inc.ID, "OrdersSlow", "fp1", incidents.Action{Text: "first, at 01:30", At: t0.Add(-7 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	_, body := f.get(t, "/incidents/"+inc.ID)
	first, second := strings.Index(body, "first, at 01:30"), strings.Index(body, "second, at 01:40")
	if first < 0 || second < 0 || first > second {
		t.Errorf("the alert of 01:30 is at %d, the note of 01:40 at %d: want the alert first", first, second)
	}
}

var actTokenRE = regexp.MustCompile(`action="/incidents/[^"]+/act"[^>]*><input type="hidden" name="csrf" value="([0-9a-f]{32})"`)

// Finding: the incident page had no Acknowledge or Resolve buttons; only
// the chat drove an incident. It takes the chat's checks.
func TestTheIncidentPageDrivesTheIncident(t *testing.T) {
	f := newFixture(t, "s3cret")
	ctx := context.Background()
	inc, _, err := f.svc.Declare(ctx, incidents.Declaration{Title: "Orders slow", Steps: []incidents.StepProgress{{Number: 1, Title: "Look"}, {Number: 2, Title: "Fix"}}}, incidents.Action{})
	if err != nil {
		t.Fatal(err)
	}
	page := f.srv.URL + "/incidents/" + inc.ID
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if _, body := f.get(t, "/incidents/"+inc.ID); strings.Contains(body, `/act"`) || !strings.Contains(body, "Sign in</a> to acknowledge") {
		t.Error("a reader who is not signed in gets the controls, or no word of signing in")
	}
	if got := post(t, browser, page+"/act", url.Values{"action": {"ack"}}, nil); got != http.StatusUnauthorized && got != http.StatusSeeOther {
		t.Errorf("acting without signing in: got %d", got)
	}
	if got := post(t, browser, f.srv.URL+"/signin", url.Values{"token": {"s3cret"}, "next": {"/"}}, nil); got != http.StatusSeeOther {
		t.Fatalf("sign-in: got %d", got)
	}
	resp, err := browser.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := actTokenRE.FindSubmatch(body)
	if m == nil || !strings.Contains(string(body), ">Acknowledge</button>") || !strings.Contains(string(body), ">Done</button>") {
		t.Fatalf("the signed-in page has no controls:\n%s", body)
	}
	csrf := string(m[1])
	same := map[string]string{"Origin": f.srv.URL}
	if got := post(t, browser, page+"/act", url.Values{"action": {"ack"}, "csrf": {csrf}}, map[string]string{"Origin": "https://evil.example"}); got != http.StatusForbidden {
		t.Errorf("acting from another site: got %d, want 403", got)
	}
	for _, form := range []url.Values{
		{"action": {"ack"}}, {"action": {"note"}, "text": {"checked the <b>queue</b>"}}, {"action": {"done"}, "step": {"1"}},
		{"action": {"skip"}, "step": {"2"}}, {"action": {"resolve"}},
	} {
		form.Set("csrf", csrf)
		if got := post(t, browser, page+"/act", form, same); got != http.StatusSeeOther {
			t.Errorf("%v: got %d, want 303 back to the page", form, got)
		}
	}
	got, err := f.svc.Get(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != incidents.StatusResolved || got.Steps[0].State != incidents.StepDone || got.Steps[1].State != incidents.StepSkipped {
		t.Errorf("after acting: %s, steps %+v; want resolved, step 1 done and 2 skipped", got.Status, got.Steps)
	}
	events, _ := f.svc.Timeline(ctx, inc.ID, 0, 0)
	noted := false
	for _, e := range events {
		noted = noted || (e.Type == incidents.EventNote && e.Text == "checked the <b>queue</b>" && e.Source == "web")
	}
	if !noted {
		t.Errorf("the note is not on the timeline as typed: %+v", events)
	}
	// A change the rules refuse says why, on the page.
	req, _ := http.NewRequest(http.MethodPost, page+"/act", strings.NewReader(url.Values{"action": {"mitigate"}, "csrf": {csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", f.srv.URL)
	resp, err = browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); !strings.Contains(loc, "refused=") {
		t.Errorf("mitigating a resolved incident: sent to %q, want the page saying why not", loc)
	}
}

// Finding: references to other runbooks were not links in the console:
// a page's relative link ("../databases/X.md") led to a 404.
func TestALinkToAnotherRunbookLeadsToItsPageInTheConsole(t *testing.T) {
	f := newFixture(t, "")
	_, body := f.get(t, "/runbooks/examples:payments/PaymentsAPIHigh5xxRate.md")
	if !strings.Contains(body, `href="/runbooks/examples:databases/PostgresConnectionsExhausted.md`) {
		t.Errorf("the link to the Postgres page does not lead to it in the console:\n%s", body)
	}
	for _, want := range []string{`<pre tabindex="0">`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
}

// Finding: a runbook page showed its breadcrumb templates raw
// ({{to_ms}}), with nothing to say they are filled per incident.
func TestARunbookPageExplainsItsTemplates(t *testing.T) {
	f := newFixture(t, "")
	_, body := f.get(t, "/runbooks/examples:platform/PodCrashLooping.md")
	for _, want := range []string{`<var title="end of the window in Unix milliseconds">{{to_ms}}</var>`, "These are templates: each incident that uses this page gets them as links"} {
		if !strings.Contains(body, want) {
			t.Errorf("the runbook page lacks %s", want)
		}
	}
}
