package alertmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// alertmanagerBinary finds Prometheus Alertmanager: Debian's package names
// it prometheus-alertmanager, upstream's release alertmanager.
func alertmanagerBinary(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"prometheus-alertmanager", "alertmanager"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "no prometheus-alertmanager or alertmanager on PATH (apt-get install prometheus-alertmanager)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + ": CI must run this test")
	}
	t.Skip(msg)
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startAlertmanager runs Alertmanager with one webhook receiver pointing
// at url with the test token, and returns its address once it is ready.
func startAlertmanager(t *testing.T, bin, url string) string {
	t.Helper()
	dir := t.TempDir()
	config := fmt.Sprintf(`route:
  receiver: breadcrumb
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 2s
receivers:
  - name: breadcrumb
    webhook_configs:
      - url: %q
        send_resolved: true
        max_alerts: 100
        http_config:
          authorization:
            type: Bearer
            credentials: %q
`, url, testToken)
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	var logs bytes.Buffer
	cmd := exec.Command(bin, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--cluster.listen-address=", "--log.level=debug")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("alertmanager's log:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("alertmanager not ready after 20 s: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// postAlerts sends alerts to Alertmanager's API v2, as Prometheus does.
func postAlerts(t *testing.T, addr string, alerts []map[string]any) {
	t.Helper()
	b, err := json.Marshal(alerts)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post("http://"+addr+"/api/v2/alerts", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/v2/alerts: got %d, want 200", resp.StatusCode)
	}
}

// waitFor polls until cond holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestARealAlertmanagerOpensAndResolvesAnIncident(t *testing.T) {
	bin := alertmanagerBinary(t)
	p := newPipeline(t, boltBackend(t), true)
	am := startAlertmanager(t, bin, p.srv.URL+Path)

	start := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	alert := func(pod string, ends time.Time) map[string]any {
		a := map[string]any{
			"labels": map[string]string{"alertname": "KubePodCrashLooping", "service": "checkout", "severity": "critical",
				"namespace": "payments", "pod": pod},
			"annotations":  map[string]string{"summary": "Pod is crash looping.", "runbook_url": "https://runbooks.example/crashloop"},
			"startsAt":     start.Format(time.RFC3339),
			"generatorURL": "http://prometheus:9090/graph?g0.expr=up",
		}
		if !ends.IsZero() {
			a["endsAt"] = ends.Format(time.RFC3339)
		}
		return a
	}
	postAlerts(t, am, []map[string]any{alert("checkout-1", time.Time{}), alert("checkout-2", time.Time{})})

	var inc *incidents.Incident
	waitFor(t, "an incident with two firing alerts", func() bool {
		list := p.incidents(t)
		if len(list) == 1 && len(list[0].Alerts) == 2 {
			inc = list[0]
			return true
		}
		return false
	})
	if inc.Title != "Pod is crash looping." || inc.Severity != 1 || inc.Service != "checkout" ||
		inc.Refs[incidents.RefAlertmanagerGroup] != `{}:{alertname="KubePodCrashLooping", service="checkout"}` {
		t.Errorf("got title %q, severity %d, service %q, refs %v; want the group's", inc.Title, inc.Severity, inc.Service, inc.Refs)
	}
	for _, st := range inc.Alerts {
		if st.Status != "firing" || !st.StartsAt.Equal(start) || st.Fingerprint == "" {
			t.Errorf("got alert %+v, want firing since %v with Alertmanager's fingerprint", st, start)
		}
	}

	// Alertmanager repeats the notification every repeat_interval: the
	// repeats are answered 200 and change nothing.
	// Alertmanager may have sent the group once or twice by now (the
	// second alert can arrive before or after the first flush): wait until
	// what it sent is processed.
	waitFor(t, "the notifications so far processed", func() bool {
		n, err := p.inbox.Pending(context.Background())
		return err == nil && n == 0 && p.worker.Stats().Processed >= 1
	})
	processed, requests := p.worker.Stats().Processed, p.requests.Load()
	waitFor(t, "two repeated notifications", func() bool { return p.requests.Load() >= requests+2 })
	if got := p.worker.Stats().Processed; got != processed {
		t.Errorf("got %d deliveries processed after the repeats, want %d: a repeat is the same delivery", got, processed)
	}

	ends := time.Now().UTC().Add(-time.Second).Truncate(time.Second)
	postAlerts(t, am, []map[string]any{alert("checkout-1", ends), alert("checkout-2", ends)})
	waitFor(t, "the incident resolved", func() bool {
		got, err := p.svc.Get(context.Background(), inc.ID)
		return err == nil && got.Status == incidents.StatusResolved
	})
	types := countTypes(p.timeline(t, inc.ID))
	if types[incidents.EventAlertFired] != 2 || types[incidents.EventAlertResolved] != 2 || types[incidents.EventStatusChanged] != 1 {
		t.Errorf("got timeline %v, want 2 alert.fired, 2 alert.resolved and the resolution", types)
	}
	if st := p.worker.Stats(); st.Dropped != 0 || st.Failed != 0 {
		t.Errorf("got worker stats %+v, want nothing failed or dropped", st)
	}
}
