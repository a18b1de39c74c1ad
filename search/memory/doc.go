// Package memory remembers past incidents and finds those like a new one.
//
// Its Index is a bleve index of one document per incident, kept under the
// data directory beside the runbook index: what the incident was (its
// title and summary, its alerts and the labels that tell one occurrence
// from another, its service and runbook), what people did (notes, steps
// done and skipped) and how it ended (the notes and steps that came just
// before it was resolved, and how long it took). Similar answers the
// incidents most like a given one, each with the reasons it was chosen
// and what resolved it; Seen sums up the earlier occurrences of the same
// alert; Runbook gives the use a runbook has had.
//
// The index is derived data: Rebuild makes it again from the incident
// store, which Open asks for when the index is missing or of another
// schema. A Keeper keeps it current as incidents change, as an
// incidents.Observer.
//
// It owns Record, Match, Seen and RunbookUse. It imports incidents (the
// domain it reads) and bleve; it must never import the bot, the console,
// the integrations or the search of runbooks.
package memory
