package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/integrations/alertmanager"
	"github.com/breadcrumb-oncall/breadcrumb/integrations/pagerduty"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
	"github.com/breadcrumb-oncall/breadcrumb/search"
)

// maxAlertsBody is the largest webhook body that match reads.
const maxAlertsBody = 10 << 20

// alertReader turns a webhook body into alerts: an Alertmanager v4 body
// gives each of its alerts; a PagerDuty v3 body gives its incident's alerts
// from the REST API when a token is configured, else the incident itself.
type alertReader struct {
	pd *pagerduty.Client // nil without PAGERDUTY_API_TOKEN
}

func newAlertReader(getenv func(string) string) (*alertReader, error) {
	token, err := readSecret(getenv, "PAGERDUTY_API_TOKEN")
	if err != nil || token.IsZero() {
		return &alertReader{}, err
	}
	c, err := pagerduty.NewClient(pagerduty.Config{Token: token, APIURL: getenv("PAGERDUTY_API_URL")})
	if err != nil {
		return nil, err
	}
	return &alertReader{pd: c}, nil
}

// errUnknownBody is returned for a body that is neither format.
var errUnknownBody = errors.New(`not an Alertmanager webhook (v4, with "alerts") nor a PagerDuty v3 webhook (with "event")`)

// read decodes body. A PagerDuty incident whose alerts cannot be fetched
// still gives the incident, with the error as a warning.
func (r *alertReader) read(ctx context.Context, body []byte) (alerts []runbooks.Alert, warning error, err error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(body, &probe); err != nil {
		return nil, nil, fmt.Errorf("the body is not a JSON object: %w", err)
	}
	switch {
	case probe["event"] != nil:
		ev, err := pagerduty.DecodeWebhook(bytes.NewReader(body), maxAlertsBody)
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
		msg, err := alertmanager.Decode(bytes.NewReader(body), maxAlertsBody)
		if err != nil {
			return nil, nil, err
		}
		return msg.Alerts(), nil, nil
	}
	return nil, nil, errUnknownBody
}

func runMatch(ctx context.Context, e env, args []string) int {
	var cfgFile, alertsFile string
	var dirs stringList
	var asJSON bool
	var limit int
	fs := newFlags(e, "match", &cfgFile)
	fs.Var(&dirs, "runbooks", "add a runbooks `DIR` as a source (repeatable)")
	fs.StringVar(&alertsFile, "alerts", "", "the webhook body: a `FILE`, or - for standard input")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object per alert")
	fs.IntVar(&limit, "limit", 3, "at most `N` candidates per alert")
	rest, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if alertsFile == "" || len(rest) > 0 || limit <= 0 {
		fs.Usage()
		return exitUsage
	}
	var in io.Reader = e.stdin
	if alertsFile != "-" {
		f, err := os.Open(alertsFile)
		if err != nil {
			fmt.Fprintf(e.stderr, "breadcrumb match: %v\n", err)
			return exitUsage
		}
		defer f.Close()
		in = f
	}
	body, err := io.ReadAll(io.LimitReader(in, maxAlertsBody+1))
	if err != nil {
		fmt.Fprintf(e.stderr, "breadcrumb match: %v\n", err)
		return exitUsage
	}
	if len(body) > maxAlertsBody {
		fmt.Fprintf(e.stderr, "breadcrumb match: the alerts body is over %d bytes\n", maxAlertsBody)
		return exitUsage
	}
	cfg, err := loadConfig(cfgFile, e.getenv)
	if err != nil {
		fmt.Fprintf(e.stderr, "breadcrumb match: %v\n", err)
		return exitUsage
	}
	reader, err := newAlertReader(e.getenv)
	if err != nil {
		fmt.Fprintf(e.stderr, "breadcrumb match: %v\n", err)
		return exitUsage
	}
	alerts, warning, err := reader.read(ctx, body)
	if err != nil {
		fmt.Fprintf(e.stderr, "breadcrumb match: %s: %v\n", alertsFile, err)
		return exitUsage
	}
	if warning != nil {
		fmt.Fprintf(e.stderr, "breadcrumb match: warning: the incident's alerts could not be fetched, matching its title only: %v\n", warning)
	}
	if len(alerts) == 0 {
		fmt.Fprintf(e.stderr, "breadcrumb match: %s holds no alerts\n", alertsFile)
		return exitOK
	}
	lib, ok := cliRunbooks(ctx, e, "match", cfg, dirs)
	if !ok {
		return exitUsage
	}
	ix, _, ok := openSearchIndex(e, "match", cfg, lib, false)
	if !ok {
		return exitUsage
	}
	defer ix.Close()
	results, err := search.NewMatcher(lib, ix).MatchEach(ctx, alerts, limit)
	if err != nil {
		fmt.Fprintf(e.stderr, "breadcrumb match: %v\n", err)
		return exitUsage
	}
	for _, r := range results {
		if asJSON {
			b, _ := json.Marshal(r)
			fmt.Fprintf(e.stdout, "%s\n", b)
			continue
		}
		head := printable(r.Alert)
		if r.Fingerprint != "" {
			head += " (" + printable(r.Fingerprint) + ")"
		}
		fmt.Fprintln(e.stdout, head)
		if len(r.Candidates) == 0 {
			fmt.Fprintln(e.stdout, "  no runbook found")
		}
		for i, c := range r.Candidates {
			anchor := ""
			if c.Anchor != "" {
				anchor = "#" + c.Anchor
			}
			fmt.Fprintf(e.stdout, "  %d. %s  %s:%s%s  (%.2f)\n     %s\n", i+1, printable(c.Title), c.Source, c.Path, anchor, c.Score, printable(c.Reason))
		}
	}
	return exitOK
}
