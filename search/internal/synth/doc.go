// Package synth writes synthetic runbook corpora for benchmarks and
// quality checks: thousands of markdown pages shaped like the runbooks
// real on-call teams keep, with the queries a responder would type and
// the alerts that should find each page.
//
// A corpus is a tree teams/TEAM/SERVICE/runbooks/[COMPONENT/]PAGE.md.
// Every page is about one condition of one component of one service
// (the checkout service's Postgres replication lag), and is written in
// one of three styles found in the wild:
//
//   - YAML front matter (title, service, team, tags, severity and alert
//     bindings, some with label matchers) over Symptoms, Impact,
//     Diagnosis, Mitigation and Escalation sections with numbered steps;
//   - Hugo pages as in prometheus-operator's runbooks: title and weight
//     only, the alert's name as the H1, Meaning, Impact, Diagnosis and
//     Mitigation, the file named after the alert;
//   - plain pages: a title, a paragraph and an ordered list.
//
// Steps carry fenced bash, promql and sql commands. Prose is drawn from a
// few hundred operations words with a Zipf distribution, so the term
// statistics a BM25 index sees look like those of real pages. Most pages
// are 1 to 8 KB; about one in five hundred is a 50 to 200 KB service
// handbook.
//
// Generation is deterministic: the same size and seed write the same
// bytes, so figures measured on one machine can be reproduced on another.
// Each alert name (CheckoutPostgresReplicationLagHigh) belongs to one page
// only, so the page an alert should match is known.
package synth
