package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/report"
	"github.com/breadcrumb-oncall/breadcrumb/internal/app"
)

func runIncidents(ctx context.Context, e env, args []string) int {
	var cfgFile, format, out, status, service string
	var asJSON bool
	var limit int
	fs := newFlags(e, "incidents", &cfgFile)
	fs.StringVar(&format, "format", "md", "report `format` for export: md, html or json")
	fs.StringVar(&out, "out", "", "write the export to `FILE` instead of standard output")
	fs.StringVar(&status, "status", "", "list: only incidents in this `STATUS` (triggered, acknowledged, mitigated, resolved, open)")
	fs.StringVar(&service, "service", "", "list: only incidents of this `SERVICE`")
	fs.BoolVar(&asJSON, "json", false, "list and show: print JSON")
	fs.IntVar(&limit, "limit", 50, "list: at most `N` incidents")
	rest, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if len(rest) == 0 {
		fs.Usage()
		return exitUsage
	}
	verb, rest := rest[0], rest[1:]
	needID := verb == "show" || verb == "export"
	if (needID && len(rest) != 1) || (verb == "list" && len(rest) != 0) || (!needID && verb != "list") {
		fs.Usage()
		return exitUsage
	}
	cfg, err := app.LoadConfig(cfgFile, e.getenv)
	if err != nil {
		fmt.Fprintf(e.stderr, "breadcrumb incidents: %v\n", err)
		return exitUsage
	}
	url, err := app.ReadSecret(e.getenv, "BREADCRUMB_REDIS_URL")
	if err != nil {
		fmt.Fprintf(e.stderr, "breadcrumb incidents: %v\n", err)
		return exitUsage
	}
	be, err := app.OpenBackend(cfg, url, 200*time.Millisecond)
	if err != nil {
		if errors.Is(err, app.ErrStoreHeld) {
			fmt.Fprintf(e.stderr, "breadcrumb incidents: %v\nA running `breadcrumb serve` holds it: read incidents from its HTTP API instead, e.g. curl http://%s/api/incidents\n", err, cfg.Listen)
			return exitUsage
		}
		fmt.Fprintf(e.stderr, "breadcrumb incidents: %v\n", err)
		return exitUsage
	}
	defer be.Close()
	svc := incidents.NewService(be.Store, incidents.Options{})
	switch verb {
	case "list":
		f := incidents.Filter{Service: service, Limit: limit}
		switch {
		case status == "open":
			f.Open = true
		case status != "":
			if !incidents.Status(status).Valid() {
				fmt.Fprintf(e.stderr, "breadcrumb incidents: unknown status %q\n", status)
				return exitUsage
			}
			f.Statuses = []incidents.Status{incidents.Status(status)}
		}
		list, err := svc.List(ctx, f)
		if err != nil {
			fmt.Fprintf(e.stderr, "breadcrumb incidents: %s: %v\n", be.Where, err)
			return exitUsage
		}
		if asJSON {
			for _, inc := range list {
				b, _ := json.Marshal(inc)
				fmt.Fprintf(e.stdout, "%s\n", b)
			}
			return exitOK
		}
		if len(list) == 0 {
			fmt.Fprintln(e.stdout, "No incidents.")
			return exitOK
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATUS\tSEV\tSERVICE\tCREATED\tTITLE")
		for _, inc := range list {
			sev := "-"
			if inc.Severity > 0 {
				sev = fmt.Sprint(inc.Severity)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", inc.ID, inc.Status, sev, orDash(inc.Service),
				inc.CreatedAt.UTC().Format("2006-01-02 15:04"), printable(inc.Title))
		}
		_ = tw.Flush()
		return exitOK
	case "show":
		inc, events, err := loadIncident(ctx, svc, rest[0])
		if err != nil {
			return incidentError(e, rest[0], err)
		}
		if asJSON {
			b, _ := json.Marshal(map[string]any{"incident": inc, "timeline": events})
			fmt.Fprintf(e.stdout, "%s\n", b)
			return exitOK
		}
		b, _, err := report.Render(inc, events, "md")
		if err != nil {
			return incidentError(e, rest[0], err)
		}
		_, _ = e.stdout.Write(b)
		return exitOK
	default: // export
		inc, events, err := loadIncident(ctx, svc, rest[0])
		if err != nil {
			return incidentError(e, rest[0], err)
		}
		b, _, err := report.Render(inc, events, format)
		if err != nil {
			fmt.Fprintf(e.stderr, "breadcrumb incidents: export %s: %v\n", rest[0], err)
			return exitUsage
		}
		if out == "" {
			_, _ = e.stdout.Write(b)
			return exitOK
		}
		if err := os.WriteFile(out, b, 0o644); err != nil {
			fmt.Fprintf(e.stderr, "breadcrumb incidents: %v\n", err)
			return exitUsage
		}
		fmt.Fprintf(e.stderr, "wrote %s (%d bytes)\n", out, len(b))
		return exitOK
	}
}

// loadIncident reads an incident and its whole timeline.
func loadIncident(ctx context.Context, svc *incidents.Service, id string) (*incidents.Incident, []incidents.Event, error) {
	inc, err := svc.Get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	events, err := svc.Timeline(ctx, inc.ID, 0, 0)
	return inc, events, err
}

// incidentError reports an incident that cannot be read: exit 1, since
// the command was used right but the answer is "no".
func incidentError(e env, id string, err error) int {
	if errors.Is(err, incidents.ErrNotFound) {
		fmt.Fprintf(e.stderr, "breadcrumb incidents: no incident %q\n", printable(id))
	} else {
		fmt.Fprintf(e.stderr, "breadcrumb incidents: %s: %v\n", printable(id), err)
	}
	return exitProblems
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return printable(s)
}
