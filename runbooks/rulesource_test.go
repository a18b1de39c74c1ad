package runbooks

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRulesSourceReadsRuleFilesAndCountsTheRest(t *testing.T) {
	dir := t.TempDir()
	thanos, err := os.ReadFile("testdata/rules/thanos/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "mixins/thanos.yaml", string(thanos))
	writeFile(t, dir, "team/api.yml", "groups:\n- name: api\n  rules:\n  - alert: APIDown\n    expr: up{job=\"api\"} == 0\n")
	writeFile(t, dir, "chart/templates/rules.yaml", "{{- if .Values.rules }}\ngroups: []\n{{- end }}\n")
	writeFile(t, dir, "deploy/values.yaml", "replicas: 2\n")
	writeFile(t, dir, "broken.yaml", "groups:\n- name: x\n  rules: [\n")
	writeFile(t, dir, "README.md", "# not YAML, not read\n")

	lib := NewLibrary(LibraryOptions{})
	if err := lib.Add(NewDirSource("pages", t.TempDir()), SourceConfig{}); err != nil {
		t.Fatal(err)
	}
	if err := lib.AddRules(NewDirSource("pages", dir), SourceConfig{}); err == nil {
		t.Error("a rules source took the name of a pages source")
	}
	if err := lib.AddRules(NewDirSource("rules", dir), SourceConfig{}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ch, err := lib.Refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !ch.Rules || ch.Empty() {
		t.Errorf("the first refresh did not say the rules changed: %+v", ch)
	}
	rules := lib.Rules()
	if len(rules) != 49 {
		t.Errorf("read %d rules, want 48 from the mixin and 1 of the team", len(rules))
	}
	for _, r := range rules {
		if r.Source != "rules" {
			t.Fatalf("rule %s has source %q", r.Alert, r.Source)
		}
	}
	st := lib.RulesStatus()
	if len(st) != 1 {
		t.Fatalf("status %+v", st)
	}
	s := st[0]
	if s.Files != 5 || s.Rules != 49 || s.Skipped != 1 || s.Templates != 1 || s.Broken != 1 {
		t.Errorf("status files %d rules %d skipped %d templates %d broken %d; want 5, 49, 1, 1, 1",
			s.Files, s.Rules, s.Skipped, s.Templates, s.Broken)
	}
	var where []string
	for _, d := range s.Diagnostics {
		where = append(where, d.Path)
	}
	if got := strings.Join(where, " "); got != "broken.yaml chart/templates/rules.yaml" {
		t.Errorf("diagnostics name %q, want the broken file and the template", got)
	}

	v := lib.Version()
	ch, err = lib.Refresh(ctx)
	if err != nil || ch.Rules || lib.Version() != v {
		t.Errorf("a refresh with nothing changed: changes %+v, version %d→%d, err %v", ch, v, lib.Version(), err)
	}
	writeFile(t, dir, "team/api.yml", "groups:\n- name: api\n  rules:\n  - alert: APIDown\n    expr: up{job=\"api\"} == 0\n    for: 5m\n")
	if ch, _ = lib.Refresh(ctx); !ch.Rules || lib.Version() == v {
		t.Error("a changed rule was not noticed")
	}
	if err := os.RemoveAll(filepath.Join(dir, "mixins")); err != nil {
		t.Fatal(err)
	}
	if ch, _ = lib.Refresh(ctx); !ch.Rules || len(lib.Rules()) != 1 {
		t.Errorf("removed rules: changes %+v, %d rules left, want 1", ch, len(lib.Rules()))
	}
}
