// Package pagerduty connects Breadcrumb to PagerDuty: it reads the v3
// webhooks PagerDuty sends about incidents, and fetches over PagerDuty's
// REST API what those webhooks leave out.
//
// A v3 webhook carries one Event. Its data depends on the event type: the
// incident itself for incident.triggered, .acknowledged, .resolved and the
// other state changes, an incident_note for incident.annotated, an
// incident_responder for incident.responder.added, a service for
// service.updated, and so on. The Event keeps that data raw, so that each
// kind is decoded only when asked for (Event.Incident, Event.DecodeData).
// DecodeWebhook is the one entry point for untrusted bytes; its errors are
// short sentences meant for the sender, and match ErrInvalid or ErrTooLarge
// so that an HTTP edge can pick the status without reading them.
//
// A webhook tells which incident fired but not why: no labels, no runbook
// link. AlertFromIncident turns the incident into a runbooks.Alert named
// after its title, enough for full-text matching. The labels and
// annotations that Alertmanager (or another monitoring tool) sent are on
// the incident's alerts, which Client.IncidentAlerts fetches and converts
// with AlertFromIncidentAlert, reading the details however they were
// configured. Errors of the REST client carry the operation and the
// incident ID and say, through IsRetryable, whether trying again can help.
// The API token is a secret.String and never appears in an error.
//
// Signature checks and the HTTP handler belong to the edge that receives
// the webhook; this package only decodes and fetches.
package pagerduty
