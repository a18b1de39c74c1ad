// Package examples bundles the example runbooks that ship inside the
// breadcrumb binary.
//
// The pages under runbooks/ describe the on-call procedures of Larkspur, a
// fictional online shop. `breadcrumb serve` falls back to them when no
// runbooks directory is configured or present, so that a fresh install has
// pages to match alerts against, search and walk through. They double as
// worked examples of the runbook format and as fixtures for tests. The
// rule files under rules/ are Larkspur's alert rules, in both shapes a
// rules source reads (a Prometheus rule file and a PrometheusRule
// object); they are served with the example pages, so that a fresh
// install shows its runbook coverage.
package examples
