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
// Webhooks come in through NewWebhookHandler, a thin edge: it checks the
// X-PagerDuty-Signature against every configured secret (VerifySignature;
// several during a rotation), decodes, and puts the raw body in the
// inbox.Inbox before answering, so that nothing acknowledged is lost
// and a redelivery (same event ID) is stored once. The Processor, an
// inbox.Handler that the inbox worker calls, applies the
// stored events to incidents: a trigger opens the incident through
// Service.ReportAlerts (with the alerts fetched over the REST API when a
// token is set), and acknowledgements, resolutions, notes and the rest
// follow, in whatever order they arrive.
//
// The Syncer goes the other way: an incidents.Observer that sends the
// acknowledgements, resolutions and notes made in Breadcrumb to PagerDuty
// (Client.SetStatus, Client.AddNote), retries what a retry may fix, and
// records every outcome on the incident's timeline. When PagerDuty's
// webhook brings such a change back, the Processor recognises it and
// changes nothing: the incident already has that status, or the note is
// already there (by the note ID the Syncer recorded, or by its text).
package pagerduty
