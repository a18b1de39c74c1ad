package pagerduty

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// pagerDutyUsers are the emails the test account knows, for From.
var pagerDutyUsers = map[string]bool{"dana@acme.example": true, "breadcrumb@acme.example": true, "sam@acme.example": true}

// authorised checks the token and the From header as PagerDuty does, and
// answers the next failure asked for, if any. It reports whether the
// request may go on.
func (f *fakePagerDuty) authorised(w http.ResponseWriter, r *http.Request) bool {
	if got := r.Header.Get("Authorization"); got != "Token token="+testToken {
		writeError(w, http.StatusUnauthorized, 2006, "Authentication failed")
		return false
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		f.t.Errorf("got Content-Type %q, want application/json", got)
	}
	f.mu.Lock()
	var fail http.HandlerFunc
	if len(f.failures) > 0 {
		fail, f.failures = f.failures[0], f.failures[1:]
	}
	f.mu.Unlock()
	if fail != nil {
		fail(w, r)
		return false
	}
	if from := r.Header.Get("From"); !pagerDutyUsers[from] {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": "Invalid Input Provided", "code": 2001,
			"errors": []string{fmt.Sprintf("The From header %q is not the email of a user of this account.", from)}}})
		return false
	}
	return true
}

func (f *fakePagerDuty) failNext(h ...http.HandlerFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures = append(f.failures, h...)
}

func (f *fakePagerDuty) failuresLeft() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.failures)
}

func (f *fakePagerDuty) recorded() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakePagerDuty) manageIncidents(w http.ResponseWriter, r *http.Request) {
	if !f.authorised(w, r) {
		return
	}
	var req struct {
		Incidents []struct {
			ID     string `json:"id"`
			Type   string `json:"type"`
			Status string `json:"status"`
		} `json:"incidents"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Incidents) == 0 {
		writeError(w, http.StatusBadRequest, 2001, "Invalid Input Provided")
		return
	}
	var out []map[string]any
	for _, inc := range req.Incidents {
		if inc.Type != "incident" || (inc.Status != "acknowledged" && inc.Status != "resolved") {
			writeError(w, http.StatusBadRequest, 2001, "Invalid Input Provided")
			return
		}
		f.mu.Lock()
		f.calls = append(f.calls, fmt.Sprintf("PUT /incidents %s %s from=%s", inc.ID, inc.Status, r.Header.Get("From")))
		f.mu.Unlock()
		out = append(out, map[string]any{
			"id": inc.ID, "type": "incident", "status": inc.Status, "summary": "[#4812] KubePodCrashLooping",
			"self": "https://api.pagerduty.com/incidents/" + inc.ID, "html_url": "https://acme.pagerduty.com/incidents/" + inc.ID,
		})
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"incidents": out, "limit": len(out), "offset": 0, "total": nil, "more": false})
}

func (f *fakePagerDuty) createNote(w http.ResponseWriter, r *http.Request) {
	if !f.authorised(w, r) {
		return
	}
	var req struct {
		Note struct {
			Content string `json:"content"`
		} `json:"note"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Note.Content == "" {
		writeError(w, http.StatusBadRequest, 2001, "Invalid Input Provided")
		return
	}
	f.mu.Lock()
	f.notes++
	id := fmt.Sprintf("PNOTE%03d", f.notes)
	f.calls = append(f.calls, fmt.Sprintf("POST /incidents/%s/notes from=%s: %s", r.PathValue("id"), r.Header.Get("From"), req.Note.Content))
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"note": map[string]any{
		"id": id, "content": req.Note.Content, "created_at": "2024-05-14T03:20:00-00:00",
		"user": map[string]any{"id": "PB3ON3Z", "type": "user_reference", "summary": "Dana Okafor"},
	}})
}

func rateLimited(retryAfter string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		writeError(w, http.StatusTooManyRequests, 2020, "Rate Limit Exceeded")
	}
}

func serverError(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "Internal Server Error", http.StatusInternalServerError)
}

func TestSetStatusSendsTheChangeAsTheGivenUser(t *testing.T) {
	f, srv := newFakePagerDuty(t, 100)
	c := newTestClient(t, srv.URL)
	if err := c.SetStatus(t.Context(), "Q2K4FZ5M0ZP1AB", "acknowledged", "dana@acme.example"); err != nil {
		t.Fatalf("SetStatus: %v", err)
	}
	if err := c.SetStatus(t.Context(), "Q2K4FZ5M0ZP1AB", "resolved", "sam@acme.example"); err != nil {
		t.Fatalf("SetStatus: %v", err)
	}
	want := "PUT /incidents Q2K4FZ5M0ZP1AB acknowledged from=dana@acme.example|PUT /incidents Q2K4FZ5M0ZP1AB resolved from=sam@acme.example"
	if got := strings.Join(f.recorded(), "|"); got != want {
		t.Errorf("got calls %q, want %q", got, want)
	}
}

func TestAddNoteReturnsTheNoteID(t *testing.T) {
	f, srv := newFakePagerDuty(t, 100)
	id, err := newTestClient(t, srv.URL).AddNote(t.Context(), "Q2K4FZ5M0ZP1AB", "dana@acme.example", "Rolled back")
	if err != nil || id != "PNOTE001" {
		t.Fatalf("got %q, %v; want PNOTE001", id, err)
	}
	if got, want := f.recorded(), "POST /incidents/Q2K4FZ5M0ZP1AB/notes from=dana@acme.example: Rolled back"; len(got) != 1 || got[0] != want {
		t.Errorf("got calls %q, want %q", got, want)
	}
}

func TestWriteFailures(t *testing.T) {
	tests := []struct {
		name       string
		failure    http.HandlerFunc
		from       string
		status     int
		retryable  bool
		retryAfter time.Duration
	}{
		{"a rate limit is worth a retry after the time asked", rateLimited("7"), "dana@acme.example", 429, true, 7 * time.Second},
		{"a rate limit without Retry-After is worth a retry", rateLimited(""), "dana@acme.example", 429, true, 0},
		{"a server error is worth a retry", serverError, "dana@acme.example", 500, true, 0},
		{"a rejected token is not worth a retry", func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusUnauthorized, 2006, "Authentication failed")
		}, "dana@acme.example", 401, false, 0},
		{"a From that is no user is not worth a retry", nil, "nobody@acme.example", 400, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFakePagerDuty(t, 100)
			if tt.failure != nil {
				f.failNext(tt.failure, tt.failure)
			}
			c := newTestClient(t, srv.URL)
			errs := []error{c.SetStatus(t.Context(), "Q2K4FZ5M0ZP1AB", "resolved", tt.from)}
			_, err := c.AddNote(t.Context(), "Q2K4FZ5M0ZP1AB", tt.from, "x")
			errs = append(errs, err)
			for i, err := range errs {
				e, ok := errors.AsType[*Error](err)
				if !ok {
					t.Fatalf("call %d: got %v, want *Error", i, err)
				}
				if e.StatusCode != tt.status || IsRetryable(err) != tt.retryable || e.RetryAfter != tt.retryAfter {
					t.Errorf("call %d: got status %d, retryable %v, retry after %v; want %d, %v, %v",
						i, e.StatusCode, IsRetryable(err), e.RetryAfter, tt.status, tt.retryable, tt.retryAfter)
				}
				if strings.Contains(fmt.Sprintf("%v %+v", err, err), testToken) {
					t.Errorf("the error shows the token: %v", err)
				}
			}
			if got := f.recorded(); len(got) != 0 {
				t.Errorf("got calls %q, want none to succeed", got)
			}
		})
	}
}

func TestWritesRefuseBadInputBeforeAnyRequest(t *testing.T) {
	f, srv := newFakePagerDuty(t, 100)
	c := newTestClient(t, srv.URL)
	tests := []struct {
		name string
		call func() error
	}{
		{"an ID that would change the path", func() error {
			return c.SetStatus(t.Context(), "Q1/../users", "resolved", "dana@acme.example")
		}},
		{"a status PagerDuty cannot be set to", func() error { return c.SetStatus(t.Context(), "Q1", "mitigated", "dana@acme.example") }},
		{"no From", func() error { return c.SetStatus(t.Context(), "Q1", "resolved", "") }},
		{"a From with a line break", func() error {
			return c.SetStatus(t.Context(), "Q1", "resolved", "dana@acme.example\r\nX-Evil: 1")
		}},
		{"an empty note", func() error { _, err := c.AddNote(t.Context(), "Q1", "dana@acme.example", " "); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err == nil || IsRetryable(err) {
				t.Errorf("got %v, want an error not worth a retry", err)
			}
		})
	}
	if len(f.queries)+len(f.recorded()) != 0 {
		t.Errorf("got requests, want none")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2024, 5, 14, 3, 0, 0, 0, time.UTC)
	tests := []struct {
		name, value string
		want        time.Duration
	}{
		{"seconds are read", "30", 30 * time.Second},
		{"an HTTP date is read", "Tue, 14 May 2024 03:00:10 GMT", 10 * time.Second},
		{"a date past is no wait", "Tue, 14 May 2024 02:00:00 GMT", 0},
		{"nonsense is no wait", "soon", 0},
		{"a negative number is no wait", "-3", 0},
		{"an absurd number is capped at a day", "99999999", 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseRetryAfter(tt.value, now); got != tt.want {
				t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}
