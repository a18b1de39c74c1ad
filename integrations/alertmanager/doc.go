// Package alertmanager receives what Prometheus Alertmanager sends to a
// webhook receiver: the version 4 webhook body, one notification for one
// group of alerts, and turns each group into one incident.
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
// # The way in
//
// The webhook handler (NewWebhookHandler) is a thin edge: it checks the
// bearer token, decodes the body to refuse what is not a notification, and
// puts the body in an inbox.Inbox, durably, before it answers 200. A
// notification that Alertmanager sends again (a retry, a repeat_interval,
// the other member of a cluster) has the same DeliveryID and is stored
// once. When it cannot store, it answers 503, never 429, because
// Alertmanager retries a 5xx and drops a notification answered 4xx.
//
// An inbox.Worker takes the stored notifications, those of one group
// in order, and gives them to a Processor, which turns each into an
// incidents.AlertGroup (Group) and reports it to the incidents.Service:
// the group's incident opens when an alert fires, firing and resolved
// alerts go on its timeline, and, with AutoResolve, it resolves when the
// last alert does. Every rule of that (what is a repeat, when a group
// that fires again is a new incident) is the Service's; the Processor
// only leaves out the alerts of a late copy that would undo a later
// state.
package alertmanager
