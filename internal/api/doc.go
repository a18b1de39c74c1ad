// Package api is Breadcrumb's HTTP interface for scripts and probes: the
// JSON API under /api (runbooks, search, match, rules, incidents and their
// reports), the health and readiness probes, and the Prometheus metrics
// at /metrics.
//
// It owns the shape of those answers and their status codes, and nothing
// else: the runbooks, the index, the matcher and the incidents are handed
// to it, already open, by the wiring in cmd/breadcrumb. Its handlers are
// tested with httptest, over a real library, index and embedded store,
// without starting the service.
//
// It may import the domain packages (runbooks, search, incidents and
// incidents/report, incidents/inbox) and nothing of the edges: not bot,
// not integrations, not the console.
package api
