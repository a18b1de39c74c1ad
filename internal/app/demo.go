package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/internal/secret"
)

// DemoAlert is an Alertmanager v4 notification for the bundled example
// "Payments API 5xx spike", as a real Alertmanager would send it. Each
// demo gets a group of its own, so that every click opens an incident.
func DemoAlert(now time.Time) []byte {
	stamp := now.UTC().Format("20060102T150405")
	labels := map[string]string{
		"alertname": "PaymentsAPIHigh5xxRate", "service": "payments-api", "severity": "critical",
		"cluster": "eu-west-1", "namespace": "payments", "demo": stamp,
	}
	group := map[string]string{"alertname": "PaymentsAPIHigh5xxRate", "demo": stamp}
	body := map[string]any{
		"version": "4", "status": "firing", "receiver": "breadcrumb",
		"groupKey":          fmt.Sprintf(`{}:{alertname="PaymentsAPIHigh5xxRate", demo=%q}`, stamp),
		"truncatedAlerts":   0,
		"groupLabels":       group,
		"commonLabels":      labels,
		"commonAnnotations": map[string]string{"summary": "payments-api: 6.3% of requests fail with 5xx (demo)"},
		"externalURL":       "http://alertmanager.example:9093",
		"alerts": []map[string]any{{
			"status": "firing", "labels": labels,
			"annotations": map[string]string{
				"summary":     "payments-api: 6.3% of requests fail with 5xx (demo)",
				"description": "More than 2% of requests to payments-api have returned a 5xx status for five minutes.",
			},
			"startsAt":     now.Add(-7 * time.Minute).UTC().Format(time.RFC3339),
			"endsAt":       "0001-01-01T00:00:00Z",
			"generatorURL": "http://prometheus.example:9090/graph?g0.expr=sum%28rate%28http_requests_total%7Bservice%3D%22payments-api%22%2Ccode%3D~%225..%22%7D%5B5m%5D%29%29&g0.tab=1",
			"fingerprint":  "demo" + stamp,
		}},
	}
	b, _ := json.Marshal(body)
	return b
}

// DemoRunbook is the bundled runbook the demo alert is written for.
const DemoRunbook = "examples:payments/PaymentsAPIHigh5xxRate.md"

// sendDemo posts the demo notification to this server's own Alertmanager
// webhook, so that it takes the path every real alert takes.
func sendDemo(ctx context.Context, base string, token secret.String) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/webhooks/alertmanager", bytes.NewReader(DemoAlert(time.Now())))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if !token.IsZero() {
		req.Header.Set("Authorization", "Bearer "+token.Reveal())
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("demo: the webhook answered %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
