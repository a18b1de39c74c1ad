// Package breadcrumbs fills the links a responder opens from an incident:
// the logs, metrics, traces and dashboards behind its alerts, for the
// alerts' labels and time window ("breadcrumbs").
//
// Links come from three places, in this order: the runbook's front matter
// (its dashboards, then its breadcrumbs), the providers configured once
// for every alert (a Grafana dashboard, Grafana Explore over Loki,
// Prometheus or Tempo, a Prometheus graph of the alert's own expression,
// Kibana Discover, Jaeger, Datadog, or any URL template), and the template
// links written in the runbook's steps. A Set, built by New from a Config,
// turns an incident's alerts and runbook into ready URLs (Set.Links).
//
// Every value is encoded for the place it lands: percent-encoded as one
// component of a URL's path, query or fragment, escaped as a string
// literal inside a PromQL, LogQL, TraceQL, KQL or Lucene query, then
// carried in the JSON of Grafana's Explore state or the rison of Kibana's
// state. A link whose template needs a value the incident does not have
// is left out rather than opened half-filled, except a query parameter
// made of that value alone, which is dropped from the URL. No produced URL
// holds a "{{".
//
// The redirect served at GET /b/{incident}/{n} (NewRedirect) is how
// responders open these links: it records the click on the incident's
// timeline, so that the post-incident report shows which breadcrumbs were
// followed, and then sends the browser to the URL stored on the incident,
// and only there.
//
// The package imports the runbooks and incidents domain packages and no
// other package of ours.
package breadcrumbs
