package runbooks

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseRulesReadsARealMixinsRuleFile(t *testing.T) {
	data, err := os.ReadFile("testdata/rules/thanos/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rules, diags, kind := ParseRules("thanos/alerts.yaml", data)
	if kind != RuleFileRules || len(diags) > 0 {
		t.Fatalf("kind %s, diagnostics %v; want rules and none", kind, diags)
	}
	if len(rules) != 48 {
		t.Errorf("read %d alerting rules, want the file's 48", len(rules))
	}
	var halted *Rule
	for i := range rules {
		if rules[i].Alert == "ThanosCompactHalted" {
			halted = &rules[i]
		}
	}
	if halted == nil {
		t.Fatal("ThanosCompactHalted was not read")
	}
	want := Rule{Path: "thanos/alerts.yaml", Line: 13, Group: "thanos-compact", Alert: "ThanosCompactHalted",
		Expr: `thanos_compact_halted{job=~".*thanos-compact.*"} == 1`, For: "5m",
		Labels: map[string]string{"severity": "warning"},
		Annotations: map[string]string{
			"description": "Thanos Compact {{$labels.job}} has failed to run and now is halted.",
			"runbook_url": "https://github.com/thanos-io/thanos/tree/main/mixin/runbook.md#alert-name-thanoscompacthalted",
			"summary":     "Thanos Compact has failed to run and is now halted.",
		}}
	if !reflect.DeepEqual(*halted, want) {
		t.Errorf("got  %+v\nwant %+v", *halted, want)
	}
	if got := halted.Text(); got != "Thanos Compact has failed to run and is now halted.\nThanos Compact has failed to run and now is halted.\nthanos_compact_halted" {
		t.Errorf("Text() = %q", got)
	}
}

func TestParseRulesTellsWhatAFileHolds(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		kind      RuleFileKind
		alerts    []string
		diagLines []int // the lines the diagnostics point at
	}{
		{
			name: "a Prometheus rule file, recording rules left out",
			file: "groups:\n- name: g\n  rules:\n  - record: job:up:sum\n    expr: sum(up)\n  - alert: Down\n    expr: up == 0\n",
			kind: RuleFileRules, alerts: []string{"Down"},
		},
		{
			name: "PrometheusRule objects in several documents, with another object between",
			file: "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: a}\nspec:\n  groups:\n  - name: a\n    rules:\n    - alert: A\n      expr: a > 1\n" +
				"---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n" +
				"---\nkind: PrometheusRule\nspec:\n  groups:\n  - name: b\n    rules:\n    - alert: B\n      expr: b > 1\n",
			kind: RuleFileRules, alerts: []string{"A", "B"},
		},
		{
			name: "a List of PrometheusRules",
			file: "apiVersion: v1\nkind: List\nitems:\n- kind: PrometheusRule\n  spec:\n    groups:\n    - name: g\n      rules:\n      - alert: InList\n        expr: x\n",
			kind: RuleFileRules, alerts: []string{"InList"},
		},
		{
			name: "a ConfigMap holding a rule file",
			file: "kind: ConfigMap\ndata:\n  alerts.yml: |\n    groups:\n    - name: g\n      rules:\n      - alert: FromConfigMap\n        expr: x\n        labels:\n          severity: [page]\n",
			kind: RuleFileRules, alerts: []string{"FromConfigMap"}, diagLines: []int{10},
		},
		{
			name: "a Deployment is not rules",
			file: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n",
			kind: RuleFileOther,
		},
		{
			name: "a values file is not rules",
			file: "replicas: 3\nimage: {tag: v1}\n",
			kind: RuleFileOther,
		},
		{
			name: "a Helm chart's template is reported at its first action",
			file: "{{- if .Values.rules.create }}\napiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nspec:\n  groups:\n  - name: g\n    rules:\n    - alert: A\n      expr: up == 0\n{{- end }}\n",
			kind: RuleFileTemplate, diagLines: []int{1},
		},
		{
			name: "a chart's values read inside a value",
			file: "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    labels:\n      severity: {{ .Values.severity }}\n",
			kind: RuleFileTemplate, diagLines: []int{7},
		},
		{
			name: "a generator's template in an alert name",
			file: "groups:\n- name: g\n  rules:\n  - alert: \"{{ $name }}Down\"\n    expr: up == 0\n",
			kind: RuleFileTemplate, diagLines: []int{4},
		},
		{
			name: "Prometheus's own templates in annotations are rules",
			file: "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    annotations:\n      summary: '{{ $labels.instance }} is down ({{ $value | humanize }}, {{ .Labels.job }})'\n",
			kind: RuleFileRules, alerts: []string{"A"},
		},
		{
			name: "Prometheus's own control actions inside a block of text are rules",
			file: "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    annotations:\n      description: |\n        {{ if gt $value 80.0 }}\n        very high\n        {{ end }}\n        {{ $value | humanize }} bytes\n  - alert: B\n    expr: up == 0\n",
			kind: RuleFileRules, alerts: []string{"A", "B"},
		},
		{
			name: "a generator's loop over services",
			file: "groups:\n- name: g\n  rules:\n{{ range .Services }}\n  - alert: Down\n    expr: up == 0\n{{ end }}\n",
			kind: RuleFileTemplate, diagLines: []int{4},
		},
		{
			name: "broken YAML gets its line",
			file: "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: [unclosed\n",
			kind: RuleFileBroken, diagLines: []int{5},
		},
		{
			name: "a malformed rule is reported, and the others kept",
			file: "groups:\n- name: g\n  rules:\n  - alert: NoExpr\n  - alert: Good\n    expr: x > 1\n    labels: [a, b]\n  - alert: {a: b}\n    expr: y\n  - just a string\n",
			kind: RuleFileRules, alerts: []string{"NoExpr", "Good"}, diagLines: []int{4, 7, 8, 10},
		},
		{
			name: "an empty file is not rules",
			file: "",
			kind: RuleFileOther,
		},
		{
			name: "a rule file with no groups yet",
			file: "groups: []\n",
			kind: RuleFileRules,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rules, diags, kind := ParseRules("r.yaml", []byte(tt.file))
			if kind != tt.kind {
				t.Errorf("kind %s, want %s (diagnostics %v)", kind, tt.kind, diags)
			}
			var names []string
			for _, r := range rules {
				names = append(names, r.Alert)
			}
			if !reflect.DeepEqual(names, tt.alerts) {
				t.Errorf("alerts %v, want %v", names, tt.alerts)
			}
			var lines []int
			for _, d := range diags {
				lines = append(lines, d.Line)
				if d.Path != "r.yaml" || d.Message == "" {
					t.Errorf("diagnostic without its file or message: %+v", d)
				}
			}
			if !reflect.DeepEqual(lines, tt.diagLines) {
				t.Errorf("diagnostics at lines %v, want %v: %v", lines, tt.diagLines, diags)
			}
		})
	}
}

func TestRuleLinesCountFromTheFileInAConfigMap(t *testing.T) {
	file := "kind: ConfigMap\nmetadata: {name: rules}\ndata:\n  a.yml: |\n    groups:\n    - name: g\n      rules:\n      - alert: Deep\n        expr: x\n"
	rules, _, _ := ParseRules("cm.yaml", []byte(file))
	if len(rules) != 1 || rules[0].Line != 8 {
		t.Fatalf("got %+v, want Deep on line 8", rules)
	}
}

func TestMetricNamesOfExpressions(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`up == 0`, []string{"up"}},
		{`thanos_compact_halted{job=~".*thanos-compact.*"} == 1`, []string{"thanos_compact_halted"}},
		{`sum by (cluster, namespace) (rate(cortex_request_duration_seconds_count{status_code=~"5.."}[1m])) / sum(rate(x_total[5m])) * 100 > 1`,
			[]string{"cortex_request_duration_seconds_count", "x_total"}},
		{`(node_filesystem_avail_bytes / node_filesystem_size_bytes * 100 < 3 and ON (instance, device, mountpoint) node_filesystem_readonly == 0)`,
			[]string{"node_filesystem_avail_bytes", "node_filesystem_size_bytes", "node_filesystem_readonly"}},
		{`increase(kube_pod_container_status_restarts_total[10m] offset 5m) > 1e3`, []string{"kube_pod_container_status_restarts_total"}},
		{`absent(up{job="kubelet"} == 1)`, []string{"up"}},
		{`max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff"}[5m]) >= 1 unless on(pod) group_left(owner) foo:bar:ratio`,
			[]string{"kube_pod_container_status_waiting_reason", "foo:bar:ratio"}},
		{`label_replace(x, "dst", "$1", "src", "(.*)") # a comment with words`, []string{"x"}},
		{`vector(1)`, nil},
		{`a == bool b`, []string{"a", "b"}},
	}
	for _, tt := range tests {
		if got := MetricNames(tt.expr); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("MetricNames(%q) = %v, want %v", tt.expr, got, tt.want)
		}
	}
}

func TestRuleFitsAnAlertsLabels(t *testing.T) {
	r := Rule{Labels: map[string]string{"severity": "critical", "team": "{{ $labels.team }}", "service": "api"}}
	tests := []struct {
		labels map[string]string
		held   int
		ok     bool
	}{
		{map[string]string{"severity": "critical", "service": "api"}, 2, true},
		{map[string]string{"severity": "critical"}, 1, true}, // a relay dropped service
		{map[string]string{}, 0, true},
		{map[string]string{"severity": "warning", "service": "api"}, 0, false},
		{map[string]string{"team": "anything"}, 0, true}, // a templated label never contradicts
	}
	for _, tt := range tests {
		held, ok := r.Fits(tt.labels)
		if held != tt.held || ok != tt.ok {
			t.Errorf("Fits(%v) = %d, %v; want %d, %v", tt.labels, held, ok, tt.held, tt.ok)
		}
	}
}

// FuzzParseRules proves that no YAML makes the rules parser panic, and
// that whatever it reads can be encoded and names lines of the file. Run
// it with: go test ./runbooks -run '^$' -fuzz FuzzParseRules
func FuzzParseRules(f *testing.F) {
	seeds := []string{
		"groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    labels: {severity: page}\n    annotations: {summary: '{{ $labels.x }}'}\n",
		"kind: PrometheusRule\nspec:\n  groups:\n  - name: g\n    rules:\n    - alert: A\n      expr: a\n",
		"kind: ConfigMap\ndata:\n  x: |\n    groups:\n    - name: g\n      rules:\n      - alert: A\n",
		"kind: List\nitems:\n- kind: List\n  items: [{kind: PrometheusRule}]\n",
		"{{- if .Values.x }}\ngroups: []\n{{- end }}\n",
		"groups: [unclosed\n",
		"groups:\n- name: &a g\n  rules: *a\n",
		"---\n---\ngroups: null\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, diags, kind := ParseRules("f.yaml", data)
		if _, err := json.Marshal(rules); err != nil {
			t.Fatalf("rules cannot be encoded: %v", err)
		}
		// Lines as YAML counts them: a lone "\r" ends a line too, as
		// editors that read old Mac files show it.
		lines := strings.Count(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") + strings.Count(strings.ReplaceAll(string(data), "\r\n", ""), "\r") + 2
		for _, d := range diags {
			if d.Line < 1 || d.Line > lines+1 || !utf8.ValidString(d.Message) && utf8.Valid(data) {
				t.Fatalf("diagnostic %+v out of the file's %d lines", d, lines)
			}
		}
		for _, r := range rules {
			if r.Alert == "" || r.Line < 1 || r.Line > lines {
				t.Fatalf("rule %+v without a name or a line in the file", r)
			}
		}
		if kind != RuleFileRules && len(rules) > 0 {
			t.Fatalf("kind %s with %d rules", kind, len(rules))
		}
		MetricNames(string(data))
	})
}

func TestParseRulesReadsKubePrometheusRuleObjects(t *testing.T) {
	files, err := filepath.Glob("testdata/rules/kube-prometheus/*.yaml")
	if err != nil || len(files) != 8 {
		t.Fatalf("%d files, %v", len(files), err)
	}
	total := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rules, diags, kind := ParseRules(filepath.Base(f), data)
		if kind != RuleFileRules || len(diags) > 0 {
			t.Errorf("%s: kind %s, diagnostics %v", f, kind, diags)
		}
		for _, r := range rules {
			if r.RunbookURL() == "" || r.Expr == "" || r.Labels["severity"] == "" {
				t.Errorf("%s:%d %s: runbook %q, expr %q, labels %v", f, r.Line, r.Alert, r.RunbookURL(), r.Expr, r.Labels)
			}
		}
		total += len(rules)
	}
	if total != 121 {
		t.Errorf("%d alerting rules, want 121", total)
	}
}
