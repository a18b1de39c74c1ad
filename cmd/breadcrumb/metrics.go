package main

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/breadcrumb-oncall/breadcrumb/incidents"
)

// metrics is what /metrics exposes, every name under breadcrumb_. The
// counters that components keep themselves (the inbox worker, the Slack
// outbox) are read when scraped, through the *Func collectors.
type metrics struct {
	reg      *prometheus.Registry
	webhooks *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "breadcrumb_webhooks_total",
		Help: "Webhook and Slack requests by source and outcome: accepted (stored, 202), ok (other 2xx, such as a duplicate), rejected (4xx), unauthorized (401/403), overloaded (503), failed (other 5xx).",
	}, []string{"source", "outcome"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "breadcrumb_request_duration_seconds",
		Help:    "Time to answer the search and match API requests, by operation.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"op"})
	m.reg.MustRegister(m.webhooks, m.latency)
	return m
}

// gauge registers a gauge read when scraped.
func (m *metrics) gauge(name, help string, f func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// counter registers a counter read when scraped.
func (m *metrics) counter(name, help string, f func() float64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f))
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// timed records how long next takes under op.
func (m *metrics) timed(op string, next http.HandlerFunc) http.HandlerFunc {
	obs := m.latency.WithLabelValues(op)
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		next(w, r)
		obs.Observe(time.Since(start).Seconds())
	}
}

// webhook counts a webhook handler's answers by outcome.
func (m *metrics) webhook(source string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		m.webhooks.WithLabelValues(source, outcome(sw.code)).Inc()
	})
}

func outcome(code int) string {
	switch {
	case code == http.StatusAccepted:
		return "accepted"
	case code < 300:
		return "ok"
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return "unauthorized"
	case code == http.StatusServiceUnavailable:
		return "overloaded"
	case code >= 500:
		return "failed"
	case code >= 400:
		return "rejected"
	}
	return strconv.Itoa(code)
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// registerMetrics adds the gauges read from the server's parts.
func (s *server) registerMetrics() {
	m := s.metrics
	m.gauge("breadcrumb_runbook_pages", "Runbook pages loaded.", func() float64 { return float64(len(s.lib.Pages())) })
	m.gauge("breadcrumb_search_index_documents", "Documents in the search index.", func() float64 { return float64(s.ix.Len()) })
	m.gauge("breadcrumb_runbook_sync_age_seconds", "Seconds since the oldest source was last read successfully.", func() float64 {
		oldest := time.Time{}
		for _, st := range s.lib.Status() {
			if oldest.IsZero() || st.LoadedAt.Before(oldest) {
				oldest = st.LoadedAt
			}
		}
		if oldest.IsZero() {
			return 0
		}
		return time.Since(oldest).Seconds()
	})
	m.gauge("breadcrumb_runbook_sources_failing", "Sources whose last refresh failed.", func() float64 {
		n := 0
		for _, st := range s.lib.Status() {
			if st.Error != "" {
				n++
			}
		}
		return float64(n)
	})
	if in := s.intake; in != nil {
		m.gauge("breadcrumb_inbox_pending", "Deliveries stored and not yet processed.", func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n, err := in.inbox.Pending(ctx)
			if err != nil {
				return -1
			}
			return float64(n)
		})
		m.counter("breadcrumb_inbox_processed_total", "Deliveries processed.", func() float64 { return float64(in.worker.Stats().Processed) })
		m.counter("breadcrumb_inbox_failures_total", "Attempts that failed and were left for a retry.", func() float64 { return float64(in.worker.Stats().Failed) })
		m.counter("breadcrumb_inbox_dropped_total", "Deliveries given up on (undecodable, or failing on every attempt).", func() float64 { return float64(in.worker.Stats().Dropped) })
	}
	if c := s.chats; c != nil && c.slack != nil {
		m.counter("breadcrumb_slack_api_calls_total", "Slack Web API calls made.", func() float64 { return float64(c.slack.Stats().Calls) })
		m.counter("breadcrumb_slack_api_errors_total", "Slack Web API calls that failed.", func() float64 { return float64(c.slack.Stats().Errors) })
		m.counter("breadcrumb_slack_rate_limited_total", "Slack Web API calls answered 429.", func() float64 { return float64(c.slack.Stats().RateLimited) })
		m.gauge("breadcrumb_slack_outbox_depth", "Slack writes waiting in the outbox, all channels.", func() float64 {
			n := 0
			for _, q := range c.slack.Stats().Queued {
				n += q
			}
			return float64(n)
		})
	}
	if s.elector != nil {
		m.gauge("breadcrumb_leader", "1 when this replica holds the leader lease (and sends the reminders), else 0.", func() float64 {
			if s.elector.Leading() {
				return 1
			}
			return 0
		})
	}
	openCount := &cachedValue{ttl: openIncidentsTTL, read: func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n := 0
		err := s.incidents.Each(ctx, incidents.Filter{Open: true}, func(*incidents.Incident) error {
			n++
			return nil
		})
		if err != nil {
			return -1
		}
		return float64(n)
	}}
	m.gauge("breadcrumb_incidents_open", "Incidents not resolved (counted at most every 30 seconds).", openCount.get)
}

// openIncidentsTTL is how long a count of open incidents is reused:
// counting reads the incidents (on Redis, every incident), a page at a
// time, which scrapes every few seconds should not repeat.
const openIncidentsTTL = 30 * time.Second

// cachedValue is a gauge's reading, taken again once it is older than ttl.
type cachedValue struct {
	ttl  time.Duration
	read func() float64

	mu    sync.Mutex
	at    time.Time
	value float64
}

func (c *cachedValue) get() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || time.Since(c.at) >= c.ttl {
		c.value, c.at = c.read(), time.Now()
	}
	return c.value
}
