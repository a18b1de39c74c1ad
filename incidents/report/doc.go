// Package report renders the post-incident report of an incident from the
// incident and its whole timeline: New computes a Report once (durations,
// people, the runbook's steps, the timeline in words, phases and
// follow-ups), and Markdown, HTML (with its SVG charts) and JSON render
// it. Render picks the format by name, as the API and the CLI ask for it.
//
// The JSON form is part of the public interface: fields may be added,
// none renamed or removed. Untrusted text (alert labels, notes, names) is
// escaped for HTML by html/template and written literally in Markdown.
//
// report reads the incidents package's types and nothing else of
// Breadcrumb's: it never imports a store, a chat platform or an
// integration, and nothing in incidents imports it.
package report
