// Package app is the Breadcrumb service put together: the configuration
// (file, environment, defaults) and the secrets resolved once into
// Options, the stores opened as a typed Backend, and New, which opens
// every part and wires them, then Run, which serves until its context
// ends and stops the parts in one order (docs/architecture.md).
//
// It owns what belongs to no single part: the runbook sync policy of
// replicas (only the leader polls git; the others follow the revisions
// it publishes), the runbook chosen for a new incident with its
// breadcrumbs, the metrics read from every part, and the demo alert.
//
// app imports every package of Breadcrumb's that the service runs, and
// nothing imports it but cmd/breadcrumb, whose commands parse their flags
// and call it. The command-line tools (lint, search, match, rules,
// incidents) use its configuration, library and store helpers so that
// they read the same sources as the service.
package app
