package pagerduty

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"strconv"
	"strings"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"
)

// ErrNoFrom marks a change sent without the From address that PagerDuty
// requires to know which user made it.
var ErrNoFrom = errors.New("no From address (the email of a PagerDuty user)")

// SetStatus moves a PagerDuty incident to status, "acknowledged" or
// "resolved", on behalf of the PagerDuty user whose email is from, with
// PUT /incidents (go-pagerduty's ManageIncidents).
//
// Errors are *Error values with Op "acknowledge" or "resolve", and say
// through IsRetryable and RetryAfter whether and when to try again. An ID
// that is not letters and digits, another status or a missing From fail
// before any request, not retryable.
func (c *Client) SetStatus(ctx context.Context, incidentID, status, from string) error {
	op := map[string]string{"acknowledged": "acknowledge", "resolved": "resolve"}[status]
	if op == "" {
		return &Error{Op: "set status", IncidentID: incidentID, Err: fmt.Errorf("status %q is not acknowledged or resolved", short(status))}
	}
	if err := checkCall(op, incidentID, from); err != nil {
		return err
	}
	callCtx, wait := withRetryAfter(ctx)
	_, err := c.pd.ManageIncidentsWithContext(callCtx, from, []pd.ManageIncidentsOptions{{ID: incidentID, Status: status}})
	if err != nil {
		return apiError(ctx, op, incidentID, err, wait)
	}
	return nil
}

// AddNote adds a note to a PagerDuty incident on behalf of the PagerDuty
// user whose email is from, with POST /incidents/{id}/notes (go-pagerduty's
// CreateIncidentNote), and returns the new note's ID. Errors are as
// SetStatus's, with Op "add note".
func (c *Client) AddNote(ctx context.Context, incidentID, from, content string) (string, error) {
	const op = "add note"
	if err := checkCall(op, incidentID, from); err != nil {
		return "", err
	}
	if strings.TrimSpace(content) == "" {
		return "", &Error{Op: op, IncidentID: incidentID, Err: errors.New("the note is empty")}
	}
	callCtx, wait := withRetryAfter(ctx)
	note, err := c.pd.CreateIncidentNoteWithContext(callCtx, incidentID, pd.IncidentNote{
		Content: content,
		// go-pagerduty sends the user's summary as the From header.
		User: pd.APIObject{Summary: from},
	})
	if err != nil {
		return "", apiError(ctx, op, incidentID, err, wait)
	}
	return note.ID, nil
}

func checkCall(op, incidentID, from string) error {
	if !validID.MatchString(incidentID) {
		return &Error{Op: op, IncidentID: fmt.Sprintf("%q", short(incidentID)), Err: ErrInvalidID}
	}
	if from == "" {
		return &Error{Op: op, IncidentID: incidentID, Err: ErrNoFrom}
	}
	if _, err := mail.ParseAddress(from); err != nil || strings.ContainsAny(from, "\r\n") {
		return &Error{Op: op, IncidentID: incidentID, Err: fmt.Errorf("the From address %q is not an email address", short(from))}
	}
	return nil
}

// retryAfter receives the Retry-After of a call's answer.
type retryAfter struct{ d time.Duration }

type retryAfterKey struct{}

// withRetryAfter returns a context under which retryAfterRecorder keeps
// the Retry-After of the answer, go-pagerduty's errors keeping only the
// status.
func withRetryAfter(ctx context.Context) (context.Context, *retryAfter) {
	w := &retryAfter{}
	return context.WithValue(ctx, retryAfterKey{}, w), w
}

// retryAfterRecorder wraps the HTTP client that go-pagerduty uses.
type retryAfterRecorder struct{ next pd.HTTPClient }

func (r retryAfterRecorder) Do(req *http.Request) (*http.Response, error) {
	resp, err := r.next.Do(req)
	if err != nil || resp == nil {
		return resp, err
	}
	if w, ok := req.Context().Value(retryAfterKey{}).(*retryAfter); ok {
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			w.d = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
	}
	return resp, nil
}

// parseRetryAfter reads a Retry-After value: a number of seconds or an
// HTTP date. It returns 0 for a value it cannot read or a time past.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n <= 0 {
			return 0
		}
		return time.Duration(min(n, 24*3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
