package search

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

func page(body string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(body)} }

// matchFixture is two collections that both document KubePodCrashLooping
// (as real teams do), a team's own pages with front-matter bindings, and
// a page for an unrelated alert.
func matchFixture(t *testing.T) (*runbooks.Library, *Matcher, fstest.MapFS) {
	t.Helper()
	upstream := fstest.MapFS{
		"content/runbooks/kubernetes/KubePodCrashLooping.md":    page("---\ntitle: Kube Pod Crash Looping\n---\n# KubePodCrashLooping\n\n## Mitigation\n\n- Check `kubectl describe pod`\n"),
		"content/runbooks/node/NodeFilesystemSpaceFillingUp.md": page("---\ntitle: Node Filesystem Space Filling Up\naliases: [/runbooks/node/disk-filling/]\n---\n# NodeFilesystemSpaceFillingUp\n\n## Mitigation\n\n1. Remove old images\n"),
	}
	team := fstest.MapFS{
		"services/payments/runbooks/crashloop.md":             page("---\ntitle: Payments pods crash looping\nservice: payments-api\nalerts:\n  - name: KubePodCrashLooping\n    matchers: [namespace=payments]\n---\n# Payments pods crash looping\n\n## Mitigation\n\n1. Roll back the last deploy\n"),
		"services/payments/runbooks/5xx.md":                   page("---\ntitle: Payments API 5xx spike\nservice: payments-api\nalerts: [PaymentsAPIHigh5xxRate]\n---\n# Payments API 5xx spike\n\nMore than 2% of payment requests fail.\n\n## Mitigation\n\n1. Check the payment provider status page\n"),
		"services/orders/runbooks/queue.md":                   page("---\ntitle: Orders queue backlog\nservice: orders-worker\nalerts:\n  - matchers: {service: orders-worker, severity: critical}\n---\n# Orders queue backlog\n\n## Mitigation\n\n1. Scale the consumers of the orders queue\n"),
		"services/search/runbooks/ElasticsearchClusterRed.md": page("# Elasticsearch cluster red\n\n## Mitigation\n\n1. Find unassigned shards with `curl -s localhost:9200/_cat/shards`\n"),
	}
	lib := runbooks.NewLibrary(runbooks.LibraryOptions{})
	if err := lib.Add(runbooks.NewFSSource("upstream", upstream), runbooks.SourceConfig{
		RepoURL: "https://github.com/prometheus-operator/runbooks", SiteURLs: []string{"https://runbooks.prometheus-operator.dev/runbooks/"}}); err != nil {
		t.Fatal(err)
	}
	if err := lib.Add(runbooks.NewFSSource("team", team), runbooks.SourceConfig{
		RepoURL: "https://gitlab.example.com/larkspur/monorepo", RepoPath: "ops"}); err != nil {
		t.Fatal(err)
	}
	if _, err := lib.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	ix := openIndex(t, t.TempDir())
	if _, err := ix.Update(lib.Pages(), nil); err != nil {
		t.Fatal(err)
	}
	return lib, NewMatcher(lib, ix), team
}

func TestMatchFollowsTheOrderOfAuthority(t *testing.T) {
	_, m, _ := matchFixture(t)
	tests := []struct {
		name      string
		alert     runbooks.Alert
		wantFirst string
		wantRule  string
		wantAlso  []string
		anchor    string
	}{
		{"runbook_url on the rendered site, lower case, no .md",
			runbooks.Alert{Name: "KubePodCrashLooping", RunbookURL: "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/kubepodcrashlooping#mitigation"},
			"upstream:content/runbooks/kubernetes/KubePodCrashLooping.md", RuleRunbookURL, nil, "mitigation"},
		{"runbook_url to a GitLab blob with a branch holding a slash, under the repo path",
			runbooks.Alert{Name: "X", RunbookURL: "https://gitlab.example.com/larkspur/monorepo/-/blob/release/2.1/ops/services/payments/runbooks/5xx.md"},
			"team:services/payments/runbooks/5xx.md", RuleRunbookURL, nil, ""},
		{"runbook_url that is still a template",
			runbooks.Alert{Name: "X", Labels: map[string]string{"svc": "payments"}, RunbookURL: "https://gitlab.example.com/larkspur/monorepo/blob/main/ops/services/{{ $labels.svc }}/runbooks/5xx.md"},
			"team:services/payments/runbooks/5xx.md", RuleRunbookURL, nil, ""},
		{"runbook_url that is a Hugo alias",
			runbooks.Alert{Name: "X", RunbookURL: "https://wiki.example.com/runbooks/node/disk-filling/"},
			"upstream:content/runbooks/node/NodeFilesystemSpaceFillingUp.md", RuleRunbookURL, nil, ""},
		{"runbook annotation as a path relative to a source",
			runbooks.Alert{Name: "X", RunbookURL: "services/orders/runbooks/queue.md"},
			"team:services/orders/runbooks/queue.md", RuleRunbookURL, nil, ""},
		{"runbook annotation as a path from the repository root",
			runbooks.Alert{Name: "X", RunbookURL: "ops/services/orders/runbooks/queue.md"},
			"team:services/orders/runbooks/queue.md", RuleRunbookURL, nil, ""},
		{"runbook_url template with Prometheus's toLower",
			runbooks.Alert{Name: "X", Labels: map[string]string{"alertname": "KubePodCrashLooping"}, RunbookURL: "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/{{ $labels.alertname | toLower }}"},
			"upstream:content/runbooks/kubernetes/KubePodCrashLooping.md", RuleRunbookURL, nil, ""},
		{"front-matter binding with matchers beats the file name, and both are returned",
			runbooks.Alert{Name: "KubePodCrashLooping", Labels: map[string]string{"alertname": "KubePodCrashLooping", "namespace": "payments"}},
			"team:services/payments/runbooks/crashloop.md", RuleBinding, []string{"upstream:content/runbooks/kubernetes/KubePodCrashLooping.md"}, ""},
		{"binding by matchers alone",
			runbooks.Alert{Name: "OrdersLagging", Labels: map[string]string{"service": "orders-worker", "severity": "critical"}},
			"team:services/orders/runbooks/queue.md", RuleBinding, nil, ""},
		{"the alert name is the file name, ignoring case",
			runbooks.Alert{Name: "elasticsearchclusterred"},
			"team:services/search/runbooks/ElasticsearchClusterRed.md", RuleName, nil, ""},
		{"a binding that does not hold does not match: other namespace falls back to the file name",
			runbooks.Alert{Name: "KubePodCrashLooping", Labels: map[string]string{"namespace": "checkout"}},
			"upstream:content/runbooks/kubernetes/KubePodCrashLooping.md", RuleName, nil, ""},
		{"PagerDuty title made by Alertmanager",
			runbooks.Alert{Name: "[FIRING:3] ElasticsearchClusterRed (prod search)", Source: runbooks.SourcePagerDuty},
			"team:services/search/runbooks/ElasticsearchClusterRed.md", RuleName, nil, ""},
		{"full text with the service as a boost",
			runbooks.Alert{Name: "PaymentsErrorsHigh", Summary: "payment requests failing with 5xx", Labels: map[string]string{"service": "payments-api"}},
			"team:services/payments/runbooks/5xx.md", RuleText, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.alert.Fill()
			got, err := m.Match(context.Background(), tt.alert, 5)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 {
				t.Fatalf("no candidates, want %s", tt.wantFirst)
			}
			if got[0].ID != tt.wantFirst || got[0].Rule != tt.wantRule {
				t.Fatalf("first candidate %s by %s (%s), want %s by %s; all: %+v", got[0].ID, got[0].Rule, got[0].Reason, tt.wantFirst, tt.wantRule, got)
			}
			if got[0].Anchor != tt.anchor {
				t.Errorf("anchor %q, want %q", got[0].Anchor, tt.anchor)
			}
			if got[0].Reason == "" {
				t.Error("no reason given")
			}
			for _, also := range tt.wantAlso {
				found := false
				for _, c := range got[1:] {
					found = found || c.ID == also
				}
				if !found {
					t.Errorf("%s is missing from the candidates %+v", also, got)
				}
			}
			for i := 1; i < len(got); i++ {
				if got[i].Score > got[i-1].Score {
					t.Errorf("candidates out of order: %+v", got)
				}
			}
		})
	}
}

func TestNothingFitsMeansNoCandidate(t *testing.T) {
	_, m, _ := matchFixture(t)
	a := runbooks.Alert{Name: "ZookeeperQuorumLost", Summary: "zookeeper ensemble lost quorum"}
	got, err := m.Match(context.Background(), a, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("an alert with no runbook got candidates: %+v", got)
	}
}

func TestAnotherRepositorysReadmeIsNotOurs(t *testing.T) {
	_, m, _ := matchFixture(t)
	got, err := m.Match(context.Background(), runbooks.Alert{Name: "Unrelated", RunbookURL: "https://github.com/acme/other/blob/main/README.md"}, 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range got {
		if c.Rule == RuleRunbookURL {
			t.Errorf("a link to another repository's README found %+v", c)
		}
	}
}

func TestMatchSeesPagesAddedAfterItsFirstUse(t *testing.T) {
	lib, m, team := matchFixture(t)
	ctx := context.Background()
	a := runbooks.Alert{Name: "ZookeeperQuorumLost"}
	if got, err := m.Match(ctx, a, 5); err != nil || len(got) != 0 {
		t.Fatalf("before the page exists: %+v, %v", got, err)
	}
	team["services/zk/runbooks/ZookeeperQuorumLost.md"] = page("# Zookeeper quorum lost\n\n## Mitigation\n\n1. Restart the follower\n")
	if _, err := lib.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := m.Match(ctx, a, 5)
	if err != nil || len(got) == 0 || got[0].ID != "team:services/zk/runbooks/ZookeeperQuorumLost.md" || got[0].Rule != RuleName {
		t.Errorf("after the page was added: %+v, %v; want it found by its name", got, err)
	}
}

// servicePages is a collection of service pages (docs/<service>/...), as
// many companies keep them: alert names are not file names, and nothing
// binds them.
func servicePages(t *testing.T) *Matcher {
	t.Helper()
	fsys := fstest.MapFS{
		"docs/gitaly/README.md":        page("# Gitaly\n\nGitaly serves git repositories over gRPC.\n\n## Troubleshooting\n\n- Check the gitaly service with `systemctl status gitaly`\n"),
		"docs/gitaly/gitaly-down.md":   page("# Gitaly is down\n\nThe gitaly process stopped answering.\n\n## Mitigation\n\n1. Restart gitaly: `sudo gitlab-ctl restart gitaly`\n"),
		"docs/patroni/README.md":       page("# Patroni\n\nOur PostgreSQL clusters are managed by Patroni.\n\n## Failover\n\n1. Check `patronictl list`\n"),
		"docs/patroni-ci/README.md":    page("# Patroni CI\n\nThe CI database cluster.\n"),
		"docs/elastic/README.md":       page("# Logging cluster\n\nOur logs are stored in hosted clusters.\n\n## Red cluster\n\n1. Look for unassigned shards\n"),
		"docs/uncategorized/oncall.md": page("# On-call\n\nHow to hand over the pager.\n"),
	}
	lib := runbooks.NewLibrary(runbooks.LibraryOptions{})
	if err := lib.Add(runbooks.NewFSSource("ops", fsys), runbooks.SourceConfig{}); err != nil {
		t.Fatal(err)
	}
	if _, err := lib.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	ix := openIndex(t, t.TempDir())
	if _, err := ix.Update(lib.Pages(), nil); err != nil {
		t.Fatal(err)
	}
	return NewMatcher(lib, ix)
}

func TestAPageWhosePathNamesTheAlertsServiceIsALowConfidenceCandidate(t *testing.T) {
	m := servicePages(t)
	tests := []struct {
		name   string
		labels map[string]string
		want   string // the first candidate's path, "" for none
	}{
		{"a type label names the directory", map[string]string{"alertname": "FileServerUnavailable", "type": "gitaly"}, "docs/gitaly/README.md"},
		{"a label names the directory, the words a page in it", map[string]string{"alertname": "ProcessDown", "type": "gitaly"}, "docs/gitaly/gitaly-down.md"},
		{"the name's first word names it", map[string]string{"alertname": "PatroniIsDown"}, "docs/patroni/README.md"},
		{"a path that names the service shortly", map[string]string{"alertname": "ElasticsearchClusterHealthRed"}, "docs/elastic/README.md"},
		{"nothing names it", map[string]string{"alertname": "ZookeeperEnsembleDown"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := runbooks.Alert{Labels: tt.labels}
			a.Fill()
			cands, err := m.Match(context.Background(), a, 3)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if len(cands) > 0 {
					t.Errorf("got %+v, want no candidate", cands)
				}
				return
			}
			if len(cands) == 0 {
				t.Fatal("no candidate")
			}
			c := cands[0]
			if c.Path != tt.want || !strings.Contains(c.Reason, "its path names") {
				t.Errorf("first candidate %+v, want %s, with its path as the reason", c, tt.want)
			}
			if c.LowConfidence != (c.Score < ConfidentScore) {
				t.Errorf("first candidate %+v: low confidence is not its score under %.2f", c, ConfidentScore)
			}
		})
	}
}

func TestExplicitRulesAreNeverLowConfidence(t *testing.T) {
	_, m, _ := matchFixture(t)
	a := runbooks.Alert{Name: "PaymentsAPIHigh5xxRate", Labels: map[string]string{"alertname": "PaymentsAPIHigh5xxRate"}}
	cands, err := m.Match(context.Background(), a, 3)
	if err != nil || len(cands) == 0 {
		t.Fatalf("%v, %v", cands, err)
	}
	if cands[0].LowConfidence || cands[0].Rule != RuleBinding {
		t.Errorf("got %+v, want a confident binding", cands[0])
	}
}

// Learning from outcomes: a page that resolved the alert before ranks
// higher among the pages that might fit, says so, and is never made a
// confident match by it; explicit rules are left as they are.
func TestPagesThatResolvedAnAlertBeforeRankHigherWithinBounds(t *testing.T) {
	_, m, _ := matchFixture(t)
	ctx := context.Background()
	a := runbooks.Alert{Name: "CheckoutPodsRestarting", Summary: "checkout pods keep crash looping after the deploy; roll back"}
	before, err := m.Match(ctx, a, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) == 0 || before[len(before)-1].Rule != RuleText {
		t.Fatalf("got %+v, want a page found by its words", before)
	}
	last := before[len(before)-1]
	m.SetOutcomes(func(_ context.Context, alert string) map[string]int {
		if alert != a.Name {
			t.Errorf("outcomes asked for %q, want %q", alert, a.Name)
		}
		return map[string]int{last.ID: 5}
	})
	after, err := m.Match(ctx, a, 5)
	if err != nil {
		t.Fatal(err)
	}
	var got Candidate
	for _, c := range after {
		if c.ID == last.ID {
			got = c
		}
	}
	if got.ID == "" {
		t.Fatalf("the page that resolved the alert is gone: %+v", after)
	}
	want := last.Score + outcomeMax
	if last.Score < ConfidentScore {
		want = min(want, ConfidentScore-0.001)
	}
	if d := got.Score - want; d > 1e-9 || d < -1e-9 {
		t.Errorf("score %.3f → %.3f, want %.3f: five outcomes weigh at most %.2f", last.Score, got.Score, want, outcomeMax)
	}
	if got.LowConfidence != last.LowConfidence {
		t.Errorf("low confidence %v → %v: past use must not make a page a confident match", last.LowConfidence, got.LowConfidence)
	}
	if !strings.Contains(got.Reason, "it resolved this alert 5 times before") {
		t.Errorf("reason %q does not say it resolved the alert before", got.Reason)
	}

	// A bound page's score comes from its binding, not from history.
	bound := runbooks.Alert{Name: "KubePodCrashLooping", Labels: map[string]string{"namespace": "payments"}}
	plain, _ := NewMatcher(m.cat, m.ix).Match(ctx, bound, 5)
	m.SetOutcomes(func(context.Context, string) map[string]int { return map[string]int{plain[0].ID: 9} })
	learnt, _ := m.Match(ctx, bound, 5)
	if len(plain) == 0 || len(learnt) == 0 || learnt[0].Score != plain[0].Score || learnt[0].Reason != plain[0].Reason {
		t.Errorf("a bound page changed with its history: %+v → %+v", plain, learnt)
	}
}
