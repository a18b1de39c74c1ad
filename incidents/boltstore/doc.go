// Package boltstore is the embedded incidents.Store: one bbolt file that
// a single breadcrumb process holds open, for a team that runs no Redis.
//
// # Durability
//
// bbolt fsyncs a transaction's pages before its Commit returns (NoSync is
// false), and a write returns only once the transaction that holds it is
// committed, so a write that returned nil survives a crash of the process
// or of the machine. A transaction that changes nothing (an Append whose
// events are all known, a Claim already held, a repeated delivery) is
// rolled back instead of committed and costs no sync.
//
// # Group commit
//
// bbolt has one writer at a time, and each commit waits for the disk. The
// writes are therefore queued, and every write queued while the last
// commit was syncing runs in the next transaction, in the order they
// came, with one commit: a webhook's Put waits for at most the sync under
// way and its own, however many writes the inbox worker and the bot
// queue beside it. A write that finds no commit under way commits itself,
// at no more cost than before. When a write fails, the transaction is rolled
// back; the failed write runs again alone, and its outcome there is its
// answer, and the others run again without it. A write's function may
// therefore run more than once, and never with its effects kept twice.
//
// # Memory
//
// bbolt reads the file through a memory mapping, so every page read or
// written stays in the process's resident set, and RSS grows with the
// file, that is with the incidents kept. Every Options.ReleaseInterval
// (10 s) the store drops the mapping's pages from the resident set
// (madvise MADV_DONTNEED, on Linux), in a read transaction so that bbolt
// cannot map the file elsewhere meanwhile: the pages stay in the kernel's
// page cache, and the next read maps them again without touching the
// disk.
//
// # Locking
//
// bbolt takes an exclusive flock on the file. A second Open, from another
// process or from this one, waits Options.Timeout for it and then fails
// with an error that wraps ErrLocked: the CLI tells its user that
// "breadcrumb serve" is probably running.
//
// # Layout
//
// The file holds these buckets:
//
//	meta          "schema" → the layout's version (1)
//	incidents     id → the incident, JSON
//	events        id → a bucket per incident: seq (8 bytes, big-endian) → the event, JSON
//	eventkeys     id → a bucket per incident: event key → seq
//	refs          kind "\x00" value → id
//	created       created time (12 bytes, ordered) + id → status "\x00" service: List's index
//	claims        key → expiry (unix nanoseconds, 8 bytes)
//	claimexpiry   expiry + key → nothing: expired claims, oldest first
//	inbox         seq (8 bytes) → a pending delivery, JSON
//	inboxleases   seq → lease end (unix nanoseconds, 8 bytes; 0 when never taken) + attempts (4 bytes)
//	inboxids      delivery ID → seq, while the delivery is pending
//	inboxseen     delivery ID → when it was put (unix nanoseconds)
//	inboxseenorder  put time + delivery ID → nothing: the seen IDs, oldest first
//
// and "inbox_pending" in meta counts the pending deliveries.
//
// Seqs come from the per-incident events bucket's own sequence, so they
// run 1, 2, 3 with no gaps: a rolled-back transaction gives its numbers
// back. Times are stored in UTC to the nanosecond.
//
// List walks the created index from the newest (or from Filter.To) down
// to Filter.From, skips by the status and service the index holds, and
// decodes only the incidents that match. Its cost grows with the
// incidents it steps over: listing the open ones among ten thousand takes
// a few milliseconds (BenchmarkList), so there is no index by status.
//
// The Store is also the embedded inbox.Inbox. Put, Take and Done are
// each in a synced transaction, so a delivery acknowledged to its sender,
// and the attempts counted by Take, survive a crash. A delivery's seq
// comes from the inbox bucket's sequence, so Take walks inboxleases in
// the order deliveries were put, skipping the 12-byte leases still
// running without decoding their deliveries. An ID is refused while it
// is pending or was put within Options.InboxRetention; each Put forgets
// up to 64 IDs older than that.
//
// Claims are kept until they expire; each claim that is written also
// deletes up to 64 expired ones, so the bucket stays about as large as
// the number of claims alive.
package boltstore
