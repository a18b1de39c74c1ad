package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/integrations/alertmanager"
	"github.com/breadcrumb-oncall/breadcrumb/integrations/pagerduty"
	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// MaxAlertsBody is the largest webhook body an AlertReader reads.
const MaxAlertsBody = 10 << 20

// AlertReader turns a webhook body into alerts: an Alertmanager v4 body
// gives each of its alerts; a PagerDuty v3 body gives its incident's alerts
// from the REST API when a token is configured, else the incident itself.
type AlertReader struct {
	pd *pagerduty.Client // nil without PAGERDUTY_API_TOKEN
}

// NewAlertReader returns a reader that fetches a PagerDuty incident's
// alerts with token, when it is set, from apiURL ("" for PagerDuty's).
func NewAlertReader(token secret.String, apiURL string) (*AlertReader, error) {
	if token.IsZero() {
		return &AlertReader{}, nil
	}
	c, err := pagerduty.NewClient(pagerduty.Config{Token: token, APIURL: apiURL})
	if err != nil {
		return nil, err
	}
	return &AlertReader{pd: c}, nil
}

// ErrUnknownBody is returned for a body that is neither format.
var ErrUnknownBody = errors.New(`not an Alertmanager webhook (v4, with "alerts") nor a PagerDuty v3 webhook (with "event")`)

// wantedBody says what a body should be, for a person who sent another.
const wantedBody = `an Alertmanager webhook body (version 4, with "alerts") or a PagerDuty v3 webhook body (with "event")`

// notAnObject explains a body that is not a JSON object: where it stops
// being JSON, or what it is instead, and what was expected.
func notAnObject(body []byte, err error) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return fmt.Errorf("the body is empty; want %s", wantedBody)
	}
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		at := int(syntax.Offset) - 1
		at = max(0, min(at, len(body)))
		near := strings.ToValidUTF8(string(body[max(0, at-10):min(len(body), at+20)]), "?")
		return fmt.Errorf("the body is not JSON: it goes wrong at byte %d, near %q; want %s", at+1, near, wantedBody)
	}
	return fmt.Errorf("the body is JSON but not an object; want %s", wantedBody)
}

// Read decodes body. A PagerDuty incident whose alerts cannot be fetched
// still gives the incident, with the error as a warning.
func (r *AlertReader) Read(ctx context.Context, body []byte) (alerts []runbooks.Alert, warning error, err error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(body, &probe); err != nil {
		return nil, nil, notAnObject(body, err)
	}
	switch {
	case probe["event"] != nil:
		ev, err := pagerduty.DecodeWebhook(bytes.NewReader(body), MaxAlertsBody)
		if err != nil {
			return nil, nil, err
		}
		inc, err := ev.Incident()
		if err != nil {
			return nil, nil, err
		}
		if r.pd != nil {
			fetchCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			fetched, ferr := r.pd.IncidentAlerts(fetchCtx, inc.ID)
			if ferr == nil && len(fetched) > 0 {
				return fetched, nil, nil
			}
			warning = ferr
		}
		return []runbooks.Alert{pagerduty.AlertFromIncident(inc)}, warning, nil
	case probe["alerts"] != nil || probe["version"] != nil:
		msg, err := alertmanager.Decode(bytes.NewReader(body), MaxAlertsBody)
		if err != nil {
			return nil, nil, err
		}
		return msg.Alerts(), nil, nil
	}
	return nil, nil, ErrUnknownBody
}
