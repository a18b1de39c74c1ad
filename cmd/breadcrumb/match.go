package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/breadcrumb-oncall/breadcrumb/internal/app"
	"github.com/breadcrumb-oncall/breadcrumb/search"
)

func runMatch(ctx context.Context, e env, args []string) int {
	var cfgFile, alertsFile string
	var dirs stringList
	var asJSON bool
	var limit int
	fs := newFlags(e, "match", &cfgFile)
	fs.Var(&dirs, "runbooks", "add a runbooks `DIR` as a source (repeatable)")
	fs.StringVar(&alertsFile, "alerts", "", "the webhook body: a `FILE`, or - for standard input (a lone FILE argument is the same)")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object per alert")
	fs.IntVar(&limit, "limit", 3, "at most `N` candidates per alert")
	rest, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if alertsFile == "" && len(rest) == 1 {
		// "match alerts.json": the lone argument is the body.
		alertsFile, rest = rest[0], nil
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
	body, err := io.ReadAll(io.LimitReader(in, app.MaxAlertsBody+1))
	if err != nil {
		fmt.Fprintf(e.stderr, "breadcrumb match: %v\n", err)
		return exitUsage
	}
	if len(body) > app.MaxAlertsBody {
		fmt.Fprintf(e.stderr, "breadcrumb match: the alerts body is over %d bytes\n", app.MaxAlertsBody)
		return exitUsage
	}
	cfg, err := app.LoadConfig(cfgFile, e.getenv)
	if err != nil {
		fmt.Fprintf(e.stderr, "breadcrumb match: %v\n", err)
		return exitUsage
	}
	token, err := app.ReadSecret(e.getenv, "PAGERDUTY_API_TOKEN")
	if err != nil {
		fmt.Fprintf(e.stderr, "breadcrumb match: %v\n", err)
		return exitUsage
	}
	reader, err := app.NewAlertReader(token, e.getenv("PAGERDUTY_API_URL"))
	if err != nil {
		fmt.Fprintf(e.stderr, "breadcrumb match: %v\n", err)
		return exitUsage
	}
	alerts, warning, err := reader.Read(ctx, body)
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
