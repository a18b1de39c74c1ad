package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is what /metrics exposes, every name under breadcrumb_. The
// counters that components keep themselves (the inbox worker, the Slack
// outbox) are read when scraped: register them with Gauge and Counter.
type Metrics struct {
	reg      *prometheus.Registry
	webhooks *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	busy     *prometheus.CounterVec
}

// NewMetrics returns the registry with the Go runtime's and the process's
// collectors, the webhook outcomes and the API's latency.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
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
	m.busy = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "breadcrumb_http_overloaded_total",
		Help: "Requests answered 503 because their class of route (webhooks, api, console, polls, probes) had as many requests in flight as it may.",
	}, []string{"class"})
	m.reg.MustRegister(m.webhooks, m.latency, m.busy)
	return m
}

// Gauge registers a gauge read when scraped.
func (m *Metrics) Gauge(name, help string, f func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// Counter registers a counter read when scraped.
func (m *Metrics) Counter(name, help string, f func() float64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f))
}

// Handler serves the registry in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Overloaded counts a request refused because its class of route was
// full.
func (m *Metrics) Overloaded(class string) { m.busy.WithLabelValues(class).Inc() }

// Timed records how long next takes under op.
func (m *Metrics) Timed(op string, next http.HandlerFunc) http.HandlerFunc {
	obs := m.latency.WithLabelValues(op)
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		next(w, r)
		obs.Observe(time.Since(start).Seconds())
	}
}

// Webhook counts a webhook handler's answers by source and outcome.
func (m *Metrics) Webhook(source string, next http.Handler) http.Handler {
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

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
