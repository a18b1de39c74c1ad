// Package alertmanager reads what Prometheus Alertmanager sends to a
// webhook receiver: the version 4 webhook body, one notification for one
// group of alerts.
//
// Decode is the one entry point for untrusted bytes, used alike by the
// POST /webhooks/alertmanager handler, by POST /api/match and by
// `breadcrumb match --alerts FILE`. It is strict about what would make the
// body meaningless (not JSON, too large, another webhook version, no alerts
// array) and tolerant of everything else: unknown fields, missing labels or
// times, an empty group. Its errors are short plain sentences meant to be
// shown to whoever sent the body; ErrInvalid and ErrTooLarge tell an HTTP
// edge which status to answer.
//
// A Message keeps Alertmanager's own shape so that nothing the sender said
// is lost. Message.Alerts turns it into the domain's runbooks.Alert values:
// one per alert, with the group's common labels and annotations merged
// under the alert's own, which is what runbook matching reads.
//
// The package does no I/O of its own and imports only the runbooks domain.
package alertmanager
