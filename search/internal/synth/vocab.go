package synth

// The vocabulary of the generated pages. Everything here is plain data;
// the lists are ordered, so that generation does not depend on map order.

// condition is one way a component goes wrong.
type condition struct {
	alert    string   // the CamelCase end of an alert name: ReplicationLagHigh
	title    string   // as a title says it: "replication lag high"
	alt      string   // as a person says it: "replica falling behind"
	symptoms []string // other words a responder types for it
	severity string
}

// component is a part of a service that has runbooks of its own.
type component struct {
	alert   string   // in alert names: Postgres
	display string   // in titles: Postgres
	forms   []string // the words responders use for it; forms[0] is also its directory
	cmds    []command
	conds   []condition
}

// command is a fenced block a step may carry. {svc}, {ns}, {db}, {team}
// and {dur} are filled per page.
type command struct{ lang, code string }

var components = []component{
	{"Api", "API", []string{"api", "endpoint", "http"}, []command{
		{"bash", "curl -sS -o /dev/null -w '%{http_code} %{time_total}\\n' https://{svc}.internal.example.com/healthz"},
		{"promql", `histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket{service="{svc}"}[5m])))`},
		{"promql", `sum by (code) (rate(http_requests_total{service="{svc}", code=~"5.."}[5m]))`},
		{"bash", "kubectl -n {ns} logs deploy/{svc} --since={dur} | grep -E 'status=5[0-9]{2}' | tail -n 50"},
	}, []condition{
		{"LatencyHigh", "latency high", "requests are slow", []string{"slow", "latency", "timeouts", "p99"}, "warning"},
		{"ErrorRateHigh", "error rate high", "requests failing", []string{"errors", "5xx", "500s", "failing"}, "critical"},
		{"Down", "down", "not responding", []string{"down", "unreachable", "unavailable", "outage"}, "critical"},
		{"RequestsThrottled", "requests throttled", "clients rate limited", []string{"429", "throttled", "ratelimit"}, "warning"},
		{"SaturationHigh", "saturation high", "too many requests in flight", []string{"saturated", "queueing", "inflight"}, "warning"},
	}},
	{"Postgres", "Postgres", []string{"postgres", "db", "database", "postgresql"}, []command{
		{"sql", "SELECT pid, state, wait_event_type, now() - query_start AS age, left(query, 80)\nFROM pg_stat_activity\nWHERE datname = '{db}'\nORDER BY age DESC\nLIMIT 20;"},
		{"sql", "SELECT client_addr, state, replay_lag, write_lag\nFROM pg_stat_replication;"},
		{"bash", "psql \"$DATABASE_URL\" -c 'SELECT count(*) FROM pg_stat_activity;'"},
		{"promql", `max by (instance) (pg_replication_lag_seconds{service="{svc}"})`},
		{"bash", "kubectl -n {ns} exec -it {svc}-db-0 -- patronictl list"},
	}, []condition{
		{"ReplicationLagHigh", "replication lag high", "replica falling behind", []string{"lag", "replica", "behind", "stale"}, "warning"},
		{"ConnectionsExhausted", "connections exhausted", "too many connections", []string{"connections", "pool", "max_connections"}, "critical"},
		{"DeadlocksDetected", "deadlocks detected", "transactions deadlocking", []string{"deadlock", "locks", "blocked"}, "warning"},
		{"SlowQueries", "slow queries", "queries taking too long", []string{"slow", "queries", "latency"}, "warning"},
		{"Down", "down", "database unreachable", []string{"down", "unreachable", "failover"}, "critical"},
		{"TransactionIdWraparound", "transaction id wraparound", "xid age too high", []string{"vacuum", "wraparound", "xid"}, "critical"},
	}},
	{"Mysql", "MySQL", []string{"mysql", "db", "database"}, []command{
		{"sql", "SHOW PROCESSLIST;"},
		{"sql", "SHOW REPLICA STATUS\\G"},
		{"bash", "mysql -h {svc}-mysql.{ns} -e 'SHOW GLOBAL STATUS LIKE \"Threads_connected\";'"},
		{"promql", `mysql_slave_status_seconds_behind_master{service="{svc}"}`},
	}, []condition{
		{"ReplicationLagHigh", "replication lag high", "replica seconds behind", []string{"lag", "replica", "behind"}, "warning"},
		{"Down", "down", "mysql not answering", []string{"down", "unreachable"}, "critical"},
		{"SlowQueries", "slow queries", "slow query log growing", []string{"slow", "queries"}, "warning"},
		{"ConnectionsHigh", "connections high", "threads connected near limit", []string{"connections", "threads"}, "warning"},
	}},
	{"Redis", "Redis", []string{"redis", "cache"}, []command{
		{"bash", "redis-cli -h {svc}-redis.{ns} INFO memory | grep -E 'used_memory_human|maxmemory_human|evicted'"},
		{"bash", "redis-cli -h {svc}-redis.{ns} --latency-history -i 5"},
		{"promql", `rate(redis_evicted_keys_total{service="{svc}"}[5m])`},
		{"bash", "kubectl -n {ns} get pods -l app={svc}-redis -o wide"},
	}, []condition{
		{"MemoryHigh", "memory high", "cache evicting keys", []string{"memory", "eviction", "maxmemory"}, "warning"},
		{"Down", "down", "cache unreachable", []string{"down", "unreachable", "misses"}, "critical"},
		{"LatencyHigh", "latency high", "cache responding slowly", []string{"slow", "latency"}, "warning"},
		{"ReplicationBroken", "replication broken", "replica disconnected from primary", []string{"replica", "sync", "disconnected"}, "warning"},
		{"ConnectionsRejected", "connections rejected", "clients refused", []string{"rejected", "maxclients", "connections"}, "critical"},
	}},
	{"Kafka", "Kafka", []string{"kafka", "topic", "consumer"}, []command{
		{"bash", "kafka-consumer-groups --bootstrap-server kafka.{ns}:9092 --describe --group {svc}"},
		{"bash", "kafka-topics --bootstrap-server kafka.{ns}:9092 --describe --under-replicated-partitions"},
		{"promql", `sum by (topic) (kafka_consumergroup_lag{consumergroup="{svc}"})`},
	}, []condition{
		{"ConsumerLagHigh", "consumer lag high", "consumers falling behind", []string{"lag", "backlog", "behind", "offsets"}, "warning"},
		{"UnderReplicatedPartitions", "under replicated partitions", "partitions missing replicas", []string{"isr", "replicas", "partitions"}, "warning"},
		{"BrokerDown", "broker down", "a broker left the cluster", []string{"broker", "down", "offline"}, "critical"},
		{"OfflinePartitions", "offline partitions", "partitions without a leader", []string{"leader", "offline", "partitions"}, "critical"},
	}},
	{"Rabbitmq", "RabbitMQ", []string{"rabbitmq", "queue", "amqp"}, []command{
		{"bash", "rabbitmqctl list_queues name messages_ready messages_unacknowledged consumers | sort -k2 -n -r | head"},
		{"bash", "rabbitmq-diagnostics alarms"},
		{"promql", `sum by (queue) (rabbitmq_queue_messages_ready{service="{svc}"})`},
	}, []condition{
		{"QueueBacklogHigh", "queue backlog high", "messages piling up", []string{"backlog", "queue", "ready"}, "warning"},
		{"ConsumersMissing", "consumers missing", "no consumers on the queue", []string{"consumers", "idle", "stuck"}, "critical"},
		{"MemoryAlarm", "memory alarm", "publishers blocked by memory alarm", []string{"memory", "alarm", "blocked"}, "critical"},
		{"NodeDown", "node down", "cluster lost a node", []string{"partition", "down", "cluster"}, "critical"},
	}},
	{"Pod", "pods", []string{"pods", "pod", "container"}, []command{
		{"bash", "kubectl -n {ns} get pods -l app={svc} --sort-by=.status.containerStatuses[0].restartCount"},
		{"bash", "kubectl -n {ns} describe pod -l app={svc} | grep -A5 -E 'Last State|Events'"},
		{"bash", "kubectl -n {ns} logs deploy/{svc} --previous --tail=100"},
		{"bash", "kubectl -n {ns} rollout undo deploy/{svc}"},
		{"promql", `increase(kube_pod_container_status_restarts_total{namespace="{ns}", container="{svc}"}[1h])`},
	}, []condition{
		{"CrashLooping", "crash looping", "pods keep restarting", []string{"crash", "restart", "crashloop", "backoff"}, "critical"},
		{"OomKilled", "oom killed", "containers out of memory", []string{"oom", "memory", "killed", "oomkilled"}, "warning"},
		{"NotReady", "not ready", "readiness probe failing", []string{"readiness", "probe", "unready"}, "warning"},
		{"ImagePullFailing", "image pull failing", "cannot pull the image", []string{"image", "pull", "registry", "imagepullbackoff"}, "warning"},
		{"PendingTooLong", "pending too long", "pods not scheduled", []string{"pending", "unschedulable", "capacity"}, "warning"},
	}},
	{"Node", "nodes", []string{"node", "host", "vm", "instance"}, []command{
		{"bash", "kubectl get nodes -l workload={svc} -o wide"},
		{"bash", "kubectl describe node \"$NODE\" | sed -n '/Conditions/,/Addresses/p'"},
		{"bash", "ssh \"$NODE\" 'uptime; vmstat 1 5; chronyc tracking'"},
		{"promql", `1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle", job="{svc}"}[5m]))`},
	}, []condition{
		{"CpuSaturated", "cpu saturated", "cpu usage pinned", []string{"cpu", "load", "throttling"}, "warning"},
		{"MemoryPressure", "memory pressure", "hosts swapping", []string{"memory", "swap", "pressure"}, "warning"},
		{"NotReady", "not ready", "kubelet stopped reporting", []string{"kubelet", "notready", "unreachable"}, "critical"},
		{"ClockSkew", "clock skew", "time drifting", []string{"ntp", "clock", "drift", "chrony"}, "warning"},
		{"NetworkErrors", "network errors", "packets dropped", []string{"packets", "drops", "nic", "network"}, "warning"},
	}},
	{"Disk", "disk", []string{"disk", "volume", "filesystem"}, []command{
		{"bash", "df -h | sort -k5 -r | head; df -i | sort -k5 -r | head"},
		{"bash", "du -xh /var/lib/{svc} --max-depth=2 | sort -h | tail -20"},
		{"bash", "kubectl -n {ns} get pvc -l app={svc}"},
		{"promql", `predict_linear(node_filesystem_avail_bytes{job="{svc}", mountpoint="/data"}[6h], 24 * 3600) < 0`},
		{"bash", "iostat -x 5 3"},
	}, []condition{
		{"FillingUp", "filling up", "disk almost full", []string{"full", "space", "filling", "usage"}, "warning"},
		{"IoSaturated", "io saturated", "disk io slow", []string{"iowait", "io", "iops"}, "warning"},
		{"InodesExhausted", "inodes exhausted", "out of inodes", []string{"inodes", "files"}, "critical"},
		{"ReadOnly", "read only", "volume remounted read-only", []string{"readonly", "remount", "ext4"}, "critical"},
	}},
	{"Cert", "certificate", []string{"cert", "certificate", "tls", "ssl"}, []command{
		{"bash", "echo | openssl s_client -connect {svc}.example.com:443 -servername {svc}.example.com 2>/dev/null | openssl x509 -noout -dates -issuer"},
		{"bash", "kubectl -n {ns} get certificate,certificaterequest,order -o wide"},
		{"bash", "kubectl -n cert-manager logs deploy/cert-manager --since={dur} | grep {svc}"},
		{"promql", `(probe_ssl_earliest_cert_expiry{instance=~".*{svc}.*"} - time()) / 86400`},
	}, []condition{
		{"ExpiringSoon", "expiring soon", "certificate expires in days", []string{"expiry", "expires", "renew", "x509"}, "warning"},
		{"Expired", "expired", "certificate has expired", []string{"expired", "handshake", "x509"}, "critical"},
		{"RenewalFailing", "renewal failing", "cert-manager cannot renew", []string{"renewal", "acme", "issuer"}, "warning"},
	}},
	{"Dns", "DNS", []string{"dns", "resolver", "coredns"}, []command{
		{"bash", "dig +short {svc}.{ns}.svc.cluster.local @10.96.0.10"},
		{"bash", "kubectl -n kube-system logs -l k8s-app=kube-dns --since={dur} | grep -i -E 'servfail|timeout'"},
		{"promql", `sum by (rcode) (rate(coredns_dns_responses_total{rcode!="NOERROR"}[5m]))`},
	}, []condition{
		{"ResolutionFailing", "resolution failing", "names not resolving", []string{"nxdomain", "servfail", "lookup"}, "critical"},
		{"LatencyHigh", "latency high", "lookups slow", []string{"slow", "lookup", "latency"}, "warning"},
	}},
	{"Ingress", "ingress", []string{"ingress", "nginx", "loadbalancer", "lb"}, []command{
		{"bash", "kubectl -n {ns} describe ingress {svc}"},
		{"bash", "kubectl -n ingress-nginx logs deploy/ingress-nginx-controller --since={dur} | grep '{svc}' | awk '$9 >= 500' | tail"},
		{"promql", `sum by (status) (rate(nginx_ingress_controller_requests{ingress="{svc}", status=~"5.."}[5m]))`},
	}, []condition{
		{"5xxRateHigh", "5xx rate high", "gateway errors", []string{"502", "503", "5xx", "gateway"}, "critical"},
		{"BackendDown", "backend down", "no healthy upstreams", []string{"upstream", "backend", "endpoints"}, "critical"},
		{"LatencyHigh", "latency high", "edge responses slow", []string{"slow", "latency"}, "warning"},
		{"TlsHandshakeErrors", "tls handshake errors", "clients failing the handshake", []string{"handshake", "tls", "ssl"}, "warning"},
	}},
	{"Cronjob", "cron job", []string{"cronjob", "cron", "job", "batch"}, []command{
		{"bash", "kubectl -n {ns} get cronjob,job -l app={svc} --sort-by=.metadata.creationTimestamp"},
		{"bash", "kubectl -n {ns} logs job/$(kubectl -n {ns} get jobs -l app={svc} -o name | tail -1 | cut -d/ -f2)"},
		{"bash", "kubectl -n {ns} create job --from=cronjob/{svc}-nightly {svc}-manual-$(date +%s)"},
		{"promql", `time() - kube_cronjob_status_last_successful_time{namespace="{ns}", cronjob=~"{svc}.*"}`},
	}, []condition{
		{"Failed", "failed", "job exited with an error", []string{"failed", "exit", "error"}, "warning"},
		{"NotRun", "not run", "job missed its schedule", []string{"missed", "schedule", "stale"}, "warning"},
		{"RunningTooLong", "running too long", "job still running", []string{"stuck", "duration", "hung"}, "warning"},
	}},
	{"Worker", "workers", []string{"worker", "workers", "jobs"}, []command{
		{"bash", "kubectl -n {ns} scale deploy/{svc}-worker --replicas=12"},
		{"bash", "kubectl -n {ns} logs deploy/{svc}-worker --since={dur} | grep -c 'job failed'"},
		{"promql", `sum(rate({svc}_jobs_processed_total[5m])) by (queue)`},
	}, []condition{
		{"BacklogHigh", "backlog high", "jobs piling up", []string{"backlog", "queue", "delay"}, "warning"},
		{"Stalled", "stalled", "workers not processing jobs", []string{"stuck", "stalled", "idle"}, "critical"},
		{"ErrorRateHigh", "error rate high", "jobs failing", []string{"errors", "failing", "retries"}, "warning"},
	}},
	{"Grpc", "gRPC", []string{"grpc", "rpc"}, []command{
		{"bash", "grpcurl -plaintext {svc}.{ns}:9090 grpc.health.v1.Health/Check"},
		{"promql", `sum by (grpc_method, grpc_code) (rate(grpc_server_handled_total{grpc_service=~".*{svc}.*", grpc_code!="OK"}[5m]))`},
	}, []condition{
		{"ErrorsHigh", "errors high", "rpc calls failing", []string{"unavailable", "deadline", "errors"}, "critical"},
		{"LatencyHigh", "latency high", "rpc calls slow", []string{"slow", "latency", "deadline"}, "warning"},
	}},
	{"Elasticsearch", "Elasticsearch", []string{"elasticsearch", "es", "index"}, []command{
		{"bash", "curl -s 'http://{svc}-es.{ns}:9200/_cluster/health?pretty'"},
		{"bash", "curl -s 'http://{svc}-es.{ns}:9200/_cat/shards?v' | grep -v STARTED"},
		{"bash", "curl -s 'http://{svc}-es.{ns}:9200/_cluster/allocation/explain?pretty'"},
	}, []condition{
		{"ClusterRed", "cluster red", "shards unassigned", []string{"red", "shards", "unassigned"}, "critical"},
		{"HeapHigh", "heap high", "jvm heap pressure", []string{"heap", "gc", "jvm"}, "warning"},
		{"IndexingSlow", "indexing slow", "bulk requests rejected", []string{"indexing", "bulk", "rejected"}, "warning"},
	}},
	{"Etcd", "etcd", []string{"etcd"}, []command{
		{"bash", "etcdctl --endpoints=$ENDPOINTS endpoint status -w table"},
		{"bash", "etcdctl --endpoints=$ENDPOINTS alarm list"},
		{"promql", `histogram_quantile(0.99, rate(etcd_disk_wal_fsync_duration_seconds_bucket{job="{svc}-etcd"}[5m]))`},
	}, []condition{
		{"NoLeader", "no leader", "members cannot elect a leader", []string{"leader", "quorum", "election"}, "critical"},
		{"FsyncSlow", "fsync slow", "wal fsync taking long", []string{"fsync", "wal", "disk"}, "warning"},
		{"DatabaseSizeHigh", "database size high", "keyspace near its quota", []string{"quota", "defrag", "compaction"}, "warning"},
	}},
	{"Memcached", "memcached", []string{"memcached", "cache"}, []command{
		{"bash", "echo stats | nc {svc}-memcached.{ns} 11211 | grep -E 'evictions|curr_connections|get_misses'"},
		{"promql", `rate(memcached_items_evicted_total{service="{svc}"}[5m])`},
	}, []condition{
		{"EvictionsHigh", "evictions high", "cache evicting hot keys", []string{"evictions", "misses", "memory"}, "warning"},
		{"Down", "down", "memcached not answering", []string{"down", "misses", "unreachable"}, "critical"},
	}},
	{"Envoy", "Envoy", []string{"envoy", "sidecar", "proxy", "mesh"}, []command{
		{"bash", "kubectl -n {ns} exec deploy/{svc} -c istio-proxy -- pilot-agent request GET stats | grep -E 'upstream_rq_5xx|cx_connect_fail'"},
		{"bash", "istioctl -n {ns} proxy-config cluster deploy/{svc}"},
		{"promql", `sum by (response_flags) (rate(istio_requests_total{destination_service_name="{svc}", response_code=~"5.."}[5m]))`},
	}, []condition{
		{"UpstreamErrors", "upstream errors", "sidecar returning 503", []string{"503", "upstream", "reset"}, "critical"},
		{"CircuitOpen", "circuit open", "circuit breaker tripped", []string{"circuit", "breaker", "overflow"}, "warning"},
	}},
	{"Vault", "Vault", []string{"vault", "secrets"}, []command{
		{"bash", "vault status -address=https://vault.internal:8200"},
		{"bash", "kubectl -n {ns} logs deploy/{svc} -c vault-agent --since={dur} | tail -50"},
	}, []condition{
		{"Sealed", "sealed", "vault is sealed", []string{"sealed", "unseal"}, "critical"},
		{"LeaseRenewalFailing", "lease renewal failing", "secrets about to expire", []string{"lease", "token", "renewal"}, "warning"},
	}},
	{"Bucket", "S3 bucket", []string{"s3", "bucket", "storage"}, []command{
		{"bash", "aws s3api get-bucket-replication --bucket {svc}-prod | jq '.ReplicationConfiguration.Rules[].Status'"},
		{"bash", "aws s3 ls s3://{svc}-prod/ --summarize --human-readable | tail -2"},
		{"bash", "aws cloudtrail lookup-events --lookup-attributes AttributeKey=ResourceName,AttributeValue={svc}-prod --max-results 20"},
	}, []condition{
		{"AccessDenied", "access denied", "403 from s3", []string{"403", "denied", "iam", "policy"}, "critical"},
		{"ReplicationFailing", "replication failing", "objects not replicated", []string{"replication", "crr", "pending"}, "warning"},
	}},
	{"Cdn", "CDN", []string{"cdn", "edge", "cache"}, []command{
		{"bash", "curl -sI https://static.example.com/{svc}/health | grep -i -E 'x-cache|age|cf-cache-status'"},
		{"promql", `sum(rate(cdn_requests_total{service="{svc}", cache="MISS"}[5m])) / sum(rate(cdn_requests_total{service="{svc}"}[5m]))`},
	}, []condition{
		{"HitRatioLow", "hit ratio low", "cache misses rising", []string{"misses", "hit", "ratio"}, "warning"},
		{"OriginErrors", "origin errors", "edge cannot reach the origin", []string{"origin", "5xx", "shield"}, "critical"},
	}},
	{"Webhook", "webhooks", []string{"webhook", "webhooks", "callback"}, []command{
		{"bash", "kubectl -n {ns} logs deploy/{svc}-webhooks --since={dur} | grep -E 'delivery failed|status=(4|5)[0-9]{2}' | tail"},
		{"promql", `sum by (endpoint) (rate({svc}_webhook_deliveries_total{result="failure"}[10m]))`},
	}, []condition{
		{"DeliveryFailing", "delivery failing", "webhooks not delivered", []string{"delivery", "failing", "retries"}, "warning"},
		{"RetryQueueHigh", "retry queue high", "webhook retries piling up", []string{"retries", "queue", "backlog"}, "warning"},
	}},
	{"Email", "email", []string{"email", "smtp", "mail"}, []command{
		{"bash", "kubectl -n {ns} exec deploy/{svc}-mailer -- postqueue -p | tail -1"},
		{"promql", `sum(rate({svc}_emails_bounced_total[15m])) / sum(rate({svc}_emails_sent_total[15m]))`},
	}, []condition{
		{"BouncesHigh", "bounces high", "emails bouncing", []string{"bounces", "reputation", "spam"}, "warning"},
		{"QueueStuck", "queue stuck", "emails not leaving the queue", []string{"queue", "stuck", "deferred"}, "critical"},
	}},
	{"Backup", "backups", []string{"backup", "backups", "snapshot"}, []command{
		{"bash", "kubectl -n {ns} get backups.velero.io -l app={svc} --sort-by=.status.startTimestamp | tail -5"},
		{"bash", "aws rds describe-db-snapshots --db-instance-identifier {svc}-prod --query 'DBSnapshots[-1].[SnapshotCreateTime,Status]'"},
		{"promql", `time() - {svc}_backup_last_success_timestamp_seconds > 26 * 3600`},
	}, []condition{
		{"Failed", "failed", "nightly backup failed", []string{"failed", "snapshot", "restore"}, "critical"},
		{"Stale", "stale", "no recent backup", []string{"stale", "missing", "rpo"}, "warning"},
	}},
	{"Auth", "login", []string{"auth", "login", "token", "oauth"}, []command{
		{"bash", "kubectl -n {ns} logs deploy/{svc} --since={dur} | grep -E 'invalid_token|jwks|401' | tail -50"},
		{"bash", "curl -s https://login.example.com/.well-known/jwks.json | jq '.keys[].kid'"},
		{"promql", `sum(rate({svc}_auth_failures_total[5m])) by (reason)`},
	}, []condition{
		{"FailuresHigh", "failures high", "users cannot log in", []string{"401", "login", "sso"}, "critical"},
		{"TokenValidationErrors", "token validation errors", "jwt signatures rejected", []string{"jwt", "jwks", "signature"}, "warning"},
	}},
	{"Autoscaler", "autoscaler", []string{"hpa", "autoscaler", "scaling"}, []command{
		{"bash", "kubectl -n {ns} get hpa {svc} -o wide"},
		{"bash", "kubectl -n {ns} describe hpa {svc} | tail -20"},
		{"promql", `kube_horizontalpodautoscaler_status_current_replicas{namespace="{ns}", horizontalpodautoscaler="{svc}"}`},
	}, []condition{
		{"MaxedOut", "maxed out", "running at max replicas", []string{"replicas", "capacity", "max"}, "warning"},
		{"ScalingFailing", "scaling failing", "hpa cannot read metrics", []string{"metrics", "scaling", "unknown"}, "warning"},
	}},
	{"Provider", "payment provider", []string{"provider", "vendor", "thirdparty"}, []command{
		{"bash", "curl -s https://status.provider.example.com/api/v2/summary.json | jq '.status'"},
		{"promql", `sum by (provider, outcome) (rate({svc}_provider_calls_total[5m]))`},
		{"bash", "kubectl -n {ns} set env deploy/{svc} PROVIDER_FALLBACK=secondary"},
	}, []condition{
		{"TimeoutsHigh", "timeouts high", "provider calls timing out", []string{"timeouts", "vendor", "slow"}, "warning"},
		{"Outage", "outage", "provider is down", []string{"outage", "down", "failover"}, "critical"},
	}},
	{"Scheduler", "scheduler", []string{"scheduler", "leader"}, []command{
		{"bash", "kubectl -n {ns} get lease {svc}-scheduler -o yaml | grep holderIdentity"},
		{"promql", `changes({svc}_scheduler_is_leader[30m])`},
	}, []condition{
		{"Lagging", "lagging", "scheduled tasks running late", []string{"late", "lag", "drift"}, "warning"},
		{"LeaderFlapping", "leader flapping", "leader election keeps changing", []string{"election", "leader", "flapping"}, "warning"},
	}},
}

// Service names are a domain word, and in larger corpora a qualifier:
// checkout, checkout-eu.
var domains = []string{
	"checkout", "payments", "billing", "invoices", "ledger", "orders", "cart", "catalog", "inventory",
	"pricing", "search", "recommendations", "reviews", "shipping", "fulfilment", "warehouse", "returns",
	"refunds", "subscriptions", "accounts", "identity", "sessions", "profiles", "notifications",
	"mailer", "messaging", "chat", "feeds", "timeline", "media", "uploads", "thumbnails", "transcoder",
	"geo", "maps", "routing", "dispatch", "drivers", "riders", "trips", "bookings", "reservations",
	"calendar", "tickets", "support", "helpdesk", "crm", "analytics", "reporting", "events", "tracking",
	"ads", "bidding", "campaigns", "coupons", "loyalty", "rewards", "wallet", "fraud", "risk", "kyc",
	"compliance", "audit", "tax", "fx", "treasury", "settlement", "payouts", "merchants", "onboarding",
	"partners", "storefront", "menus", "restaurants", "grocery", "delivery", "courier", "labels",
	"manifests", "customs", "quotes", "claims", "policies", "underwriting", "lending", "cards",
	"transfers", "statements", "forecasting", "experiments", "flags", "config", "gateway", "webapp",
	"mobile-bff", "graphql", "cms", "translations", "images", "video", "player", "licensing",
	"entitlements", "usage", "metering", "quota",
}

var qualifiers = []string{
	"eu", "us", "apac", "v2", "legacy", "internal", "batch", "edge", "sandbox", "ml", "admin",
	"public", "web", "partner", "realtime", "archive", "export", "import", "sync", "stream",
}

var teamNames = []string{
	"platform", "storefront", "money", "logistics", "data", "trust", "growth", "core-infra",
	"mobile", "messaging", "marketplace", "risk", "discovery", "media", "partners", "finance-eng",
	"observability", "security", "devex", "customer-care", "identity", "ads-eng", "maps-eng",
	"insurance", "banking", "content", "commerce", "edge", "database-reliability", "payments-core",
}

// Words a paged responder adds to a query that say nothing about the page.
var noiseWords = []string{
	"prod", "production", "urgent", "help", "again", "now", "alert", "paging", "issue",
	"problem", "broken", "fix", "why", "how", "eu-west-1", "sev2", "customer",
}

// The words of the prose, most common first: sampled with a Zipf
// distribution so that a few words are everywhere and most are rare.
var nouns = []string{
	"service", "request", "deployment", "pod", "error", "latency", "traffic", "dashboard", "alert",
	"cluster", "config", "release", "replica", "metric", "log", "connection", "timeout", "queue",
	"database", "cache", "node", "namespace", "region", "dependency", "customer", "incident", "rollout",
	"threshold", "endpoint", "upstream", "downstream", "retry", "client", "load", "capacity", "limit",
	"memory", "cpu", "disk", "volume", "thread", "pool", "worker", "job", "batch", "schedule", "window",
	"canary", "rollback", "hotfix", "feature flag", "migration", "schema", "index", "shard", "partition",
	"leader", "follower", "quorum", "lock", "transaction", "checkpoint", "snapshot", "backup", "restore",
	"certificate", "secret", "token", "key", "quota", "budget", "slo", "sli", "burn rate", "error budget",
	"trace", "span", "label", "selector", "probe", "readiness", "liveness", "healthcheck", "sidecar",
	"proxy", "gateway", "load balancer", "ingress", "route", "socket", "handshake", "packet", "resolver",
	"broker", "topic", "offset", "consumer", "producer", "payload", "message", "event", "webhook",
	"vendor", "provider", "contract", "merchant", "order", "payment", "invoice", "session", "cookie",
	"header", "status code", "exception", "stack trace", "panic", "heap", "garbage collector",
	"file descriptor", "inode", "kernel", "container", "image", "registry", "manifest", "chart",
	"terraform state", "drift", "pager", "escalation policy", "incident channel", "status page",
	"postmortem", "change freeze", "maintenance window", "runbook", "playbook", "saturation",
	"utilization", "headroom", "spike", "regression", "outage", "degradation", "backlog", "throughput",
	"bandwidth", "jitter", "packet loss", "failover", "replication", "consistency", "idempotency key",
	"dead letter queue", "circuit breaker", "rate limiter", "autoscaler", "node pool", "spot instance",
	"availability zone", "vpc", "security group", "iam role", "bucket", "object", "cdn", "origin",
}

var verbs = []string{
	"check", "verify", "restart", "scale", "drain", "cordon", "roll back", "revert", "page", "escalate",
	"inspect", "compare", "confirm", "tail", "grep", "describe", "watch", "silence", "acknowledge",
	"throttle", "shed", "pause", "resume", "promote", "fail over", "purge", "rotate", "renew",
	"reindex", "vacuum", "compact", "rebalance", "raise", "lower", "disable", "enable", "bump",
	"redeploy", "recycle", "flush", "warm", "reconcile", "annotate", "open", "note", "record",
}

var adjectives = []string{
	"elevated", "degraded", "intermittent", "sustained", "sudden", "gradual", "stale", "healthy",
	"unhealthy", "noisy", "flaky", "saturated", "idle", "busy", "overloaded", "misconfigured",
	"expired", "pending", "partial", "regional", "global", "recent", "previous", "current",
	"primary", "secondary", "hot", "cold", "blocked", "slow", "fast", "empty", "full",
}

var tools = []string{
	"Grafana", "Kibana", "Datadog", "Honeycomb", "Sentry", "PagerDuty", "Jaeger", "Loki", "Argo CD",
	"Spinnaker", "the AWS console", "Cloud Logging", "Tempo", "the status page", "Slack",
}

var durations = []string{"5m", "10m", "15m", "30m", "1h", "2h"}

var durationWords = []string{"five minutes", "ten minutes", "15 minutes", "half an hour", "an hour", "two hours"}

// Prose sentences. {svc}, {comp}, {cond}, {alt}, {team}, {tool} and {dur}
// are the page's; {n}, {v} and {a} are drawn for each use.
var sentences = []string{
	"This usually follows a {n} that changed the {n} of the {n}.",
	"{V} the {n} in {tool} and {v} whether the {n} is {a}.",
	"If the {n} stays {a} for more than {dur}, {v} the {n} and escalate to #{team}-oncall.",
	"Customers of {svc} may notice {alt} while this lasts.",
	"The {comp} of {svc} reports {cond} when the {n} is {a}.",
	"Do not {v} the {n} before you have checked the {n}; it hides the cause.",
	"In the last incidents the {n} was {a} because of a {a} {n}.",
	"Compare the {n} with the same hour last week in {tool}.",
	"A {a} {n} on the {n} side often looks the same from here.",
	"The {n} recovers on its own within {dur} in most cases.",
	"Write what you changed in the incident channel, with the time.",
	"Ask #{team} before you {v} anything in a shared {n}.",
	"{svc} depends on the {n} and the {n}; check both.",
	"The alert is {a} when a {n} is {a}, which is expected during a {n}.",
	"Keep the {n} {a} until the {n} is back under its threshold.",
	"When {alt}, the {n} grows and the {n} follows.",
	"Look for a {n} or a {n} in the deploy history of the last {dur}.",
	"Most pages at night come from a {a} {n}, not from {svc} itself.",
}
