package pagerduty

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	pd "github.com/PagerDuty/go-pagerduty"

	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

const testToken = "u+Fk3yTeStT0kenZ9"

// fakePagerDuty speaks the part of PagerDuty's REST API that the client
// uses: GET /incidents/{id}/alerts, with token authentication and
// offset pagination that, like PagerDuty, may apply a smaller limit than
// asked for and echoes the one it applied.
type fakePagerDuty struct {
	t        *testing.T
	pageSize int                          // the most alerts a page holds
	alerts   map[string][]json.RawMessage // by incident ID

	mu      sync.Mutex
	queries []string // the query of every authorised request
	// calls are the changes asked for, in order: "PUT /incidents Q1 acknowledged from=a@b"
	// or "POST /incidents/Q1/notes from=a@b: text".
	calls []string
	// failures answer the next requests of the write routes, one each,
	// before they succeed again.
	failures []http.HandlerFunc
	notes    int // the notes created, for their IDs
}

func newFakePagerDuty(t *testing.T, pageSize int) (*fakePagerDuty, *httptest.Server) {
	t.Helper()
	var list struct {
		Alerts []json.RawMessage `json:"alerts"`
	}
	if err := json.Unmarshal(readTestdata(t, "incident_alerts.Q2K4FZ5M0ZP1AB.json"), &list); err != nil {
		t.Fatal(err)
	}
	f := &fakePagerDuty{t: t, pageSize: pageSize, alerts: map[string][]json.RawMessage{
		"Q2K4FZ5M0ZP1AB": list.Alerts,
		"PQUIET1":        {},
	}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /incidents/{id}/alerts", f.listAlerts)
	mux.HandleFunc("PUT /incidents", f.manageIncidents)
	mux.HandleFunc("POST /incidents/{id}/notes", f.createNote)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv
}

func writeError(w http.ResponseWriter, status, code int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"message":%q,"code":%d}}`, message, code)
}

func (f *fakePagerDuty) listAlerts(w http.ResponseWriter, r *http.Request) {
	if got := r.Header.Get("Authorization"); got != "Token token="+testToken {
		writeError(w, http.StatusUnauthorized, 2006, "Authentication failed")
		return
	}
	if got := r.Header.Get("Accept"); got != "application/vnd.pagerduty+json;version=2" {
		f.t.Errorf("got Accept %q, want PagerDuty's v2 media type", got)
	}
	f.mu.Lock()
	f.queries = append(f.queries, r.URL.RawQuery)
	var fail http.HandlerFunc
	if len(f.failures) > 0 {
		fail, f.failures = f.failures[0], f.failures[1:]
	}
	f.mu.Unlock()
	if fail != nil {
		fail(w, r)
		return
	}
	alerts, ok := f.alerts[r.PathValue("id")]
	if !ok {
		writeError(w, http.StatusNotFound, 2100, "Not Found")
		return
	}
	q := r.URL.Query()
	limit, offset := 25, 0
	if v := q.Get("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	if v := q.Get("offset"); v != "" {
		offset, _ = strconv.Atoi(v)
	}
	limit = min(limit, 100, f.pageSize)
	end := min(offset+limit, len(alerts))
	page := []json.RawMessage{}
	if offset < end {
		page = alerts[offset:end]
	}
	var total any // null unless asked for, as PagerDuty does
	if q.Get("total") == "true" {
		total = len(alerts)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"alerts": page, "limit": limit, "offset": offset, "more": end < len(alerts), "total": total,
	})
}

func newTestClient(t *testing.T, url string) *Client {
	t.Helper()
	c, err := NewClient(Config{Token: secret.New(testToken), APIURL: url})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func TestIncidentAlertsReadsEveryPage(t *testing.T) {
	f, srv := newFakePagerDuty(t, 3)
	got, err := newTestClient(t, srv.URL).IncidentAlerts(t.Context(), "Q2K4FZ5M0ZP1AB")
	if err != nil {
		t.Fatalf("IncidentAlerts: %v", err)
	}
	var ids []string
	for _, a := range got {
		ids = append(ids, a.ExternalID)
	}
	if want := "Q1ALRT0000001A Q1ALRT0000002B Q1ALRT0000003C Q1ALRT0000004D"; strings.Join(ids, " ") != want {
		t.Errorf("got alerts %v, want %s", ids, want)
	}
	if want := []string{"limit=100", "limit=100&offset=3"}; fmt.Sprint(f.queries) != fmt.Sprint(want) {
		t.Errorf("got requests %q, want %q", f.queries, want)
	}
}

func TestIncidentAlertsOfAnIncidentWithoutAlertsIsEmpty(t *testing.T) {
	_, srv := newFakePagerDuty(t, 100)
	got, err := newTestClient(t, srv.URL).IncidentAlerts(t.Context(), "PQUIET1")
	if err != nil || len(got) != 0 {
		t.Errorf("got %v, %v; want no alerts and no error", got, err)
	}
}

func TestIncidentAlertsRecoverWhatAlertmanagerSent(t *testing.T) {
	_, srv := newFakePagerDuty(t, 100)
	got, err := newTestClient(t, srv.URL).IncidentAlerts(t.Context(), "Q2K4FZ5M0ZP1AB")
	if err != nil {
		t.Fatalf("IncidentAlerts: %v", err)
	}
	if len(got) != 4 {
		t.Fatalf("got %d alerts, want 4", len(got))
	}
	want := []runbooks.Alert{
		{
			// Alertmanager's default details: everything is in the firing text.
			Name: "KubePodCrashLooping",
			Labels: map[string]string{
				"alertname": "KubePodCrashLooping", "container": "checkout", "namespace": "payments",
				"pod": "checkout-7d9f8b6c5-x2x9k", "severity": "warning", "service": "Checkout (Prometheus)",
			},
			Annotations: map[string]string{
				"firing":       string(mustField(t, 0, "firing")),
				"num_firing":   "1",
				"num_resolved": "0",
				"description":  `Pod payments/checkout-7d9f8b6c5-x2x9k (checkout) is in waiting state (reason: "CrashLoopBackOff").`,
				"runbook_url":  "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping",
				"summary":      "Pod is crash looping.",
			},
			Summary:      "Pod is crash looping.",
			Description:  `Pod payments/checkout-7d9f8b6c5-x2x9k (checkout) is in waiting state (reason: "CrashLoopBackOff").`,
			RunbookURL:   "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping",
			Status:       "firing",
			StartsAt:     mustTime(t, "2024-05-14T03:12:09Z"),
			GeneratorURL: "http://prometheus-k8s-0:9090/graph?g0.expr=max_over_time%28kube_pod_container_status_waiting_reason%5B5m%5D%29+%3E%3D+1&g0.tab=1",
			Fingerprint:  "8f1bd2b0c6f4e9a3d7c25e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b",
			Source:       "pagerduty",
			ExternalID:   "Q1ALRT0000001A",
		},
		{
			// Configured flat details win over the firing text, which fills in the rest.
			Name: "CheckoutHighErrorRate",
			Labels: map[string]string{
				"alertname": "CheckoutHighErrorRate", "service": "checkout", "namespace": "payments",
				"severity": "critical", "env": "prod", "route": "/api/v1/orders",
			},
			Annotations: map[string]string{
				"firing":       string(mustField(t, 1, "firing")),
				"num_firing":   "1",
				"num_resolved": "0",
				"summary":      "Checkout 5xx ratio is 7.3% (threshold 5%)",
				"description":  "More than 5% of checkout requests failed\nfor the last 10 minutes.\n\nSee the dashboard.",
				"runbook_url":  "https://github.com/acme/checkout/blob/main/runbooks/CheckoutHighErrorRate.md",
			},
			Summary:      "Checkout 5xx ratio is 7.3% (threshold 5%)",
			Description:  "More than 5% of checkout requests failed\nfor the last 10 minutes.\n\nSee the dashboard.",
			RunbookURL:   "https://github.com/acme/checkout/blob/main/runbooks/CheckoutHighErrorRate.md",
			Status:       "resolved",
			StartsAt:     mustTime(t, "2024-05-14T03:02:41Z"),
			GeneratorURL: "https://prometheus.acme.internal/graph?g0.expr=job%3Acheckout_errors%3Aratio5m+%3E+0.05",
			Fingerprint:  "0d6e5bd1c7a3f2e4",
			Source:       "pagerduty",
			ExternalID:   "Q1ALRT0000002B",
		},
		{
			// Nested labels and annotations maps; the runbook from a link context.
			Name: "CheckoutQueueBacklog",
			Labels: map[string]string{
				"alertname": "CheckoutQueueBacklog", "service": "checkout", "severity": "warning", "queue": "orders",
				"firing_since": "2024-05-14T03:05:00Z",
			},
			Annotations: map[string]string{
				"summary": "1.2k orders waiting in the checkout queue", "dashboard": "https://grafana.acme.internal/d/checkout-queue",
				"num_firing": "2", "num_resolved": "0",
			},
			Summary:     "1.2k orders waiting in the checkout queue",
			RunbookURL:  "https://wiki.acme.internal/runbooks/checkout-queue-backlog",
			Status:      "firing",
			StartsAt:    mustTime(t, "2024-05-14T03:05:12Z"),
			Fingerprint: "5d41402abc4b2a76b9719d911017c592aa1f7e8d0c3b5a6f4e2d1c0b9a8f7e6d",
			Source:      "pagerduty",
			ExternalID:  "Q1ALRT0000003C",
		},
		{
			// Not from Alertmanager: named after its summary.
			Name: "Disk space low on db-3.acme.internal (4.5% free)",
			Labels: map[string]string{
				"host": "db-3.acme.internal", "mount": "/var/lib/postgresql", "free_percent": "4.5",
				"severity": "error", "service": "Database infrastructure",
			},
			Summary:     "Disk space low on db-3.acme.internal (4.5% free)",
			Status:      "firing",
			StartsAt:    mustTime(t, "2024-05-14T03:09:55Z"),
			Fingerprint: "db-3.acme.internal/disk/var-lib-postgresql",
			Source:      "pagerduty",
			ExternalID:  "Q1ALRT0000004D",
		},
	}
	for i := range want {
		if !alertsEqual(got[i], want[i]) {
			gj, _ := json.MarshalIndent(got[i], "", "  ")
			wj, _ := json.MarshalIndent(want[i], "", "  ")
			t.Errorf("alert %d: got\n%s\nwant\n%s", i, gj, wj)
		}
	}
}

func alertsEqual(a, b runbooks.Alert) bool {
	aj, _ := json.Marshal(a)
	bj, _ := json.Marshal(b)
	return string(aj) == string(bj)
}

// mustField returns a details field of the i-th alert in the sample answer.
func mustField(t *testing.T, i int, key string) string {
	t.Helper()
	var list pd.ListAlertsResponse
	if err := json.Unmarshal(readTestdata(t, "incident_alerts.Q2K4FZ5M0ZP1AB.json"), &list); err != nil {
		t.Fatal(err)
	}
	cef, _ := list.Alerts[i].Body["cef_details"].(map[string]any)
	details, _ := cef["details"].(map[string]any)
	s, _ := details[key].(string)
	if s == "" {
		t.Fatalf("alert %d has no %s", i, key)
	}
	return s
}

func TestIncidentAlertsFailures(t *testing.T) {
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		status    int
		retryable bool
	}{
		{"a rejected token is not worth a retry", func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusUnauthorized, 2006, "Authentication failed")
		}, 401, false},
		{"a missing permission is not worth a retry", func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusForbidden, 2010, "Access Denied")
		}, 403, false},
		{"an unknown incident is not worth a retry", func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusNotFound, 2100, "Not Found")
		}, 404, false},
		{"a rate limit is worth a retry", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "30")
			writeError(w, http.StatusTooManyRequests, 2020, "Rate Limit Exceeded")
		}, 429, true},
		{"a server error without JSON is worth a retry", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		}, 500, true},
		{"an unavailable API is worth a retry", func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusServiceUnavailable, 0, "Service Unavailable")
		}, 503, true},
		{"an answer that is not JSON is not worth a retry", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `<html>captive portal</html>`)
		}, 0, false},
		{"an answer of the wrong shape is not worth a retry", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"alerts":{"id":"Q1"}}`)
		}, 0, false},
		{"more pages that never come is an error, not a loop", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"alerts":[],"limit":0,"offset":0,"more":true,"total":null}`)
		}, 0, false},
		{"a server that ignores the offset is an error, not a loop", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"alerts":[{"id":"Q1","summary":"again"}],"limit":1,"offset":0,"more":true,"total":null}`)
		}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			got, err := newTestClient(t, srv.URL).IncidentAlerts(t.Context(), "PGR0VU2")
			if err == nil {
				t.Fatalf("got %v, want an error", got)
			}
			checkError(t, err, "PGR0VU2", tt.status, tt.retryable)
			if tt.status != 0 {
				if ae, ok := errors.AsType[pd.APIError](err); !ok || ae.StatusCode != tt.status {
					t.Errorf("got %v, want a go-pagerduty APIError with status %d in the chain", err, tt.status)
				}
			}
		})
	}
}

// checkError checks what every client error must hold: the operation and
// incident, the status, the retry verdict, and never the token.
func checkError(t *testing.T, err error, incidentID string, status int, retryable bool) {
	t.Helper()
	e, ok := errors.AsType[*Error](err)
	if !ok {
		t.Fatalf("got %T %v, want *Error", err, err)
	}
	if e.Op != "list alerts" || e.StatusCode != status || e.Retry != retryable {
		t.Errorf("got op %q, status %d, retryable %v; want list alerts, %d, %v", e.Op, e.StatusCode, e.Retry, status, retryable)
	}
	if IsRetryable(err) != retryable || e.Retryable() != retryable {
		t.Errorf("got IsRetryable %v, Temporary %v; want %v", IsRetryable(err), e.Retryable(), retryable)
	}
	if want := "pagerduty: list alerts of incident " + incidentID + ": "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %q, want it to start with %q", err, want)
	}
	if strings.Contains(err.Error(), testToken) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), testToken) {
		t.Errorf("the error shows the token: %v", err)
	}
}

func TestIncidentAlertsWithAWrongTokenIsUnauthorized(t *testing.T) {
	_, srv := newFakePagerDuty(t, 100)
	c, err := NewClient(Config{Token: secret.New("not-" + testToken), APIURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.IncidentAlerts(t.Context(), "Q2K4FZ5M0ZP1AB")
	checkError(t, err, "Q2K4FZ5M0ZP1AB", 401, false)
	if strings.Contains(err.Error(), "not-"+testToken) {
		t.Errorf("the error shows the token: %v", err)
	}
}

func TestIncidentAlertsOfAnUnknownIncidentIsNotFound(t *testing.T) {
	_, srv := newFakePagerDuty(t, 100)
	_, err := newTestClient(t, srv.URL).IncidentAlerts(t.Context(), "PNOPE00")
	checkError(t, err, "PNOPE00", 404, false)
	if ae, ok := errors.AsType[pd.APIError](err); !ok || !ae.NotFound() {
		t.Errorf("got %v, want go-pagerduty to see a NotFound", err)
	}
}

func TestIncidentAlertsWhenPagerDutyCannotBeReachedIsWorthARetry(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := newTestClient(t, url).IncidentAlerts(t.Context(), "PGR0VU2")
	checkError(t, err, "PGR0VU2", 0, true)
}

func TestIncidentAlertsWithACancelledContextIsNotWorthARetry(t *testing.T) {
	_, srv := newFakePagerDuty(t, 100)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := newTestClient(t, srv.URL).IncidentAlerts(ctx, "Q2K4FZ5M0ZP1AB")
	checkError(t, err, "Q2K4FZ5M0ZP1AB", 0, false)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want it to match context.Canceled", err)
	}
}

func TestIncidentAlertsRefusesIDsThatWouldChangeThePath(t *testing.T) {
	f, srv := newFakePagerDuty(t, 100)
	c := newTestClient(t, srv.URL)
	for _, id := range []string{"", "../users", "PGR0VU2/notes", "PGR0VU2?x=1", "PGR0VU2#", "P GR", strings.Repeat("P", 65)} {
		_, err := c.IncidentAlerts(t.Context(), id)
		if !errors.Is(err, ErrInvalidID) || IsRetryable(err) {
			t.Errorf("IncidentAlerts(%q) = %v, want ErrInvalidID, not retryable", id, err)
		}
	}
	if len(f.queries) != 0 {
		t.Errorf("got requests %q, want none", f.queries)
	}
}

func TestNewClient(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"a token and no URL uses PagerDuty's API", Config{Token: secret.New(testToken)}, ""},
		{"a URL with a trailing slash is fine", Config{Token: secret.New(testToken), APIURL: "http://127.0.0.1:1/"}, ""},
		{"no token is an error", Config{APIURL: DefaultAPIURL}, "pagerduty: new client: no API token"},
		{"a URL without a scheme is an error", Config{Token: secret.New(testToken), APIURL: "api.pagerduty.com"}, `API URL "api.pagerduty.com" is not an http(s) address`},
		{"a URL of another scheme is an error", Config{Token: secret.New(testToken), APIURL: "ftp://example.com"}, "is not an http(s) address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(tt.cfg)
			if tt.wantErr == "" {
				if err != nil || c == nil {
					t.Fatalf("got %v, %v; want a client", c, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got %v, want an error saying %q", err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), testToken) {
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}
}

func TestNewClientTrimsTheURLsTrailingSlash(t *testing.T) {
	f, srv := newFakePagerDuty(t, 100)
	got, err := newTestClient(t, srv.URL+"/").IncidentAlerts(t.Context(), "Q2K4FZ5M0ZP1AB")
	if err != nil || len(got) != 4 || len(f.queries) != 1 {
		t.Errorf("got %d alerts, %v, after %d requests; want 4 alerts in one request", len(got), err, len(f.queries))
	}
}

func TestNewClientUsesTheGivenHTTPClient(t *testing.T) {
	_, srv := newFakePagerDuty(t, 100)
	var used bool
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		used = true
		return http.DefaultTransport.RoundTrip(r)
	})}
	c, err := NewClient(Config{Token: secret.New(testToken), APIURL: srv.URL, HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.IncidentAlerts(t.Context(), "Q2K4FZ5M0ZP1AB"); err != nil || !used {
		t.Errorf("got %v, used %v; want the request to go through the given client", err, used)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestClientNeverPrintsItsToken(t *testing.T) {
	c := newTestClient(t, DefaultAPIURL)
	var logs strings.Builder
	slog.New(slog.NewTextHandler(&logs, nil)).Info("built", "client", c)
	for name, out := range map[string]string{
		"%v":   fmt.Sprintf("%v", c),
		"%+v":  fmt.Sprintf("%+v", c),
		"%#v":  fmt.Sprintf("%#v", c),
		"slog": logs.String(),
	} {
		if strings.Contains(out, testToken) {
			t.Errorf("%s printed the token: %s", name, out)
		}
	}
}

func TestIsRetryableOfOtherErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil is not retryable", nil, false},
		{"a plain error is not retryable", errors.New("boom"), false},
		{"a go-pagerduty rate limit is retryable", pd.APIError{StatusCode: 429}, true},
		{"a wrapped go-pagerduty server error is retryable", fmt.Errorf("sync: %w", pd.APIError{StatusCode: 502}), true},
		{"a go-pagerduty 401 is not retryable", pd.APIError{StatusCode: 401}, false},
		{"a wrapped *Error keeps its verdict", fmt.Errorf("match: %w", &Error{Op: "list alerts", Retry: true}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsRetryable(tt.err); got != tt.want {
				t.Errorf("IsRetryable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
