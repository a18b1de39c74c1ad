package slack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	slackgo "github.com/slack-go/slack"
)

// ErrClosed is returned for work handed to an outbox that is closing.
var ErrClosed = errors.New("slack: outbox closed")

// Error is a failed call to Slack's Web API. It says whether another try
// makes sense (bot.Retryable) and, for a rate limit, how long to wait.
type Error struct {
	// Method is the Web API method ("chat.postMessage").
	Method string
	// Target is the channel, message or form the call was about.
	Target string
	// RetryAfter is Slack's Retry-After for a rate limit, else zero.
	RetryAfter time.Duration
	Err        error

	retry bool
	// maybeSent marks a failure after which the request may still have
	// taken effect (a timeout, a 5xx): a post must be looked for before
	// it is sent again.
	maybeSent bool
}

var _ interface{ Retryable() bool } = (*Error)(nil) // read by fault.Retryable

func (e *Error) Error() string {
	if e.Target == "" {
		return fmt.Sprintf("slack: %s: %v", e.Method, e.Err)
	}
	return fmt.Sprintf("slack: %s %s: %v", e.Method, e.Target, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether the call is worth another try later: a rate
// limit, a timeout, a server error.
func (e *Error) Retryable() bool { return e.retry }

// RateLimited reports whether Slack answered 429.
func (e *Error) RateLimited() bool { return e.RetryAfter > 0 }

// apiError wraps err from a Web API call and classifies it.
func apiError(method, target string, err error) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	e := &Error{Method: method, Target: target, Err: err}
	var rl *slackgo.RateLimitedError
	var sc slackgo.StatusCodeError
	var se slackgo.SlackErrorResponse
	var ne net.Error
	var ue *url.Error
	switch {
	case errors.Is(err, context.Canceled):
		// The caller gave up; nothing to retry on its behalf.
	case errors.As(err, &rl):
		e.retry = true
		e.RetryAfter = max(rl.RetryAfter, time.Second)
	case errors.As(err, &sc):
		switch {
		case sc.Code == 429:
			e.retry = true
			e.RetryAfter = time.Second
		case sc.Code >= 500:
			e.retry, e.maybeSent = true, true
		}
	case errors.As(err, &se):
		switch se.Err {
		case "ratelimited", "rate_limited":
			e.retry = true
			e.RetryAfter = time.Second
		case "internal_error", "fatal_error", "service_unavailable", "request_timeout":
			e.retry, e.maybeSent = true, true
		}
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		e.retry, e.maybeSent = true, true
	case errors.As(err, &ue):
		// Refused or reset connections: Slack may or may not have read
		// the request.
		e.retry, e.maybeSent = true, true
	}
	return e
}

// slackErrorIs reports whether err is Slack's error answer code.
func slackErrorIs(err error, code string) bool {
	var se slackgo.SlackErrorResponse
	return errors.As(err, &se) && se.Err == code
}
