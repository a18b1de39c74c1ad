// Package search finds runbooks: a persistent full-text index of every
// page, and the matcher that picks the runbook for an alert.
//
// The index (bleve, scorch, under the data directory) holds each page's
// title, alert names, aliases, service, team and tags, headings, steps,
// commands and body, scored with BM25. Identifiers are split for search:
// KubePodCrashLooping is also kube, pod, crash and looping, and
// node_exporter is node and exporter, so a tired responder's words find
// the page. A query with no hits is retried with fuzzy terms, so that a
// typo still finds it.
//
// The index is incremental: a manifest of each page's content hash beside
// it says what changed since it was last updated, so a restart with an
// up-to-date index reindexes nothing. An index that is missing, corrupt or
// of an older schema is rebuilt. A lock file makes a second process on the
// same directory fail at once with ErrLocked instead of waiting.
//
// Match ranks the runbooks for an alert in order of authority: the alert's
// runbook_url annotation, resolved against the sources' repository and
// site addresses; a front-matter binding; the alert name equal to a file
// name or title; and only then full-text relevance, each with a reason and
// a confidence.
package search
