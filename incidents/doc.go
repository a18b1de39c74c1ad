// Package incidents owns Breadcrumb's incidents: their state, the progress
// of their runbook's steps, and their timeline.
//
// An Incident moves through triggered → acknowledged → mitigated →
// resolved, and may be reopened. Every change is an Event on the
// incident's timeline (alert fired, status changed, step done, note,
// pinned message, role change, ...), with its actor, its source and its
// time; the timeline is append-only and read in order, page by page.
//
// The Service owns every rule: which transitions are valid (an invalid one
// is an ErrInvalid error, never a silent change), idempotency (a delivery
// or a button press seen twice, carrying the same key, changes nothing),
// and optimistic concurrency (two writers never overwrite each other: the
// loser re-reads and re-applies its change). Its clock is injected.
//
// What alerts and declarations bring is capped as it arrives (values,
// names, counts, the title, and an incident's size as stored: see
// MaxValueBytes and the caps beside it), whatever the sender, and cut
// rather than refused, the timeline saying what was cut. CapStored applies
// the same caps to an incident stored before them, as it is read.
//
// A status another system reports (PagerDuty's) goes through SyncStatus,
// which applies it once and in order, and says why when it does not.
//
// A Store keeps incidents and timelines; the embedded one (boltstore) and
// the Redis one (redisstore) pass the same conformance suite, storetest.
// Beside the rules live, each in its own package: the durable queue of
// webhook deliveries (incidents/inbox), how replicas agree on a leader
// and publish what the leader read (incidents/replica: lease, election,
// bulletin board), and the post-incident report (incidents/report).
//
// incidents imports runbooks (an incident's runbook and alerts) and
// internal/fault, and nothing else of Breadcrumb's: never a store, a
// chat platform, an integration or one of the packages beside it, which
// import it.
package incidents
