package bot_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/breadcrumb-oncall/breadcrumb/bot"
	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestMessagesMatchGoldenFiles renders the bot's main messages as the
// local chat shows them. Run with -update after a deliberate change.
func TestMessagesMatchGoldenFiles(t *testing.T) {
	w := newWorld(t, bot.Config{})
	lib, _ := exampleLibrary(t)
	rb, ok := lib.Get(payments5xx)
	if !ok {
		t.Fatal("no payments runbook")
	}
	var steps []incidents.StepProgress
	for _, st := range rb.Steps {
		steps = append(steps, incidents.StepProgress{Number: st.Number, Title: st.Title})
	}
	refs := map[string]string{incidents.RefAlertmanagerGroup: "g1"}
	inc, _, err := w.svc.Declare(ctx, incidents.Declaration{
		Title: "Payments API 5xx rate above 2%", Severity: 2, Service: "payments-api", Source: "alertmanager", Refs: refs,
		Runbook: &incidents.RunbookRef{ID: rb.ID, Source: rb.Source, Path: rb.Path, Title: rb.Title, Reason: "bound by the page's front matter"},
		Steps:   steps,
		Links: []incidents.Link{
			{Name: "Payments API overview", Kind: runbooks.KindDashboard, URL: "https://grafana.example/d/payments"},
			{Name: "5xx logs", Kind: runbooks.KindLogs, URL: "https://grafana.example/explore?logs"},
			{Name: "5xx rate by route", Kind: runbooks.KindMetrics, URL: "https://grafana.example/explore?metrics", Step: 1},
		},
	}, incidents.Action{Key: "am:1", Source: "alertmanager"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.ReportAlerts(ctx, incidents.AlertGroup{Refs: refs, Source: "alertmanager", Alerts: []runbooks.Alert{
		{Name: "PaymentsAPIHigh5xxRate", Summary: "5xx above 2% in eu-west-1", Status: "firing", Fingerprint: "f1", StartsAt: w.clock.Now()},
		{Name: "PaymentsAPIErrorBudgetBurn", Status: "firing", Fingerprint: "f2", StartsAt: w.clock.Now()},
	}}, incidents.Action{}); err != nil {
		t.Fatal(err)
	}
	w.bot.Flush()
	inc = w.incident(inc.ID)
	header := bot.MessageRef{Channel: inc.Home.Channel, TS: inc.Home.Header}
	home := bot.Place{Channel: inc.Home.Channel}
	w.click(alice, header, "Start guided")
	card, _ := w.lastWith(home.Channel, "Step 1 of 8")
	checklist, _ := w.lastWith(home.Channel, "Checklist")
	cardAtStart := w.posted(card.Ref)
	w.click(alice, card.Ref, "Done")
	w.click(bob, card.Ref, "Skip")
	w.command(alice, home, "incident", "assign <@UBOB|bob> commander")
	w.command(alice, home, "incident", "ack")

	golden := map[string]string{
		"header.txt":    w.posted(header),
		"card-1.txt":    cardAtStart,
		"card-3.txt":    w.posted(card.Ref),
		"checklist.txt": w.posted(checklist.Ref),
		"usage.txt":     text(w.command(alice, home, "incident", "help")),
		"timeline.txt":  text(w.command(alice, home, "incident", "timeline")),
	}
	for name, got := range golden {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join("testdata", name)
			if *update {
				if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(p)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if !bytes.Equal([]byte(got), want) {
				t.Errorf("got\n%s\nwant (testdata/%s)\n%s", got, name, want)
			}
		})
	}
}
