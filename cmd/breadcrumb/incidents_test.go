package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/boltstore"
)

// seedIncidents writes two incidents into the embedded store of a data
// directory: one resolved with a runbook and a note, one still open.
// openDataStore opens the embedded store of the data directory dataDir,
// making the directory.
func openDataStore(t *testing.T, dataDir string) *boltstore.Store {
	t.Helper()
	if err := os.MkdirAll(dataDir, 0o750); err != nil {
		t.Fatal(err)
	}
	st, err := boltstore.Open(filepath.Join(dataDir, "incidents.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func seedIncidents(t *testing.T, dataDir string) (resolved, open string) {
	t.Helper()
	st := openDataStore(t, dataDir)
	defer st.Close()
	now := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
	svc := incidents.NewService(st, incidents.Options{Now: func() time.Time { now = now.Add(time.Minute); return now }})
	ctx := context.Background()
	a, _, err := svc.Declare(ctx, incidents.Declaration{Title: "Payments 5xx", Severity: 2, Service: "payments-api",
		Runbook: &incidents.RunbookRef{ID: "examples:payments/PaymentsAPIHigh5xxRate.md", Title: "Payments API 5xx spike"},
		Steps:   []incidents.StepProgress{{Number: 1, Title: "Check the provider"}, {Number: 2, Title: "Roll back"}}},
		incidents.Action{Actor: "alertmanager", Source: "alertmanager"})
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []func() error{
		func() error {
			_, err := svc.Transition(ctx, a.ID, incidents.StatusAcknowledged, incidents.Action{Actor: "dana"})
			return err
		},
		func() error {
			_, err := svc.Step(ctx, a.ID, 1, incidents.StepDone, incidents.Action{Actor: "dana", Text: "provider fine"})
			return err
		},
		func() error { return svc.Note(ctx, a.ID, incidents.Action{Actor: "dana", Text: "rolled back 412"}) },
		func() error {
			_, err := svc.Transition(ctx, a.ID, incidents.StatusResolved, incidents.Action{Actor: "dana"})
			return err
		},
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	b, _, err := svc.Declare(ctx, incidents.Declaration{Title: "Disk almost full", Service: "pg-main"}, incidents.Action{Actor: "sam"})
	if err != nil {
		t.Fatal(err)
	}
	return a.ID, b.ID
}

func TestIncidentsListShowExport(t *testing.T) {
	env := inEmptyDir(t)
	resolved, open := seedIncidents(t, env["BREADCRUMB_DATA_DIR"])

	res := runCLI(t, env, "incidents", "list")
	if res.code != exitOK || !strings.Contains(res.stdout, resolved) || !strings.Contains(res.stdout, open) {
		t.Fatalf("list: code %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	res = runCLI(t, env, "incidents", "list", "--status", "open", "--json")
	got := lines(res.stdout)
	if res.code != exitOK || len(got) != 1 || !strings.Contains(got[0], `"id":"`+open+`"`) {
		t.Errorf("list --status open --json: %q", res.stdout)
	}
	res = runCLI(t, env, "incidents", "show", resolved)
	if res.code != exitOK || !strings.Contains(res.stdout, "Payments 5xx") || !strings.Contains(res.stdout, "rolled back 412") {
		t.Errorf("show: code %d\n%s", res.code, res.stdout)
	}
	out := filepath.Join(t.TempDir(), "report.html")
	res = runCLI(t, env, "incidents", "export", resolved, "--format", "html", "--out", out)
	html, _ := os.ReadFile(out)
	if res.code != exitOK || !strings.Contains(string(html), "<svg") {
		t.Errorf("export html: code %d, stderr %q, %d bytes", res.code, res.stderr, len(html))
	}
	res = runCLI(t, env, "incidents", "export", resolved, "--format", "json")
	var js map[string]any
	if res.code != exitOK || json.Unmarshal([]byte(res.stdout), &js) != nil {
		t.Errorf("export json: code %d, %q", res.code, res.stdout)
	}
	for _, bad := range [][]string{{"incidents"}, {"incidents", "show"},
		{"incidents", "export", resolved, "--format", "pdf"}, {"incidents", "list", "--status", "closed"}, {"incidents", "frobnicate"}} {
		if res := runCLI(t, env, bad...); res.code != exitUsage {
			t.Errorf("%v: code %d, want %d", bad, res.code, exitUsage)
		}
	}
	if res := runCLI(t, env, "incidents", "show", "NOPE"); res.code != exitProblems || !strings.Contains(res.stderr, `no incident "NOPE"`) {
		t.Errorf("show of an unknown incident: code %d, stderr %q", res.code, res.stderr)
	}
}

func TestIncidentsSaysSoWhenTheServerHoldsTheStore(t *testing.T) {
	env := inEmptyDir(t)
	st := openDataStore(t, env["BREADCRUMB_DATA_DIR"])
	defer st.Close()
	res := runCLI(t, env, "incidents", "list")
	if res.code != exitUsage || !strings.Contains(res.stderr, "/api/incidents") {
		t.Errorf("code %d, stderr %q: want exit 2 pointing at the HTTP API", res.code, res.stderr)
	}
}
