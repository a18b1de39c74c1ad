package report_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	gmhtml "github.com/yuin/goldmark/renderer/html"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/incidents/report"
)

var updateReports = flag.Bool("update", false, "rewrite the golden files in testdata")

// reportT0 is when the rich incident was declared.
var reportT0 = time.Date(2026, 3, 14, 2, 13, 7, 0, time.UTC)

func reportAt(d time.Duration) time.Time { return reportT0.Add(d) }

func reportMins(m, s int) time.Duration {
	return time.Duration(m)*time.Minute + time.Duration(s)*time.Second
}

// richIncident is a PagerDuty-triggered incident, resolved, with a runbook
// of six steps (four done, one skipped, one pending), notes, pinned
// messages (one unpinned again), role and severity changes, and
// breadcrumbs opened.
func richIncident() (*incidents.Incident, []incidents.Event) {
	inc := &incidents.Incident{
		ID:       "INC-20260314-7KQ2M",
		Title:    "Checkout API returning 5xx for 12% of requests",
		Summary:  "About 12% of checkout requests failed with a 5xx for 41 minutes; customers retried roughly 1,900 orders.\nNo data was lost.",
		Severity: 1,
		Status:   incidents.StatusResolved,
		Source:   "pagerduty",
		Service:  "checkout-api",
		Refs: map[string]string{
			incidents.RefPagerDutyIncident: "Q2F8ZK1R3X",
			incidents.RefAlertmanagerGroup: `{}:{alertname="CheckoutAPIHigh5xxRate"}`,
			"declaration_key":              "pd:01HQ8ZK1R3X",
		},
		Roles:      map[string]string{incidents.RoleCommander: "alice", incidents.RoleComms: "carol", incidents.RoleScribe: "dave"},
		Responders: []string{"bob", "alice", "carol", "dave"},
		Runbook: &incidents.RunbookRef{ID: "platform:checkout/5xx.md", Source: "platform", Path: "checkout/5xx.md",
			Title: "Checkout API 5xx spike", Commit: "9f2c4e1b7a3d5f60718293a4b5c6d7e8f9012345",
			Reason: "the alert's runbook_url annotation"},
		Steps: []incidents.StepProgress{
			{Number: 1, Title: "Check the error-rate dashboard", State: incidents.StepDone, Actor: "bob", At: reportAt(reportMins(4, 23))},
			{Number: 2, Title: "Look for a recent deploy", State: incidents.StepDone, Actor: "bob", At: reportAt(reportMins(6, 58)), Note: "deploy 2026.03.14-1 went out at 02:05"},
			{Number: 3, Title: "Roll back the last deploy", State: incidents.StepDone, Actor: "alice", At: reportAt(reportMins(19, 3)), Note: "rolled back to 2026.03.13-4"},
			{Number: 4, Title: "Drain the unhealthy pods", State: incidents.StepSkipped, Actor: "bob", At: reportAt(reportMins(19, 53)), Note: "not needed after the rollback"},
			{Number: 5, Title: "Check the payment provider's status page", State: incidents.StepDone, Actor: "bob", At: reportAt(reportMins(31, 23))},
			{Number: 6, Title: "Scale the API back to its usual size", State: incidents.StepPending},
		},
		CreatedAt:      reportT0,
		AcknowledgedAt: reportAt(reportMins(3, 23)),
		MitigatedAt:    reportAt(reportMins(24, 53)),
		ResolvedAt:     reportAt(reportMins(41, 5)),
		UpdatedAt:      reportAt(reportMins(41, 5)),
		Version:        24,
	}
	n := int64(0)
	ev := func(d time.Duration, typ incidents.EventType, actor, source, text string, data map[string]string) incidents.Event {
		n++
		return incidents.Event{Key: fmt.Sprintf("k%d", n), IncidentID: inc.ID, Seq: n, Type: typ, At: reportAt(d),
			RecordedAt: reportAt(d), Actor: actor, Source: source, Text: text, Data: data}
	}
	events := []incidents.Event{
		ev(-reportMins(1, 27), incidents.EventAlertFired, "", "alertmanager", "5xx ratio 12.4% over 5m",
			map[string]string{"alert": "CheckoutAPIHigh5xxRate", "fingerprint": "a1b2c3d4e5f60718"}),
		ev(0, incidents.EventDeclared, "pagerduty", "pagerduty", inc.Title, map[string]string{"severity": "2"}),
		ev(0, incidents.EventRunbookAttached, "pagerduty", "pagerduty", "Checkout API 5xx spike",
			map[string]string{"runbook": "platform:checkout/5xx.md", "path": "checkout/5xx.md",
				"commit": "9f2c4e1b7a3d5f60718293a4b5c6d7e8f9012345", "reason": "the alert's runbook_url annotation"}),
		ev(reportMins(0, 1), incidents.EventPagerDutySync, "", "breadcrumb", "linked PagerDuty incident Q2F8ZK1R3X", nil),
		ev(reportMins(3, 23), incidents.EventStatusChanged, "bob", "slack", "",
			map[string]string{"from": "triggered", "to": "acknowledged"}),
		ev(reportMins(3, 38), incidents.EventRoleChanged, "alice", "slack", "",
			map[string]string{"role": "commander", "user": "alice"}),
		ev(reportMins(3, 55), incidents.EventBreadcrumbOpened, "bob", "slack", "",
			map[string]string{"name": "Grafana: checkout-api errors", "url": "https://grafana.example.com/d/checkout?from=1773453967000&to=1773456367000"}),
		ev(reportMins(4, 23), incidents.EventStepDone, "bob", "slack", "",
			map[string]string{"step": "1", "title": "Check the error-rate dashboard"}),
		ev(reportMins(5, 3), incidents.EventBreadcrumbOpened, "bob", "slack", "",
			map[string]string{"name": "Loki: checkout-api errors", "url": `https://loki.example.com/explore?query={app="checkout"} |= "error"`}),
		ev(reportMins(6, 58), incidents.EventStepDone, "bob", "slack", "deploy 2026.03.14-1 went out at 02:05",
			map[string]string{"step": "2", "title": "Look for a recent deploy"}),
		ev(reportMins(7, 53), incidents.EventSeverityChanged, "alice", "slack", "customer-facing: 1 checkout in 8 fails",
			map[string]string{"from": "2", "to": "1"}),
		ev(reportMins(8, 23), incidents.EventRoleChanged, "alice", "slack", "",
			map[string]string{"role": "comms", "user": "carol"}),
		ev(reportMins(8, 53), incidents.EventNote, "alice", "slack",
			"Rolling back 2026.03.14-1: it brought the new connection pool.\nTODO: add a canary stage for connection-pool changes\nfollow-up: alert on pool saturation before the 5xx start", nil),
		ev(reportMins(10, 3), incidents.EventMessagePinned, "dave", "slack", "Payment provider status page is all green, so it's us.",
			map[string]string{"message": "C024BE91L/1773454390.000200", "author": "erin", "url": "https://example.slack.com/archives/C024BE91L/p1773454390000200"}),
		ev(reportMins(11, 43), incidents.EventMessagePinned, "dave", "slack", "maybe DNS?",
			map[string]string{"message": "C024BE91L/1773454490.000300", "author": "frank", "url": "https://example.slack.com/archives/C024BE91L/p1773454490000300"}),
		ev(reportMins(12, 53), incidents.EventMessageUnpinned, "dave", "slack", "",
			map[string]string{"message": "C024BE91L/1773454490.000300"}),
		ev(reportMins(19, 3), incidents.EventStepDone, "alice", "slack", "rolled back to 2026.03.13-4",
			map[string]string{"step": "3", "title": "Roll back the last deploy"}),
		ev(reportMins(19, 53), incidents.EventStepSkipped, "bob", "slack", "not needed after the rollback",
			map[string]string{"step": "4", "title": "Drain the unhealthy pods"}),
		ev(reportMins(24, 53), incidents.EventStatusChanged, "alice", "slack", "error rate back under 0.5%",
			map[string]string{"from": "acknowledged", "to": "mitigated"}),
		ev(reportMins(25, 53), incidents.EventRoleChanged, "alice", "web", "",
			map[string]string{"role": "scribe", "user": "dave"}),
		ev(reportMins(31, 23), incidents.EventStepDone, "bob", "slack", "",
			map[string]string{"step": "5", "title": "Check the payment provider's status page"}),
		ev(reportMins(38, 53), incidents.EventAlertResolved, "", "alertmanager", "",
			map[string]string{"alert": "CheckoutAPIHigh5xxRate", "fingerprint": "a1b2c3d4e5f60718"}),
		ev(reportMins(41, 5), incidents.EventStatusChanged, "alice", "slack", "",
			map[string]string{"from": "mitigated", "to": "resolved"}),
		ev(reportMins(41, 53), incidents.EventNote, "dave", "web",
			"Action: write the post-incident review by Friday\nWe were lucky that the rollback was clean.", nil),
	}
	// The pinned message carries its own time, before it was recorded.
	events[13].At = reportAt(reportMins(9, 33))
	return inc, events
}

// minimalIncident was just declared in Slack: no runbook, no summary.
func minimalIncident() (*incidents.Incident, []incidents.Event) {
	t := time.Date(2026, 3, 15, 9, 30, 0, 0, time.UTC)
	inc := &incidents.Incident{ID: "INC-20260315-AB3CD", Title: "Search feels slow", Status: incidents.StatusTriggered,
		Source: "slack", CreatedAt: t, UpdatedAt: t, Version: 1}
	return inc, []incidents.Event{{Key: "slack:1", IncidentID: inc.ID, Seq: 1, Type: incidents.EventDeclared,
		At: t, RecordedAt: t, Actor: "U02ABCDEF", Source: "slack", Text: inc.Title}}
}

const hostileTitle = "<script>alert(1)</script> | *bold* @channel"

// hostileIncident has untrusted text that tries to break out everywhere.
func hostileIncident() (*incidents.Incident, []incidents.Event) {
	t := time.Date(2026, 3, 16, 23, 50, 0, 0, time.UTC)
	inc := &incidents.Incident{ID: "INC-20260316-HX7QZ", Title: hostileTitle,
		Summary:  "<img src=x onerror=alert(1)>\n# not a heading\n| not | a | row |",
		Severity: 3, Status: incidents.StatusAcknowledged, Source: "alertmanager", Service: "svc|name_with_underscores",
		Refs:           map[string]string{incidents.RefAlertmanagerGroup: "{}:{alertname=\"A|B\"}<b>"},
		Roles:          map[string]string{incidents.RoleCommander: "<b>mallory</b>"},
		Responders:     []string{"<b>mallory</b>", "eve | admin"},
		Runbook:        &incidents.RunbookRef{ID: "x", Source: "team`s", Path: "a|b/`c`.md", Title: "[click](javascript:alert(1))", Commit: "not-a-hash"},
		Steps:          []incidents.StepProgress{{Number: 1, Title: "run `rm -rf /` | then *stop*", State: incidents.StepDone, Actor: "eve | admin", At: t.Add(2 * time.Minute), Note: "line one\nline | two"}},
		CreatedAt:      t,
		AcknowledgedAt: t.Add(time.Minute),
		UpdatedAt:      t.Add(15 * time.Minute),
	}
	events := []incidents.Event{
		{Key: "1", Seq: 1, Type: incidents.EventDeclared, At: t, Actor: "alertmanager", Text: hostileTitle},
		{Key: "2", Seq: 2, Type: incidents.EventStatusChanged, At: t.Add(time.Minute), Actor: "eve | admin",
			Data: map[string]string{"from": "triggered", "to": "acknowledged"}, Text: "</td></tr></table><script>alert(2)</script>"},
		{Key: "3", Seq: 3, Type: incidents.EventNote, At: t.Add(3 * time.Minute), Actor: "<b>mallory</b>",
			Text: "first line | with a pipe\nsecond line with `code` and <b>html</b>\n\n- [x] not a list\n# not a heading\n1. not a list either\nTODO: fix | the *thing* & more"},
		{Key: "4", Seq: 4, Type: incidents.EventBreadcrumbOpened, At: t.Add(4 * time.Minute), Actor: "eve | admin",
			Data: map[string]string{"name": "<b>dashboard</b>", "url": "javascript:alert(3)"}},
		{Key: "5", Seq: 5, Type: incidents.EventMessagePinned, At: t.Add(5 * time.Minute), Actor: "eve | admin",
			Text: "look: ](http://evil) [x](javascript:alert(4))",
			Data: map[string]string{"message": "m1", "author": "<i>trudy</i>", "url": "https://example.com/a b)|\"onmouseover=\"alert(5)"}},
		{Key: "6", Seq: 6, Type: "custom.thing", At: t.Add(15 * time.Minute), Text: "\r\nwindows\r\nline endings\r\n"},
	}
	return inc, events
}

var reportCases = []struct {
	name string
	make func() (*incidents.Incident, []incidents.Event)
}{
	{"rich", richIncident},
	{"minimal", minimalIncident},
	{"hostile", hostileIncident},
}

var reportFormats = []struct{ format, ext, contentType string }{
	{"md", "md", "text/markdown; charset=utf-8"},
	{"html", "html", "text/html; charset=utf-8"},
	{"json", "json", "application/json"},
}

func TestReportMatchesGoldenFiles(t *testing.T) {
	for _, c := range reportCases {
		for _, f := range reportFormats {
			t.Run(c.name+"."+f.ext, func(t *testing.T) {
				inc, events := c.make()
				got, ct, err := report.Render(inc, events, f.format)
				if err != nil {
					t.Fatal(err)
				}
				if ct != f.contentType {
					t.Errorf("content type: got %q, want %q", ct, f.contentType)
				}
				path := filepath.Join("testdata", c.name+"."+f.ext)
				if *updateReports {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./incidents -run TestReport -update to write it)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from the golden file (run with -update to accept):\n%s", path, firstDiff(got, want))
				}
			})
		}
	}
}

func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got: %q\nwant: %q", i+1, gl, wl)
		}
	}
	return "(same lines)"
}

func TestReportContent(t *testing.T) {
	inc, events := richIncident()
	r := report.New(inc, events)

	secs := func(d report.Duration) int64 {
		if d.Seconds == nil {
			return -1
		}
		return *d.Seconds
	}
	for _, c := range []struct {
		name     string
		d        report.Duration
		secs     int64
		text     string
		wantText string
	}{
		{"acknowledge", r.Durations.ToAcknowledge, 203, r.Durations.ToAcknowledge.Text, "3m 23s"},
		{"mitigate", r.Durations.ToMitigate, 1493, r.Durations.ToMitigate.Text, "24m 53s"},
		{"resolve", r.Durations.ToResolve, 2465, r.Durations.ToResolve.Text, "41m 5s"},
		{"total", r.Durations.Total, 2465, r.Durations.Total.Text, "41m 5s"},
	} {
		if got := secs(c.d); got != c.secs || c.text != c.wantText {
			t.Errorf("time to %s: got %d s %q, want %d s %q", c.name, got, c.text, c.secs, c.wantText)
		}
	}

	var people []string
	for _, p := range r.People {
		people = append(people, p.Name+"="+strings.Join(p.Roles, "+"))
	}
	if got, want := strings.Join(people, " "), "alice=commander+responder bob=responder carol=comms+responder dave=scribe+responder pagerduty="; got != want {
		t.Errorf("people: got %s, want %s", got, want)
	}

	if got, want := r.StepCounts, (report.StepCounts{Done: 4, Skipped: 1, Pending: 1, Total: 6}); got != want {
		t.Errorf("step counts: got %+v, want %+v", got, want)
	}
	if got, want := r.Steps[3].Offset, "+19m"; got != want {
		t.Errorf("step 4 offset: got %s, want %s", got, want)
	}

	var followUps []string
	for _, f := range r.FollowUps {
		followUps = append(followUps, f.Text)
	}
	if got, want := strings.Join(followUps, "; "), "add a canary stage for connection-pool changes; alert on pool saturation before the 5xx start; write the post-incident review by Friday"; got != want {
		t.Errorf("follow-ups: got %q, want %q", got, want)
	}
	if got, want := len(r.Notes), 2; got != want {
		t.Errorf("notes: got %d, want %d", got, want)
	}

	// The message pinned and unpinned again is left out, and so is its
	// unpinning; the other pin sits at the message's own time.
	if got, want := len(r.Timeline), len(events)-2; got != want {
		t.Errorf("timeline: got %d events, want %d", got, want)
	}
	for _, e := range r.Timeline {
		if strings.Contains(e.Text, "maybe DNS") || e.Type == incidents.EventMessageUnpinned {
			t.Errorf("timeline holds %s %q, which was unpinned", e.Type, e.Text)
		}
	}
	if got, want := r.Timeline[0].Offset, "-1m"; got != want {
		t.Errorf("the alert that fired before the declaration: offset %s, want %s", got, want)
	}

	var phases []string
	for _, p := range r.Phases {
		phases = append(phases, string(p.Status)+" "+p.Start.Format("15:04:05"))
	}
	if got, want := strings.Join(phases, ", "), "triggered 02:13:07, acknowledged 02:16:30, mitigated 02:38:00, resolved 02:54:12"; got != want {
		t.Errorf("phases: got %s, want %s", got, want)
	}
}

func TestReportOfAnOpenIncidentRunsToItsLastEvent(t *testing.T) {
	inc, events := minimalIncident()
	events = append(events, incidents.Event{Key: "n", Seq: 2, Type: incidents.EventNote, At: inc.CreatedAt.Add(90 * time.Minute), Actor: "bob", Text: "still looking"})
	r := report.New(inc, events)
	if got, want := r.Durations.Total.Text, "1h 30m (ongoing)"; got != want {
		t.Errorf("total: got %q, want %q", got, want)
	}
	if r.Durations.ToAcknowledge.Seconds != nil || r.Durations.ToAcknowledge.Text != "—" {
		t.Errorf("time to acknowledge: got %+v, want not reached", r.Durations.ToAcknowledge)
	}
	if got, want := r.AsOf, inc.CreatedAt.Add(90*time.Minute); !got.Equal(want) {
		t.Errorf("as of: got %v, want %v", got, want)
	}
	md := string(r.Markdown())
	for _, want := range []string{"## Impact\n\n_to be written_\n", "## Follow-ups\n\n- [ ] \n", "_No runbook was attached._"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

func TestReportHTMLEscapesUntrustedText(t *testing.T) {
	inc, events := hostileIncident()
	doc := string(report.New(inc, events).HTML())
	for _, bad := range []string{"<script>", "</script>", "<b>", "<i>", "<img", `href="javascript:`, `"onmouseover`, "ZgotmplZ"} {
		if strings.Contains(strings.ToLower(doc), strings.ToLower(bad)) {
			t.Errorf("the HTML holds %q", bad)
		}
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt; | *bold* @channel", "&lt;b&gt;mallory&lt;/b&gt;"} {
		if !strings.Contains(doc, want) {
			t.Errorf("the HTML lacks the escaped %q", want)
		}
	}
	// The breadcrumb with a javascript: URL is shown, but not as a link.
	if strings.Contains(doc, `<a href="#`) || strings.Contains(doc, "alert(3)") {
		t.Error("the javascript: breadcrumb became a link")
	}
	// No external assets.
	for _, bad := range []string{`src="http`, `href="http://`, "<link", "@import", "<script"} {
		if strings.Contains(doc, bad) && bad != `href="http://` {
			t.Errorf("the HTML loads something: %q", bad)
		}
	}
}

func TestReportMarkdownRendersUntrustedTextLiterally(t *testing.T) {
	inc, events := hostileIncident()
	md := report.New(inc, events).Markdown()

	// Every row of a table has as many cells as its header.
	unescapedPipe := regexp.MustCompile(`(^|[^\\])((\\\\)*)\|`)
	cells := func(line string) int { return len(unescapedPipe.FindAllStringIndex(line, -1)) }
	header := -1
	for i, line := range strings.Split(string(md), "\n") {
		if !strings.HasPrefix(line, "|") {
			header = -1
			continue
		}
		if header < 0 {
			header = cells(line)
			continue
		}
		if got := cells(line); got != header {
			t.Errorf("line %d has %d pipes, its table %d: %s", i+1, got, header, line)
		}
	}

	// Rendered with raw HTML allowed, as a lax renderer would, nothing
	// untrusted becomes markup.
	var out bytes.Buffer
	gm := goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(gmhtml.WithUnsafe()))
	if err := gm.Convert(md, &out); err != nil {
		t.Fatal(err)
	}
	page := out.String()
	for _, bad := range []string{"<script", "<b>", "<i>", "<img", "<em>bold", "<strong>bold", "<em>thing", "<em>stop", "<strong>stop",
		"<h1>not", "<ol>", `href="javascript:`, `href="http://evil`, "<code>rm", "<ul>\n<li><input checked"} {
		if strings.Contains(page, bad) {
			t.Errorf("the rendered Markdown holds %q", bad)
		}
	}
	if want := "<h1>&lt;script&gt;alert(1)&lt;/script&gt; | *bold* @channel</h1>"; !strings.Contains(page, want) {
		t.Errorf("the rendered title is not %s", want)
	}
	// The timeline table keeps five cells a row, with the note's pipes
	// and lines inside its cell.
	for _, row := range regexp.MustCompile(`(?s)<tr>.*?</tr>`).FindAllString(page, -1) {
		if strings.Contains(row, "<th") {
			continue
		}
		if strings.Contains(row, "first line") && strings.Count(row, "<td") != 5 {
			t.Errorf("the note's row has %d cells, want 5: %s", strings.Count(row, "<td"), row)
		}
	}
	if !strings.Contains(page, "first line | with a pipe<br>second line with `code` and &lt;b&gt;html&lt;/b&gt;") {
		t.Errorf("the note is not rendered literally in its cell:\n%s", page)
	}
}

func TestReportIsDeterministic(t *testing.T) {
	for _, c := range reportCases {
		for _, f := range reportFormats {
			t.Run(c.name+"."+f.ext, func(t *testing.T) {
				var first []byte
				for i := range 20 {
					// A new incident each time: its maps iterate in
					// another order.
					inc, events := c.make()
					got, _, err := report.Render(inc, events, f.format)
					if err != nil {
						t.Fatal(err)
					}
					if i == 0 {
						first = got
					} else if !bytes.Equal(got, first) {
						t.Fatalf("run %d differs from run 0:\n%s", i, firstDiff(got, first))
					}
				}
			})
		}
	}
}

func TestReportFormats(t *testing.T) {
	inc, events := minimalIncident()
	for _, c := range []struct {
		format, contentType string
	}{
		{"", "text/markdown; charset=utf-8"},
		{"md", "text/markdown; charset=utf-8"},
		{"markdown", "text/markdown; charset=utf-8"},
		{"HTML", "text/html; charset=utf-8"},
		{"json", "application/json"},
	} {
		_, ct, err := report.Render(inc, events, c.format)
		if err != nil || ct != c.contentType {
			t.Errorf("format %q: got %q, %v; want %q", c.format, ct, err, c.contentType)
		}
	}
	for _, format := range []string{"pdf", "text", "md5"} {
		b, _, err := report.Render(inc, events, format)
		if !errors.Is(err, incidents.ErrInvalid) || b != nil {
			t.Errorf("format %q: got %d bytes, %v; want ErrInvalid", format, len(b), err)
		}
	}
}

func TestReportJSONReadsBack(t *testing.T) {
	inc, events := richIncident()
	b, err := report.New(inc, events).JSON()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"id", "title", "severity", "status", "service", "source", "refs", "impact", "durations",
		"people", "runbook", "steps", "timeline", "notes", "follow_ups"} {
		if _, ok := got[key]; !ok {
			t.Errorf("the JSON lacks %q", key)
		}
	}
	d := got["durations"].(map[string]any)["time_to_resolve"].(map[string]any)
	if d["seconds"] != 2465.0 || d["text"] != "41m 5s" {
		t.Errorf("time_to_resolve: got %v", d)
	}
	// A minimal report has empty lists, never null.
	inc, events = minimalIncident()
	b, _ = report.New(inc, events).JSON()
	if bytes.Contains(b, []byte("null,\n  \"")) && !bytes.Contains(b, []byte(`"seconds": null`)) {
		t.Errorf("a list is null:\n%s", b)
	}
	for _, key := range []string{`"steps": []`, `"notes": []`, `"follow_ups": []`, `"refs": []`} {
		if !bytes.Contains(b, []byte(key)) {
			t.Errorf("the minimal JSON lacks %s", key)
		}
	}
}

// BenchmarkReport1000Events renders the report of an incident with 1,000
// events in each format.
func BenchmarkReport1000Events(b *testing.B) {
	inc, base := richIncident()
	events := make([]incidents.Event, 0, 1000)
	for i := range 1000 {
		e := base[i%len(base)]
		e.Seq = int64(i + 1)
		e.Key = fmt.Sprintf("k%d", i)
		e.At = reportT0.Add(time.Duration(i) * 7 * time.Second)
		if e.Type == incidents.EventMessagePinned || e.Type == incidents.EventMessageUnpinned {
			e.Data = map[string]string{"message": fmt.Sprintf("m%d", i), "author": "erin", "url": "https://example.slack.com/archives/C1/p1"}
		}
		events = append(events, e)
	}
	inc.ResolvedAt = events[len(events)-1].At
	b.Run("new", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			report.New(inc, events)
		}
	})
	for _, f := range reportFormats {
		b.Run(f.format, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				out, _, err := report.Render(inc, events, f.format)
				if err != nil {
					b.Fatal(err)
				}
				n = len(out)
			}
			b.ReportMetric(float64(n), "bytes/report")
		})
	}
}

func TestReportOfNothingStillRenders(t *testing.T) {
	for _, f := range reportFormats {
		b, _, err := report.Render(nil, nil, f.format)
		if err != nil || len(b) == 0 {
			t.Errorf("format %s: got %d bytes, %v", f.format, len(b), err)
		}
	}
}
