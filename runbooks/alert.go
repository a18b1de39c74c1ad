package runbooks

import (
	"strings"
	"time"
)

// Alert is one firing (or resolved) alert, whatever sent it: the shape
// that runbook matching, incidents and breadcrumbs share. Integrations
// build it from Alertmanager and PagerDuty payloads.
type Alert struct {
	// Name is the alert's name (Alertmanager's alertname label, or the
	// PagerDuty incident's title when nothing better is known).
	Name        string            `json:"name"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Summary     string            `json:"summary,omitempty"`
	Description string            `json:"description,omitempty"`
	// RunbookURL is the runbook_url (or runbook) annotation, as sent.
	RunbookURL   string    `json:"runbook_url,omitempty"`
	Status       string    `json:"status,omitempty"` // "firing" or "resolved"
	StartsAt     time.Time `json:"starts_at,omitzero"`
	EndsAt       time.Time `json:"ends_at,omitzero"`
	GeneratorURL string    `json:"generator_url,omitempty"`
	Fingerprint  string    `json:"fingerprint,omitempty"`
	// Source names the sender: "alertmanager" or "pagerduty".
	Source string `json:"source"`
	// ExternalID identifies the alert at its source when it has its own ID
	// (a PagerDuty incident or alert ID).
	ExternalID string `json:"external_id,omitempty"`
}

// Alert sources.
const (
	SourceAlertmanager = "alertmanager"
	SourcePagerDuty    = "pagerduty"
)

// Service returns the service the alert is about: its service label, else
// app, else the Kubernetes app label, else job.
func (a Alert) Service() string {
	for _, k := range []string{"service", "app", "app_kubernetes_io_name", "job"} {
		if v := a.Labels[k]; v != "" {
			return v
		}
	}
	return ""
}

// Fill completes the fields that can be derived from the labels and
// annotations: the name from alertname, the summary, description and
// runbook URL from their annotations.
func (a *Alert) Fill() {
	if a.Name == "" {
		a.Name = a.Labels["alertname"]
	}
	get := func(keys ...string) string {
		for _, k := range keys {
			if v := strings.TrimSpace(a.Annotations[k]); v != "" {
				return v
			}
		}
		return ""
	}
	if a.Summary == "" {
		a.Summary = get("summary", "title", "message")
	}
	if a.Description == "" {
		a.Description = get("description", "details")
	}
	if a.RunbookURL == "" {
		a.RunbookURL = get("runbook_url", "runbook", "runbookURL", "runbook_link", "playbook")
	}
}
