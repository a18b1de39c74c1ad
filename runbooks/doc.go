// Package runbooks is the heart of Breadcrumb's domain: the runbook pages
// that service teams keep in git next to their code.
//
// A Runbook is what Breadcrumb understood of one markdown page: its identity
// (source and path), the bindings in its front matter (alerts, service, team,
// dashboards, breadcrumbs), its sections, the steps a responder follows, the
// commands inside those steps, its links, and the diagnostics that explain,
// with line numbers, whatever could not be read.
//
// Parse never fails and never panics: a malformed page still yields a
// Runbook, with diagnostics saying what went wrong, so that one bad page
// never hides the others. Sources (a local directory, a git repository)
// produce file systems; a Library loads every page of every source,
// detects changes by content hash, and keeps serving what it read last when
// a source cannot be reached. Lint adds the checks that need more than one
// page, such as broken relative links and alerts bound by two pages.
//
// The package imports no other package of Breadcrumb's; the rules it follows
// are written down in docs/runbook-format.md.
package runbooks
