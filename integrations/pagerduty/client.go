package pagerduty

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	pd "github.com/PagerDuty/go-pagerduty"

	"github.com/breadcrumb-oncall/breadcrumb/internal/fault"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// DefaultAPIURL is PagerDuty's REST API, used when Config.APIURL is empty.
const DefaultAPIURL = "https://api.pagerduty.com"

// Config configures a Client.
type Config struct {
	// Token is a PagerDuty REST API key (account or user token). Required.
	Token secret.String
	// APIURL is the REST API's base address; empty means DefaultAPIURL. Set
	// it to go through a proxy or to reach a test server.
	APIURL string
	// HTTPClient makes the requests; nil means go-pagerduty's default
	// client, which has connection timeouts but no overall one: bound each
	// call with its context.
	HTTPClient *http.Client
}

// Client reads incidents' alerts from PagerDuty's REST API. It is safe for
// concurrent use.
type Client struct {
	pd *pd.Client
}

// NewClient returns a client for the REST API described by cfg. It fails
// when the token is missing or the API URL is not an http(s) address.
func NewClient(cfg Config) (*Client, error) {
	if cfg.Token.IsZero() {
		return nil, errors.New("pagerduty: new client: no API token")
	}
	base := strings.TrimRight(cfg.APIURL, "/")
	if base == "" {
		base = DefaultAPIURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("pagerduty: new client: API URL %q is not an http(s) address", short(base))
	}
	c := pd.NewClient(cfg.Token.Reveal(), pd.WithAPIEndpoint(base))
	if cfg.HTTPClient != nil {
		c.HTTPClient = cfg.HTTPClient
	}
	c.HTTPClient = retryAfterRecorder{next: c.HTTPClient}
	return &Client{pd: c}, nil
}

// String names the client without its token, which a %v of the wrapped
// go-pagerduty client would print.
func (c *Client) String() string { return "pagerduty.Client" }

// GoString hides the token from %#v.
func (c *Client) GoString() string { return "pagerduty.Client{}" }

// LogValue hides the token from log/slog.
func (c *Client) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Error is a failed call to PagerDuty's REST API.
type Error struct {
	// Op is the operation, such as "list alerts".
	Op string
	// IncidentID is the incident the call was about.
	IncidentID string
	// StatusCode is the HTTP status PagerDuty answered, or 0 when there was
	// no answer (a network error, a cancelled context) or the call was not
	// made.
	StatusCode int
	// Retry says whether the same call may succeed later: true for a
	// rate limit (429), a server error (5xx) or a network failure; false
	// for a bad token (401), a missing permission (403), an unknown
	// incident (404), an invalid ID, an unreadable answer or a context
	// that is done.
	Retry bool
	// RetryAfter is how long PagerDuty asked to wait before the next call
	// (its Retry-After header on a 429 or 503); 0 when it did not say.
	RetryAfter time.Duration
	// Err is the cause: a go-pagerduty APIError, a network error, a
	// context error.
	Err error
}

// Error says what failed, for which incident, and why.
func (e *Error) Error() string {
	return fmt.Sprintf("pagerduty: %s of incident %s: %v", e.Op, e.IncidentID, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether trying the call again later may succeed,
// for fault.Retryable.
func (e *Error) Retryable() bool { return e.Retry }

// IsRetryable reports whether err, as returned by a Client, is worth
// retrying: true for rate limits, PagerDuty's server errors and network
// failures, false for everything else, nil included. It is
// fault.Retryable's verdict, and go-pagerduty's own for an APIError that
// no *Error wraps.
func IsRetryable(err error) bool {
	if retry, known := fault.Retryable(err); known {
		return retry
	}
	if e, ok := errors.AsType[pd.APIError](err); ok {
		return e.Temporary()
	}
	return false
}

// ErrInvalidID marks an incident ID that cannot be PagerDuty's: IDs are
// letters and digits, and anything else could change the request's path.
var ErrInvalidID = errors.New("not a PagerDuty ID")

var validID = regexp.MustCompile(`^[A-Za-z0-9]{1,64}$`)

const (
	pageSize = 100 // the most PagerDuty gives per page
	maxPages = 100 // 10,000 alerts: far past any real incident
)

// IncidentAlerts returns the alerts of the incident with the given ID, each
// converted by AlertFromIncidentAlert, in PagerDuty's order. It reads every
// page of GET /incidents/{id}/alerts.
//
// Errors are *Error values, with Op "list alerts"; IsRetryable tells
// whether a retry makes sense. An ID that is not letters and digits fails
// with an error matching ErrInvalidID before any request.
func (c *Client) IncidentAlerts(ctx context.Context, incidentID string) ([]runbooks.Alert, error) {
	const op = "list alerts"
	if !validID.MatchString(incidentID) {
		return nil, &Error{Op: op, IncidentID: fmt.Sprintf("%q", short(incidentID)), Err: ErrInvalidID}
	}
	var out []runbooks.Alert
	opts := pd.ListIncidentAlertsOptions{Limit: pageSize}
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, &Error{Op: op, IncidentID: incidentID, Err: fmt.Errorf("more than %d pages of alerts", maxPages)}
		}
		callCtx, wait := withRetryAfter(ctx)
		resp, err := c.pd.ListIncidentAlertsWithContext(callCtx, incidentID, opts)
		if err != nil {
			return nil, apiError(ctx, op, incidentID, err, wait)
		}
		for _, a := range resp.Alerts {
			out = append(out, AlertFromIncidentAlert(a))
		}
		if !resp.More {
			return out, nil
		}
		// The next page starts where this one ended. PagerDuty echoes the
		// limit it applied, which may be less than asked for.
		step := resp.Limit
		if step == 0 {
			step = uint(len(resp.Alerts))
		}
		next := resp.Offset + step
		if next <= opts.Offset {
			return nil, &Error{Op: op, IncidentID: incidentID, Err: errors.New("PagerDuty said there were more alerts but the next page would not move on")}
		}
		opts.Offset = next
	}
}

// apiError wraps a go-pagerduty error and decides whether a retry can help.
func apiError(ctx context.Context, op, incidentID string, err error, wait *retryAfter) error {
	e := &Error{Op: op, IncidentID: incidentID, Err: err}
	if ae, ok := errors.AsType[pd.APIError](err); ok {
		e.StatusCode = ae.StatusCode
		e.Retry = ae.Temporary()
		if wait != nil {
			e.RetryAfter = wait.d
		}
		return e
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		// go-pagerduty flattens transport errors to text; put the context's
		// error back in the chain so that errors.Is finds it.
		e.Err = fmt.Errorf("%w (%v)", ctxErr, err)
		return e
	}
	// A 2xx answer that is not the JSON expected fails in decoding, and the
	// same answer would come again. What is left failed on the way there or
	// back (go-pagerduty keeps only the text of transport errors).
	if isJSONError(err) {
		e.Err = fmt.Errorf("unreadable answer: %w", err)
		return e
	}
	e.Retry = true
	return e
}

func isJSONError(err error) bool {
	if _, ok := errors.AsType[*json.SyntaxError](err); ok {
		return true
	}
	_, ok := errors.AsType[*json.UnmarshalTypeError](err)
	return ok
}
