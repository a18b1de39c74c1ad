// Package redisstore keeps incidents and their timelines in Redis, so that
// several replicas of Breadcrumb can share them.
//
// # Keys
//
// Every key starts with Options.Prefix ("breadcrumb:" by default), so that
// several stores, or other programs, can share one server:
//
//	{prefix}inc:{id}             hash: v (the version), j (the incident as JSON),
//	                             r (the JSON list of the ref keys it holds)
//	{prefix}tl:{id}              stream: the timeline, entry ID 0-{seq}, field e (the event as JSON)
//	{prefix}tlkeys:{id}          hash: event key → seq, for idempotency and HasEvent
//	{prefix}ref:{kind}:{value}   string: the ID of the incident holding the reference
//	{prefix}idx:created          sorted set: incident IDs scored by creation time (unix ms)
//	{prefix}claim:{key}          string with a TTL: a Claim
//	{prefix}op:{token}           string with a TTL: the result of one write, for replays
//	{prefix}inbox:stream         stream: the pending deliveries (fields id, src, body, meta, at),
//	                             read through the consumer group "workers"
//	{prefix}inbox:ids            hash: delivery ID → its stream entry, while pending
//	{prefix}inbox:leases         hash: stream entry → the lease (ms) it was last taken for
//	{prefix}inbox:seen:{id}      string with the retention as its TTL: a delivery ID put
//
// A ':' or '%' in a reference kind is percent-encoded, so that kind and
// value cannot be told apart wrongly.
//
// # Atomicity
//
// Create, Update and Append are each one Lua script, and Redis runs a
// script as a whole with no other client's command in between: the
// version check, the refusal of taken IDs and references, the dropping of
// events whose key is already in the timeline, the numbering of the new
// events (the stream's length plus one, so Seq runs 1..n without gaps) and
// every write happen as one step, whichever replica sent them. Two
// replicas updating one incident from the same version cannot both win:
// the second script sees the first one's version and fails with
// ErrConflict. Each script makes all of its checks before its first write,
// so a refused call stores nothing.
//
// A write may be sent twice: go-redis retries a command whose connection
// broke, and the first one may have run. Each write carries a random
// token, and the script records its result under it for ten minutes; a
// replay returns that result instead of running again, so that a retried
// Update does not fail with ErrConflict against its own first run, and a
// retried Append still returns the events it stored.
//
// The Store is also an inbox.Inbox. Put is one script: the refusal
// of an ID pending or seen, the refusal of a full inbox, the XADD, the
// hash of pending IDs and the SET of the seen key with its expiry happen
// at once, so that no crash keeps one without the others. Take is one
// script too: from the group's pending entries (XPENDING, in order), it
// claims again (XCLAIM) those idle for at least the lease they were last
// taken for, then reads new ones (XREADGROUP); Redis runs it alone, so
// two replicas never lease one entry together. A delivery's Attempts is
// the group's delivery count. Done is XACK and XDEL of the entry, with
// its ID removed from the pending hash; the seen key stays until it
// expires.
//
// Get, HasEvent, FindByRef and Claim are single commands. Events checks
// that the incident exists and reads the stream in one pipeline; since a
// timeline only grows, that is as good as a snapshot. List reads the
// index and then the incidents page by page, so it is not a snapshot: an
// incident changed meanwhile is seen as it was when its page was read.
//
// # Durability
//
// Store's contract says that a write that returned nil is durable. Redis
// makes that true only when it runs with an append-only file fsynced on
// every write (appendonly yes, appendfsync always): it then writes and
// fsyncs each script's effects before it replies. Replication is
// asynchronous, so a failover to a replica can lose writes that were
// acknowledged. The store cannot change how the server is run; the
// deployment must.
//
// # Redis Cluster
//
// Create and Update touch the incident's keys, its references and the
// index at once, which Redis Cluster allows only within one hash slot. On
// a cluster, give a Prefix with a hash tag, such as "{breadcrumb}:", so
// that every key lands in one slot.
package redisstore
