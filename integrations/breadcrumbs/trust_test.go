package breadcrumbs

import (
	"net/url"
	"testing"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// Finding: a link template that was a bare placeholder
// ({{annotations.dashboard}}) or had one in its host let whoever sent
// the alert choose where the redirect /b/ sends a responder.
func TestAlertDataChoosesNoHostThatTheConfigurationOrTheRunbookDoesNotName(t *testing.T) {
	a := alert(map[string]string{"alertname": "High5xx", "cluster": "evil.example"})
	a.Annotations = map[string]string{"dashboard": "https://evil.example/login", "grafana": "https://grafana.example.com/d/x"}
	a.GeneratorURL = "http://evil.example:9090/graph?g0.expr=" + url.QueryEscape("up == 0")
	named := &runbooks.Runbook{Links: []runbooks.Link{{Kind: runbooks.LinkAbsolute, URL: "https://grafana.example.com/d/home"}}}
	tests := []struct {
		name     string
		cfg      Config
		runbook  *runbooks.Runbook
		wantHost string // "" for no link
	}{
		{"a bare placeholder to a host nobody named", Config{Providers: []ProviderConfig{{Name: "d", Type: TypeURL, URL: "{{annotations.dashboard}}"}}}, nil, ""},
		{"a bare placeholder to an allowed host", Config{Providers: []ProviderConfig{{Name: "d", Type: TypeURL, URL: "{{annotations.dashboard}}"}}, AllowedHosts: []string{"evil.example"}}, nil, "evil.example"},
		{"a bare placeholder to a host under an allowed domain", Config{Providers: []ProviderConfig{{Name: "d", Type: TypeURL, URL: "{{annotations.grafana}}"}}, AllowedHosts: []string{"*.example.com"}}, nil, "grafana.example.com"},
		{"a bare placeholder to a provider's host", Config{Providers: []ProviderConfig{{Name: "d", Type: TypeURL, URL: "{{annotations.grafana}}"},
			{Name: "j", Type: TypeJaeger, BaseURL: "https://grafana.example.com"}}}, nil, "grafana.example.com"},
		{"a bare placeholder to a host the runbook links to", Config{Providers: []ProviderConfig{{Name: "d", Type: TypeURL, URL: "{{annotations.grafana}}"}}}, named, "grafana.example.com"},
		{"a placeholder in the host", Config{Providers: []ProviderConfig{{Name: "d", Type: TypeURL, URL: "https://{{cluster}}/d/x"}}}, nil, ""},
		{"a placeholder before an allowed domain", Config{Providers: []ProviderConfig{{Name: "d", Type: TypeURL, URL: "https://{{cluster}}.grafana.example.com/d/x"}}, AllowedHosts: []string{"*.grafana.example.com"}}, nil, "evil.example.grafana.example.com"},
		{"the generator URL's host, unnamed", Config{Providers: []ProviderConfig{{Name: "p", Type: TypePrometheus}}}, nil, ""},
		{"the generator URL's host, allowed", Config{Providers: []ProviderConfig{{Name: "p", Type: TypePrometheus}}, AllowedHosts: []string{"evil.example"}}, nil, "evil.example:9090"},
		{"a placeholder in the path only", Config{Providers: []ProviderConfig{{Name: "d", Type: TypeURL, URL: "https://status.example.com/{{cluster}}"}}}, nil, "status.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			var got []incidents.Link
			for _, l := range s.Links(Input{IncidentID: "INC-1", Alerts: []runbooks.Alert{a}, Runbook: tt.runbook, Now: testNow}) {
				if l.Provider == "d" || l.Provider == "p" {
					got = append(got, l)
				}
			}
			switch {
			case tt.wantHost == "" && len(got) > 0:
				t.Errorf("got %s, want no link", got[0].URL)
			case tt.wantHost != "" && len(got) != 1:
				t.Errorf("got %d links, want one to %s", len(got), tt.wantHost)
			case tt.wantHost != "" && parse(t, got[0].URL).Host != tt.wantHost:
				t.Errorf("got %s, want a link to %s", got[0].URL, tt.wantHost)
			}
		})
	}
}

func TestAllowedHostsMustBeHostNames(t *testing.T) {
	for _, bad := range []string{"https://grafana.example.com", "grafana.example.com/d", "*.", "*.com:80", "", "exa mple.com"} {
		if _, err := New(Config{AllowedHosts: []string{bad}}); err == nil {
			t.Errorf("allowed_hosts %q: got no error", bad)
		}
	}
	for _, good := range []string{"grafana.example.com", "*.example.com", "prometheus-k8s-0", "10.0.0.7"} {
		if _, err := New(Config{AllowedHosts: []string{good}}); err != nil {
			t.Errorf("allowed_hosts %q: %v", good, err)
		}
	}
}
