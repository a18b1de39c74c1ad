// Package examples bundles the example runbooks that ship inside the
// breadcrumb binary.
//
// The pages under runbooks/ describe the on-call procedures of Larkspur, a
// fictional online shop. `breadcrumb serve` falls back to them when no
// runbooks directory is configured or present, so that a fresh install has
// pages to match alerts against, search and walk through. They double as
// worked examples of the runbook format and as fixtures for tests.
package examples
