package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
)

// rulesSetup writes a runbooks directory, published as a Hugo site, and
// a rules directory with what real rules sources hold: a PrometheusRule
// whose links point at the site, a rule file with a rule that has no
// runbook and one whose link leads nowhere, a Helm template, a values
// file and a broken file. It returns the configuration file.
func rulesSetup(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, dir, "runbooks/kubernetes/KubePodCrashLooping.md", "---\ntitle: Kube Pod Crash Looping\n---\n# KubePodCrashLooping\n\n## Mitigation\n\n1. Check `kubectl describe pod`\n")
	writeFile(t, dir, "runbooks/node/NodeFilesystemAlmostOutOfSpace.md", "# NodeFilesystemAlmostOutOfSpace\n\n## Mitigation\n\n1. Free space\n")
	writeFile(t, dir, "rules/kube.yaml", `apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: kube}
spec:
  groups:
  - name: kubernetes-apps
    rules:
    - alert: KubePodCrashLooping
      annotations:
        description: 'Pod {{ $labels.namespace }}/{{ $labels.pod }} is in waiting state (reason: "CrashLoopBackOff").'
        runbook_url: https://runbooks.example.dev/runbooks/kubernetes/kubepodcrashlooping
        summary: Pod is crash looping.
      expr: max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}[5m]) >= 1
      for: 15m
      labels:
        severity: warning
`)
	writeFile(t, dir, "rules/node.yml", `groups:
- name: node
  rules:
  - alert: NodeFilesystemAlmostOutOfSpace
    expr: node_filesystem_avail_bytes / node_filesystem_size_bytes < 0.05
  - alert: NodeClockSkewDetected
    expr: node_timex_offset_seconds > 0.05
  - alert: NodeRAIDDegraded
    expr: node_md_disks_required - node_md_disks{state="active"} > 0
    annotations:
      runbook_url: https://runbooks.example.dev/runbooks/node/noderaiddegraded
`)
	writeFile(t, dir, "rules/chart/templates/rules.yaml", "{{- if .Values.enabled }}\ngroups: []\n{{- end }}\n")
	writeFile(t, dir, "rules/values.yaml", "replicas: 2\n")
	writeFile(t, dir, "rules/broken.yaml", "groups:\n- name: x\n  rules: [\n")
	return writeFile(t, dir, "breadcrumb.yaml", `runbooks:
  sources:
    - name: upstream
      path: runbooks
      site_urls: [https://runbooks.example.dev/runbooks/]
rules:
  sources:
    - name: mixins
      path: rules
`)
}

type ruleLine struct {
	Source, Path, Group, Alert, Expr, For string
	Line                                  int
	Labels, Annotations                   map[string]string
	Runbook                               *struct{ Source, Path, Anchor, Reason, Rule string }
	BrokenLink                            string `json:"broken_link"`
}

func TestRulesPrintsEveryRuleWithItsRunbook(t *testing.T) {
	env := inEmptyDir(t)
	cfg := rulesSetup(t)
	res := runCLI(t, env, "rules", "--json", "--config", cfg)
	if res.code != exitOK {
		t.Fatalf("code %d, stderr %q", res.code, res.stderr)
	}
	byAlert := map[string]ruleLine{}
	for _, l := range lines(res.stdout) {
		var r ruleLine
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		byAlert[r.Alert] = r
	}
	if len(byAlert) != 4 {
		t.Fatalf("%d rules, want 4: %v", len(byAlert), res.stdout)
	}
	crash := byAlert["KubePodCrashLooping"]
	if crash.Source != "mixins" || crash.Path != "kube.yaml" || crash.Line != 8 || crash.Group != "kubernetes-apps" ||
		crash.For != "15m" || crash.Labels["severity"] != "warning" || crash.Annotations["summary"] != "Pod is crash looping." {
		t.Errorf("KubePodCrashLooping: %+v", crash)
	}
	if crash.Runbook == nil || crash.Runbook.Source != "upstream" || crash.Runbook.Path != "kubernetes/KubePodCrashLooping.md" || crash.Runbook.Rule != "runbook_url" {
		t.Errorf("KubePodCrashLooping's runbook: %+v, want the page its runbook_url names on the site", crash.Runbook)
	}
	if r := byAlert["NodeFilesystemAlmostOutOfSpace"].Runbook; r == nil || r.Rule != "name" {
		t.Errorf("a rule without a link: %+v, want the page named after it", r)
	}
	if r := byAlert["NodeClockSkewDetected"]; r.Runbook != nil {
		t.Errorf("a rule that nothing documents got %+v", r.Runbook)
	}
	if r := byAlert["NodeRAIDDegraded"]; r.Runbook != nil || r.BrokenLink != "https://runbooks.example.dev/runbooks/node/noderaiddegraded" {
		t.Errorf("a link to a page that does not exist: %+v", r)
	}
	for _, want := range []string{"mixins/broken.yaml:3:", "mixins/chart/templates/rules.yaml:1:", "Helm or Go template"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr lacks %q: %s", want, res.stderr)
		}
	}

	text := runCLI(t, env, "rules", "--config", cfg)
	for _, want := range []string{
		"mixins/kube.yaml:8: KubePodCrashLooping → upstream:kubernetes/KubePodCrashLooping.md",
		"mixins/node.yml:6: NodeClockSkewDetected has no runbook",
		"4 alert rules in 5 files: 2 with a runbook, 2 without; 1 link leads to no page; skipped 1 other YAML file, 1 template, 1 broken",
	} {
		if !strings.Contains(text.stdout, want) {
			t.Errorf("text output lacks %q:\n%s", want, text.stdout)
		}
	}
}

func TestRulesMissingFailsWhileARuleHasNoRunbook(t *testing.T) {
	exampleRules, exampleRunbooks := absPath(t, "../../examples/rules"), absPath(t, "../../examples/runbooks")
	env := inEmptyDir(t)
	res := runCLI(t, env, "rules", "--missing", "--config", rulesSetup(t))
	if res.code != exitProblems {
		t.Errorf("code %d, want %d", res.code, exitProblems)
	}
	got := lines(res.stdout)
	if len(got) != 3 || !strings.Contains(got[0], "NodeClockSkewDetected") || !strings.Contains(got[1], "NodeRAIDDegraded") {
		t.Errorf("--missing printed %q, want the two rules without a runbook and the summary", got)
	}

	examples := runCLI(t, env, "rules", "--missing", "--rules", exampleRules, "--runbooks", exampleRunbooks)
	if examples.code != exitOK {
		t.Errorf("an example alert has no runbook: code %d\n%s%s", examples.code, examples.stdout, examples.stderr)
	}
}

func TestRulesNeedsASource(t *testing.T) {
	env := inEmptyDir(t)
	for _, args := range [][]string{{"rules"}, {"rules", "--rules", filepath.Join(t.TempDir(), "nowhere")}, {"rules", "extra"}} {
		if res := runCLI(t, env, args...); res.code != exitUsage || res.stderr == "" {
			t.Errorf("%v: code %d, stderr %q; want a usage error", args, res.code, res.stderr)
		}
	}
}

func TestMatchWithoutALinkFindsThePageThroughItsRule(t *testing.T) {
	env := inEmptyDir(t)
	cfg := rulesSetup(t)
	// As PagerDuty relays it: the name and some labels, no annotations.
	body := writeFile(t, t.TempDir(), "am.json", `{"version":"4","status":"firing","alerts":[
{"status":"firing","labels":{"alertname":"KubePodCrashLooping","namespace":"shop","severity":"warning"},"annotations":{},"startsAt":"2026-11-25T03:00:00Z","fingerprint":"f1"}]}`)
	res := runCLI(t, env, "match", "--json", "--config", cfg, "--alerts", body)
	if res.code != exitOK {
		t.Fatalf("code %d, stderr %q", res.code, res.stderr)
	}
	got := parseMatchLines(t, res.stdout)
	if len(got) != 1 || len(got[0].Candidates) == 0 {
		t.Fatalf("got %+v", got)
	}
	c := got[0].Candidates[0]
	if c.Path != "kubernetes/KubePodCrashLooping.md" || c.Rule != "alert_rule" || !strings.Contains(c.Reason, "mixins:kube.yaml:8") {
		t.Errorf("candidate %+v, want the page its rule links to, with the rule named", c)
	}
}

func TestRulesAreReadFromGitLikeRunbooks(t *testing.T) {
	env := inEmptyDir(t)
	repoDir := t.TempDir()
	repo, err := git.PlainInit(repoDir, false)
	if err != nil {
		t.Fatal(err)
	}
	commitPage(t, repo, repoDir, "monitoring/rules/api.yaml", "groups:\n- name: api\n  rules:\n  - alert: APIDown\n    expr: up{job=\"api\"} == 0\n", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	commitPage(t, repo, repoDir, "monitoring/dashboards.yaml", "dashboards: []\n", time.Date(2026, 12, 1, 0, 1, 0, 0, time.UTC))
	pages := t.TempDir()
	writeFile(t, pages, "APIDown.md", "# APIDown\n\n## Mitigation\n\n1. Restart the API.\n")
	cfg := writeFile(t, t.TempDir(), "breadcrumb.yaml", fmt.Sprintf("runbooks:\n  sources:\n    - name: pages\n      path: %q\nrules:\n  sources:\n    - name: mon\n      git:\n        url: %q\n        subdir: monitoring\n", pages, repoDir))
	res := runCLI(t, env, "rules", "--missing", "--config", cfg)
	if res.code != exitOK || !strings.Contains(res.stdout, "1 alert rule in 2 files: 1 with a runbook, 0 without; skipped 1 other YAML file") {
		t.Errorf("code %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
}
