package runbooks

import (
	"strings"
	"testing"
)

func TestMatchers(t *testing.T) {
	labels := map[string]string{"service": "payments-api", "severity": "critical", "namespace": "prod"}
	tests := []struct {
		expr string
		want bool
	}{
		{`service=payments-api`, true},
		{`service="payments-api"`, true},
		{`service!=payments-api`, false},
		{`severity=~critical|page`, true},
		{`severity=~crit`, false}, // anchored, as in Prometheus
		{`namespace!~kube-.*`, true},
		{`team=`, true}, // a missing label is empty
	}
	for _, tt := range tests {
		m, err := ParseMatcher(tt.expr)
		if err != nil {
			t.Fatalf("ParseMatcher(%q): %v", tt.expr, err)
		}
		if got := m.Matches(labels); got != tt.want {
			t.Errorf("%s matches %v = %v, want %v", tt.expr, labels, got, tt.want)
		}
	}
	for _, bad := range []string{"", "=x", "9lives=x", "a=~(", "a~b"} {
		if _, err := ParseMatcher(bad); err == nil {
			t.Errorf("ParseMatcher(%q) succeeded, want an error", bad)
		}
	}
}

// Finding: a malformed matcher (`queue=~"orders`) was taken as it was,
// quote and all, and matched nothing, silently.
func TestAMatcherWithAnUnclosedQuoteIsAnError(t *testing.T) {
	for _, bad := range []string{`queue=~"orders`, `queue="orders`, `queue='orders`, `queue="`, `queue=orders"`, `queue=or"ders`} {
		if m, err := ParseMatcher(bad); err == nil {
			t.Errorf("ParseMatcher(%q) = %+v, want an error", bad, m)
		}
	}
	for expr, want := range map[string]string{`queue=~"orders"`: "orders", `queue='orders'`: "orders", `queue=""`: "", `queue="a\"b"`: `a\"b`} {
		m, err := ParseMatcher(expr)
		if err != nil || m.Value != want {
			t.Errorf("ParseMatcher(%q) = %+v, %v; want the value %q", expr, m, err, want)
		}
	}
	page := Parse("q.md", []byte("---\nalerts:\n  - name: OrdersQueueBacklog\n    matchers: [queue=~\"orders]\n---\n# Q\n"), ParseOptions{})
	found := false
	for _, d := range page.Diagnostics {
		found = found || (d.Rule == "front-matter-field" && strings.Contains(d.Message, "never closed"))
	}
	if !found {
		t.Errorf("lint says nothing of the malformed matcher: %v", page.Diagnostics)
	}
}

func TestBindingNeedsNameAndMatchersToHold(t *testing.T) {
	m, _ := ParseMatcher("service=payments")
	b := AlertBinding{Name: "HighErrorRate", Matchers: []Matcher{m}}
	if !b.Matches("higherrorrate", map[string]string{"service": "payments"}) {
		t.Error("a matching name (ignoring case) and labels did not match")
	}
	if b.Matches("HighErrorRate", map[string]string{"service": "orders"}) {
		t.Error("the name matched although the labels did not")
	}
	if (AlertBinding{}).Matches("x", nil) {
		t.Error("an empty binding matched")
	}
}

func TestTemplates(t *testing.T) {
	tests := []struct {
		tmpl    string
		wantErr string
		vars    []string
	}{
		{"https://g/d?var-ns={{namespace}}&from={{ from_ms }}", "", []string{"namespace", "from_ms"}},
		{"{{labels.instance}} {{annotations.summary}}", "", []string{"labels.instance", "annotations.summary"}},
		{"no variables", "", nil},
		{"{{.Labels.pod}}", "did you mean {{labels.pod}}", nil},
		{"{{Namespace}}", "did you mean {{namespace}}", nil},
		{"{{region}}", "unknown variable {{region}}", nil},
		{"x {{namespace", "never closed", nil},
		{"{{ }}", "empty placeholder", nil},
	}
	for _, tt := range tests {
		ps, err := ParseTemplate(tt.tmpl)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseTemplate(%q) error = %v, want one saying %q", tt.tmpl, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseTemplate(%q): %v", tt.tmpl, err)
			continue
		}
		var names []string
		for _, p := range ps {
			names = append(names, p.Name)
		}
		if strings.Join(names, ",") != strings.Join(tt.vars, ",") {
			t.Errorf("ParseTemplate(%q) = %v, want %v", tt.tmpl, names, tt.vars)
		}
	}
}

func TestBrokenFrontMatterKeepsReadableKeys(t *testing.T) {
	src := "---\ntitle: Disk full\nservice: [unclosed\nteam: storage\n---\n# H\n"
	rb := Parse("disk.md", []byte(src), ParseOptions{})
	if rb.Title != "Disk full" || rb.Team != "storage" {
		t.Errorf("title %q team %q: the readable keys were lost", rb.Title, rb.Team)
	}
	d := findRule(rb, "front-matter")
	if d == nil || d.Line != 3 {
		t.Fatalf("front-matter diagnostic = %+v, want one on line 3", d)
	}
}

func TestStepsRules(t *testing.T) {
	tests := []struct {
		name   string
		page   string
		rule   StepRule
		titles []string
	}{
		{"ordered list in a procedure section",
			"# T\n\n## Meaning\n\n1. not a step\n\n## Mitigation\n\n1. First\n2. Second\n", RuleOrderedList, []string{"First", "Second"}},
		{"numbered sub-headings win over their lists",
			"# T\n\n## Remediation\n\n### 1. Drain\n\n1. a\n2. b\n\n### 2. Replace\n\ntext\n", RuleNumberedHeadings, []string{"Drain", "Replace"}},
		{"task list",
			"# T\n\n## Steps\n\n- [ ] Page the DBA\n- [x] Freeze deploys\n", RuleOrderedList + "", nil},
		{"bullets when nothing else",
			"# T\n\n## Diagnosis\n\n- Check `kubectl get pods -A`\n- Check logs\n", RuleBullets, []string{"Check kubectl get pods -A", "Check logs"}},
		{"a list of bare reference links is not a procedure",
			"# T\n\n## Mitigation\n\nRun:\n\n```bash\nmake fix\n```\n\n- [1](https://a.example)\n- [2](https://b.example)\n", RuleCodeBlocks, []string{"Run"}},
		{"whole page ordered list without procedure headings",
			"# Restart the queue\n\n1. Stop consumers\n   ```\n   systemctl stop c\n   ```\n2. Start them\n", RuleOrderedList, []string{"Stop consumers", "Start them"}},
		{"step headings over the whole page",
			"# T\n\n## Step 1: Look\n\nx\n\n## Step 2: Fix\n\ny\n", RuleNumberedHeadings, []string{"Look", "Fix"}},
		{"prose procedure is one step",
			"# T\n\n## Mitigation\n\nTalk to the owners.\n", RuleProse, []string{"Mitigation"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb := Parse("p.md", []byte(tt.page), ParseOptions{})
			if tt.titles == nil { // the task list case: checked below
				if len(rb.Steps) != 2 || rb.StepsFrom.Rule != RuleTaskList || !rb.Steps[1].Checked || rb.Steps[0].Title != "Page the DBA" {
					t.Errorf("task list steps = %+v from %+v", rb.Steps, rb.StepsFrom)
				}
				return
			}
			var titles []string
			for _, s := range rb.Steps {
				titles = append(titles, s.Title)
			}
			if strings.Join(titles, "|") != strings.Join(tt.titles, "|") {
				t.Errorf("step titles = %q, want %q", titles, tt.titles)
			}
			if rb.StepsFrom == nil || rb.StepsFrom.Rule != tt.rule {
				t.Errorf("steps from %+v, want rule %s", rb.StepsFrom, tt.rule)
			}
		})
	}
}

func TestTranscriptsSplitCommandsFromOutput(t *testing.T) {
	c := makeCommand("console", "$ kubectl get pods \\\n    -n payments\nNAME   READY\napi-1  1/1\nadmin@db1:~$ psql -c 'select 1'\n 1\n[root@node ~]# df -h", 1)
	wantCode := "kubectl get pods \\\n    -n payments\npsql -c 'select 1'\ndf -h"
	if c.Code != wantCode {
		t.Errorf("code = %q, want %q", c.Code, wantCode)
	}
	if c.Output != "NAME   READY\napi-1  1/1\n 1" {
		t.Errorf("output = %q", c.Output)
	}
	plain := makeCommand("bash", "# comment\nkubectl get pods", 1)
	if plain.Code != "# comment\nkubectl get pods" || plain.Output != "" {
		t.Errorf("a script without prompts was split: %+v", plain)
	}
}

func findRule(rb *Runbook, rule string) *Diagnostic {
	for i := range rb.Diagnostics {
		if rb.Diagnostics[i].Rule == rule {
			return &rb.Diagnostics[i]
		}
	}
	return nil
}

func TestTranscriptsOfOtherShells(t *testing.T) {
	tests := []struct {
		name, lang, code, wantCode, wantOutput string
	}{
		{"heredoc continued with > prompts", "console",
			"$ cat <<EOF | kubectl apply -f -\n> apiVersion: v1\n> kind: Namespace\n> EOF\nnamespace/x created",
			"cat <<EOF | kubectl apply -f -\napiVersion: v1\nkind: Namespace\nEOF", "namespace/x created"},
		{"mysql", "", "mysql> SHOW PROCESSLIST;\n+----+\n| Id |", "SHOW PROCESSLIST;", "+----+\n| Id |"},
		{"psql", "", "postgres=# SELECT 1;\n ?column?", "SELECT 1;", " ?column?"},
		{"redis-cli", "", "127.0.0.1:6379> INFO memory\n# Memory\nused_memory:1", "INFO memory", "# Memory\nused_memory:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := makeCommand(tt.lang, tt.code, 1)
			if c.Code != tt.wantCode || c.Output != tt.wantOutput {
				t.Errorf("got code %q output %q, want %q and %q", c.Code, c.Output, tt.wantCode, tt.wantOutput)
			}
		})
	}
}

func TestInlineCommands(t *testing.T) {
	for code, want := range map[string]bool{
		"kubectl -n prod get pods": true,
		"node pool":                false,
		"service account":          false,
		"top 10":                   false,
		"top -b -n 1":              true,
		"sudo du -sh /var":         true,
		"./scripts/failover.sh":    false, // one word: a path, not a command line
		"./scripts/failover.sh db": true,
	} {
		if got := looksLikeCommand(code); got != want {
			t.Errorf("looksLikeCommand(%q) = %v, want %v", code, got, want)
		}
	}
}

func TestFrontMatterSmallForms(t *testing.T) {
	rb := Parse("r.md", []byte("---\nalerts: RedisDown, RedisMemoryHigh\nowner: \"@cache\"\ntags: \"redis, cache\"\n---\n# Redis\n"), ParseOptions{})
	var names []string
	for _, a := range rb.Alerts {
		names = append(names, a.Name)
	}
	if strings.Join(names, ",") != "RedisDown,RedisMemoryHigh" || len(rb.Tags) != 2 || len(rb.Owners) != 1 {
		t.Errorf("alerts %v, tags %v, owners %v", names, rb.Tags, rb.Owners)
	}
}

func TestTodoIsAWordNotPartOfAName(t *testing.T) {
	rb := Parse("p.md", []byte("# T\n\n## Mitigation\n\n1. File a ticket OPS-XXX\n2. TODO: write the rollback\n"), ParseOptions{})
	var lines []int
	for _, d := range rb.Diagnostics {
		if d.Rule == "todo" {
			lines = append(lines, d.Line)
		}
	}
	if len(lines) != 1 || lines[0] != 6 {
		t.Errorf("todo diagnostics on lines %v, want only line 6", lines)
	}
}

func TestProseAroundAListBelongsToTheSteps(t *testing.T) {
	page := "# Queue\n\n## Mitigation\n\nBefore you start, silence the alert.\n\n1. Restart the consumer\n2. Scale it out\n\nThen check that the queue drains:\n\n```bash\nrabbitmqctl list_queues\n```\n\nPage the messaging team if it does not.\n"
	rb := Parse("q.md", []byte(page), ParseOptions{})
	if len(rb.Steps) != 2 {
		t.Fatalf("%d steps, want 2", len(rb.Steps))
	}
	if !strings.Contains(rb.Steps[0].Body, "silence the alert") {
		t.Errorf("step 1 lost the lead-in: %q", rb.Steps[0].Body)
	}
	last := rb.Steps[1]
	if !strings.Contains(last.Body, "Page the messaging team") || len(last.Commands) != 1 || last.Commands[0].Code != "rabbitmqctl list_queues" {
		t.Errorf("the last step lost what follows the list: %+v", last)
	}
}
