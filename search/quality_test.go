package search

import (
	"context"
	"os"
	"path"
	"strings"
	"testing"

	"github.com/breadcrumb-oncall/breadcrumb/runbooks"
)

// A quality set: what a tired responder types, and alerts as they arrive,
// with the pages that should come back. Any of the listed paths counts as
// right (some questions have two fair answers).

type questionCase struct {
	query string
	want  []string
}

type alertCase struct {
	alert runbooks.Alert
	want  []string
}

var exampleQuestions = []questionCase{
	{"pods keep restarting", []string{"platform/PodCrashLooping.md"}},
	{"container oomkilled crashloopbackoff", []string{"platform/PodCrashLooping.md"}},
	{"disk full on db host", []string{"platform/NodeDiskAlmostFull.md"}},
	{"inodes exhausted", []string{"platform/NodeDiskAlmostFull.md"}},
	{"payments returning 500s", []string{"payments/PaymentsAPIHigh5xxRate.md"}},
	{"error budget burn", []string{"payments/PaymentsAPIHigh5xxRate.md"}},
	{"card provider slow", []string{"payments/PaymentsProviderLatencyHigh.md"}},
	{"circuit breaker open", []string{"payments/PaymentsProviderLatencyHigh.md"}},
	{"replica behind primary", []string{"databases/PostgresReplicationLagHigh.md"}},
	{"too many connections postgres", []string{"databases/PostgresConnectionsExhausted.md"}},
	{"pgbouncer clients waiting", []string{"databases/PostgresConnectionsExhausted.md"}},
	{"orders not processed kafka", []string{"fulfilment/KafkaConsumerLagHigh.md", "fulfilment/OrdersQueueBacklog.md"}},
	{"dead letter queue growing", []string{"fulfilment/OrdersQueueBacklog.md"}},
	{"certificate expires", []string{"platform/TLSCertificateExpiringSoon.md"}},
	{"redis evicting keys", []string{"platform/RedisMemoryHigh.md"}},
	{"crashloping", []string{"platform/PodCrashLooping.md"}},
	{"podcrashlooping", []string{"platform/PodCrashLooping.md"}},
	{"pgbouncer waiting", []string{"databases/PostgresConnectionsExhausted.md"}},
	{"replicaton lag", []string{"databases/PostgresReplicationLagHigh.md"}},
}

func alert(name, summary string, labels map[string]string) runbooks.Alert {
	if labels == nil {
		labels = map[string]string{}
	}
	labels["alertname"] = name
	a := runbooks.Alert{Labels: labels, Annotations: map[string]string{"summary": summary}, Source: runbooks.SourceAlertmanager}
	a.Fill()
	return a
}

var exampleAlerts = []alertCase{
	// Bound in the front matter, with matchers.
	{alert("KubePodCrashLooping", "Pod is crash looping.", map[string]string{"namespace": "payments", "cluster": "prod-eu1"}), []string{"platform/PodCrashLooping.md"}},
	{alert("PaymentsAPIErrorBudgetBurn", "Error budget burning", map[string]string{"service": "payments-api", "severity": "critical"}), []string{"payments/PaymentsAPIHigh5xxRate.md"}},
	{alert("PgBouncerClientsWaiting", "Clients waiting for a server connection", map[string]string{"pg_cluster": "pg-main", "severity": "warning"}), []string{"databases/PostgresConnectionsExhausted.md"}},
	// The file name.
	{alert("RedisMemoryHigh", "", nil), []string{"platform/RedisMemoryHigh.md"}},
	// Alert names from other rule sets: only the text can find them.
	{alert("HostOutOfDiskSpace", "Host out of disk space (instance node-7)", map[string]string{"instance": "node-7"}), []string{"platform/NodeDiskAlmostFull.md"}},
	{alert("RedisOutOfMemory", "Redis is running out of memory", nil), []string{"platform/RedisMemoryHigh.md"}},
	{alert("SSLCertExpiringSoon", "SSL certificate expires in 5 days", nil), []string{"platform/TLSCertificateExpiringSoon.md"}},
	{alert("KafkaConsumersGroupLag", "Kafka consumer group lag is high", map[string]string{"consumergroup": "orders-worker"}), []string{"fulfilment/KafkaConsumerLagHigh.md"}},
	{alert("PostgresqlReplicationLag", "Postgres replication lag is high", nil), []string{"databases/PostgresReplicationLagHigh.md"}},
	{alert("PostgresqlTooManyConnections", "PostgreSQL instance has too many connections", nil), []string{"databases/PostgresConnectionsExhausted.md"}},
	{alert("PaymentsCheckoutFailures", "card payments failing with 502", map[string]string{"service": "payments-api"}), []string{"payments/PaymentsAPIHigh5xxRate.md"}},
}

// score returns top-1 and top-3 accuracy, logging each miss.
func score(t *testing.T, kind string, n int, results func(i int) ([]string, []string, string)) (top1, top3 float64) {
	t.Helper()
	var one, three int
	for i := 0; i < n; i++ {
		got, want, label := results(i)
		rank := -1
		for r, p := range got {
			for _, w := range want {
				if p == w && rank < 0 {
					rank = r
				}
			}
		}
		switch {
		case rank == 0:
			one++
			three++
		case rank > 0 && rank < 3:
			three++
			t.Logf("%s %q: found at rank %d (got %v)", kind, label, rank+1, got)
		default:
			t.Logf("%s %q: not in the top 3 (got %v, want %v)", kind, label, got, want)
		}
	}
	return float64(one) / float64(n), float64(three) / float64(n)
}

func runQuality(t *testing.T, pages []*runbooks.Runbook, cat Catalog, questions []questionCase, alerts []alertCase) (q1, q3, a1, a3 float64) {
	t.Helper()
	ix := openIndex(t, t.TempDir())
	if _, err := ix.Update(pages, nil); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	q1, q3 = score(t, "question", len(questions), func(i int) ([]string, []string, string) {
		hits, err := ix.Search(ctx, Query{Text: questions[i].query, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range hits {
			got = append(got, h.Path)
		}
		return got, questions[i].want, questions[i].query
	})
	m := NewMatcher(cat, ix)
	a1, a3 = score(t, "alert", len(alerts), func(i int) ([]string, []string, string) {
		cands, err := m.Match(ctx, alerts[i].alert, 3)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range cands {
			got = append(got, c.Path)
		}
		return got, alerts[i].want, alerts[i].alert.Name
	})
	return
}

// TestQualityOnTheExamples measures, and holds, the quality of search and
// matching over the bundled examples.
func TestQualityOnTheExamples(t *testing.T) {
	pages := examplePages(t)
	q1, q3, a1, a3 := runQuality(t, pages, staticCatalog(pages), exampleQuestions, exampleAlerts)
	t.Logf("examples: questions top-1 %.0f%% top-3 %.0f%% (%d); alerts top-1 %.0f%% top-3 %.0f%% (%d)",
		q1*100, q3*100, len(exampleQuestions), a1*100, a3*100, len(exampleAlerts))
	if q3 < 0.9 || a3 < 0.9 || a1 < 0.8 {
		t.Errorf("quality fell: questions top-3 %.2f, alerts top-1 %.2f top-3 %.2f", q3, a1, a3)
	}
}

// staticCatalog serves fixed pages as a Catalog.
type staticCatalog []*runbooks.Runbook

func (c staticCatalog) Pages() []*runbooks.Runbook { return c }
func (c staticCatalog) Config(string) (runbooks.SourceConfig, bool) {
	return runbooks.SourceConfig{}, true
}
func (c staticCatalog) Version() uint64        { return 1 }
func (c staticCatalog) Rules() []runbooks.Rule { return nil }

var corpusQuestions = []questionCase{
	{"pods keep restarting", []string{"kubernetes/KubePodCrashLooping.md"}},
	{"disk full on node", []string{"node/NodeFilesystemSpaceFillingUp.md", "node/NodeFilesystemAlmostOutOfSpace.md"}},
	{"etcd no leader", []string{"etcd/etcdNoLeader.md"}},
	{"alertmanager config out of sync", []string{"alertmanager/AlertmanagerConfigInconsistent.md"}},
	{"prometheus cannot reach alertmanager", []string{"prometheus/PrometheusNotConnectedToAlertmanagers.md", "prometheus/PrometheusErrorSendingAlertsToAnyAlertmanager.md"}},
	{"clock skew", []string{"node/NodeClockSkewDetected.md"}},
	{"too many pods on node", []string{"kubernetes/KubeletTooManyPods.md"}},
	{"persistent volume filling up", []string{"kubernetes/KubePersistentVolumeFillingUp.md"}},
	{"pvc full", []string{"kubernetes/KubePersistentVolumeFillingUp.md"}},
	{"job failed", []string{"kubernetes/KubeJobFailed.md"}},
	{"deployment replicas mismatch", []string{"kubernetes/KubeDeploymentReplicasMismatch.md"}},
	{"cpu throttling", []string{"kubernetes/CPUThrottlingHigh.md"}},
	{"node not ready", []string{"kubernetes/KubeNodeNotReady.md"}},
	{"kubelet certificate expiring", []string{"kubernetes/KubeletClientCertificateExpiration.md", "kubernetes/KubeletServerCertificateExpiration.md"}},
	{"out of file descriptors", []string{"node/NodeFileDescriptorLimit.md"}},
	{"raid degraded", []string{"node/NodeRAIDDegraded.md"}},
	{"target down", []string{"general/TargetDown.md"}},
	{"hpa maxed out", []string{"kubernetes/KubeHpaMaxedOut.md"}},
	{"conntrack table full", []string{"node/NodeHighNumberConntrackEntriesUsed.md"}},
	{"remote write behind", []string{"prometheus/PrometheusRemoteWriteBehind.md"}},
	// Typos among right words, and lower-case compounds.
	{"etcd no leadr", []string{"etcd/etcdNoLeader.md"}},
	{"alertmanger cluster down", []string{"alertmanager/AlertmanagerClusterDown.md"}},
	{"pod crashlooping", []string{"kubernetes/KubePodCrashLooping.md"}},
	{"crashloopbackoff", []string{"kubernetes/KubePodCrashLooping.md"}},
	{"etcd grpc slwo", []string{"etcd/etcdGRPCRequestsSlow.md"}},
	{"kubelet pleg", []string{"kubernetes/KubeletPlegDurationHigh.md"}},
}

// TestQualityOnTheSharedCorpus runs the quality set over prometheus-
// operator's runbooks when they are beside the repository: alerts carry the
// runbook_url that kube-prometheus gives them, or only their name, or only
// words.
func TestQualityOnTheSharedCorpus(t *testing.T) {
	dir := "../../shared/corpora/prometheus-operator-runbooks/content/runbooks"
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no corpus at %s: this check runs where the shared corpora are present", dir)
	}
	lib := runbooks.NewLibrary(runbooks.LibraryOptions{})
	if err := lib.Add(runbooks.NewDirSource("upstream", dir), runbooks.SourceConfig{}); err != nil {
		t.Fatal(err)
	}
	if _, err := lib.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	pages := lib.Pages()
	var alerts []alertCase
	for i, rb := range pages {
		if rb.Index || !strings.HasSuffix(rb.Path, ".md") {
			continue
		}
		component := path.Dir(rb.Path)
		switch i % 3 {
		case 0: // as kube-prometheus sends it
			a := alert(rb.Name, "", nil)
			a.RunbookURL = "https://runbooks.prometheus-operator.dev/runbooks/" + component + "/" + strings.ToLower(rb.Name)
			alerts = append(alerts, alertCase{a, []string{rb.Path}})
		case 1: // a name only
			alerts = append(alerts, alertCase{alert(rb.Name, "", nil), []string{rb.Path}})
		}
	}
	q1, q3, a1, a3 := runQuality(t, pages, lib, corpusQuestions, alerts)
	t.Logf("prometheus-operator corpus (%d pages): questions top-1 %.0f%% top-3 %.0f%% (%d); alerts top-1 %.0f%% top-3 %.0f%% (%d)",
		len(pages), q1*100, q3*100, len(corpusQuestions), a1*100, a3*100, len(alerts))
	if a1 < 0.95 || q3 < 0.7 {
		t.Errorf("quality fell: alerts top-1 %.2f, questions top-3 %.2f", a1, q3)
	}
}
