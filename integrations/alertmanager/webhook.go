package alertmanager

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/integrations/internal/payload"
	"github.com/breadcrumb-oncall/breadcrumb/internal/fault"
)

// Version is the only webhook payload version Decode accepts.
const Version = "4"

// DefaultLimit is the body size Decode allows when it is given a limit of
// zero or less: far more than a group of several thousand alerts needs.
const DefaultLimit = 10 << 20

// Decode errors. Every error Decode returns for a bad body matches one of
// them with errors.Is, so that an HTTP edge can answer 400 or 413 without
// reading the message.
var (
	// ErrInvalid marks a body that is not an Alertmanager v4 webhook.
	ErrInvalid = errors.New("invalid alertmanager webhook")
	// ErrTooLarge marks a body over the size limit.
	ErrTooLarge = errors.New("alertmanager webhook too large")
)

// Message is the body of one Alertmanager webhook notification (payload
// version 4): a group of alerts that share a route and a receiver.
//
// The alerts are in AlertList rather than a field named Alerts because
// Alerts is the method that converts them to runbooks.Alert values.
type Message struct {
	// Version is the payload version, "4" for every Alertmanager since 0.11.
	Version string `json:"version"`
	// GroupKey identifies the alert group; Alertmanager sends the same key
	// for every notification about the group, so it can deduplicate.
	GroupKey string `json:"groupKey"`
	// TruncatedAlerts is how many alerts were left out because of the
	// receiver's max_alerts setting.
	TruncatedAlerts int `json:"truncatedAlerts"`
	// Status is "firing" while any alert of the group fires, else "resolved".
	Status   string `json:"status"`
	Receiver string `json:"receiver"`
	// GroupLabels are the labels the route groups by.
	GroupLabels map[string]string `json:"groupLabels"`
	// CommonLabels and CommonAnnotations are those that every alert of the
	// group carries with the same value.
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	// ExternalURL is the Alertmanager's own address, a backlink to it.
	ExternalURL string `json:"externalURL"`
	// NotificationReason says why this notification was sent; only recent
	// Alertmanager versions send it.
	NotificationReason string `json:"notification_reason,omitempty"`
	// AlertList holds the alerts of the group, the "alerts" array.
	AlertList []Alert `json:"alerts"`
}

// Alert is one alert of a webhook Message, as Alertmanager sends it.
type Alert struct {
	// Status is "firing" or "resolved".
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	// StartsAt and EndsAt are zero when the body leaves them out or empty;
	// Alertmanager sends "0001-01-01T00:00:00Z", also zero, as the EndsAt of
	// an alert that still fires.
	StartsAt time.Time `json:"startsAt"`
	EndsAt   time.Time `json:"endsAt"`
	// GeneratorURL links to what raised the alert (a Prometheus graph).
	GeneratorURL string `json:"generatorURL"`
	// Fingerprint identifies the alert by its labels.
	Fingerprint string `json:"fingerprint"`
}

// UnmarshalJSON reads an alert, taking an empty or null time as zero: hand
// written bodies given to `breadcrumb match` often have "endsAt": "".
func (a *Alert) UnmarshalJSON(b []byte) error {
	// The times are read as raw values; the other fields keep their names
	// so that a type error names the field as the sender wrote it.
	var wire struct {
		Status       string            `json:"status"`
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		StartsAt     json.RawMessage   `json:"startsAt"`
		EndsAt       json.RawMessage   `json:"endsAt"`
		GeneratorURL string            `json:"generatorURL"`
		Fingerprint  string            `json:"fingerprint"`
	}
	if err := json.Unmarshal(b, &wire); err != nil {
		return err
	}
	starts, err := parseTime("startsAt", wire.StartsAt)
	if err != nil {
		return err
	}
	ends, err := parseTime("endsAt", wire.EndsAt)
	if err != nil {
		return err
	}
	*a = Alert{
		Status:       wire.Status,
		Labels:       wire.Labels,
		Annotations:  wire.Annotations,
		StartsAt:     starts,
		EndsAt:       ends,
		GeneratorURL: wire.GeneratorURL,
		Fingerprint:  wire.Fingerprint,
	}
	return nil
}

// timeError is a time field that is not an RFC 3339 time. Decode turns it
// into a plain message naming the field.
type timeError struct {
	field, value string
}

func (e *timeError) Error() string {
	return fmt.Sprintf("%s %s is not an RFC 3339 time", e.field, e.value)
}

func parseTime(field string, raw json.RawMessage) (time.Time, error) {
	if len(raw) == 0 || string(raw) == "null" || string(raw) == `""` {
		return time.Time{}, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return time.Time{}, &timeError{field: field, value: short(string(raw))}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, &timeError{field: field, value: fmt.Sprintf("%q", short(s))}
	}
	return t, nil
}

// Decode reads one webhook body from r, at most limit bytes of it (a limit
// of zero or less means DefaultLimit).
//
// It rejects, with an error matching ErrInvalid, a body that is empty, is
// not a JSON object, has a version other than "4", or has no alerts array,
// and, with an error matching ErrTooLarge, a body over the limit. Unknown
// fields are ignored, and a missing field is left zero. An error reading r
// is returned wrapped as it is.
func Decode(r io.Reader, limit int64) (*Message, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	body, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, tooLarge(limit)
		}
		return nil, fmt.Errorf("alertmanager: read webhook body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, tooLarge(limit)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, invalid(nil, "the body is empty, want an Alertmanager webhook (JSON)")
	}
	var m Message
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, invalid(err, jsonProblem(err))
	}
	switch {
	case m.Version == "":
		return nil, invalid(nil, `the body has no "version", want "4" (an Alertmanager webhook)`)
	case m.Version != Version:
		return nil, invalid(nil, fmt.Sprintf("unsupported webhook version %q, want %q", short(m.Version), Version))
	case m.AlertList == nil:
		return nil, invalid(nil, `the body has no "alerts" array`)
	}
	return &m, nil
}

func invalid(cause error, msg string) error {
	return &fault.Error{Op: "alertmanager", Kind: ErrInvalid, Msg: msg, Cause: cause}
}

func tooLarge(limit int64) error { return payload.TooLarge("alertmanager", ErrTooLarge, limit) }

// jsonProblem says in a sentence what is wrong with a body that
// json.Unmarshal refused.
func jsonProblem(err error) string {
	if te, ok := errors.AsType[*timeError](err); ok {
		return "an alert's " + te.Error()
	}
	return payload.Describe("the body", err)
}

var short = payload.Short
