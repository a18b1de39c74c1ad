package redisstore

import "github.com/redis/go-redis/v9"

// The scripts' errors start with a code that errorOf maps to a sentinel.
const (
	codeConflict = "CONFLICT"
	codeNotFound = "NOTFOUND"
)

// Each write script returns, and records under its op key, its result: the
// Seq given to each event of the call, in order, comma-separated, 0 for
// an event left out because its key was already in the timeline. A
// script whose op key is already set has run: it returns the recorded
// result and writes nothing.

// addEvents is shared by the write scripts (EVAL has no shared functions,
// so it is prepended to each). It appends the events given as key, JSON
// pairs in ARGV from index i to the stream tl, numbering them from the
// stream's length plus one, skips those whose key is in the hash tlkeys
// (a key given twice is stored once), and returns the result string.
// It is called after every check, so that a call either fails before
// writing anything or stores everything: XADD can fail only for an ID
// not above the stream's last one, which the numbering rules out, and
// then on the first event, before any write.
const addEvents = `
local function add_events(tl, tlkeys, i)
	local seq = redis.call('XLEN', tl)
	local out = {}
	while i < #ARGV do
		local key, ev = ARGV[i], ARGV[i + 1]
		if redis.call('HEXISTS', tlkeys, key) == 1 then
			out[#out + 1] = '0'
		else
			seq = seq + 1
			local id = string.format('0-%d', seq)
			redis.call('XADD', tl, id, 'e', ev)
			redis.call('HSET', tlkeys, key, seq)
			out[#out + 1] = string.format('%d', seq)
		end
		i = i + 2
	end
	return table.concat(out, ',')
end
`

// createScript stores a new incident.
//
//	KEYS: inc, tl, tlkeys, idx, op, ref keys...
//	ARGV: id, incident JSON, score, ref keys JSON, op TTL (ms), then key, event JSON pairs
var createScript = redis.NewScript(addEvents + `
local done = redis.call('GET', KEYS[5])
if done then return done end
if redis.call('EXISTS', KEYS[1]) == 1 then
	return redis.error_reply('CONFLICT the ID is taken')
end
for i = 6, #KEYS do
	local holder = redis.call('GET', KEYS[i])
	if holder then
		return redis.error_reply('CONFLICT reference ' .. KEYS[i] .. ' is held by ' .. holder)
	end
end
local result = add_events(KEYS[2], KEYS[3], 6)
redis.call('HSET', KEYS[1], 'v', '1', 'j', ARGV[2], 'r', ARGV[4])
for i = 6, #KEYS do
	redis.call('SET', KEYS[i], ARGV[1])
end
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
redis.call('SET', KEYS[5], result, 'PX', ARGV[5])
return result
`)

// updateScript replaces an incident whose stored version is the expected
// one, moves its references and appends events.
//
//	KEYS: inc, tl, tlkeys, idx, op, ref keys...
//	ARGV: id, incident JSON, score, ref keys JSON, op TTL (ms),
//	      expected version, new version, then key, event JSON pairs
//
// The ref keys the incident held before are read from its hash, so they
// are not among KEYS; on a cluster they share the slot of the other keys
// only when the prefix has a hash tag, as the package doc requires.
var updateScript = redis.NewScript(addEvents + `
local done = redis.call('GET', KEYS[5])
if done then return done end
local current = redis.call('HGET', KEYS[1], 'v')
if not current then
	return redis.error_reply('NOTFOUND')
end
if current ~= ARGV[6] then
	return redis.error_reply('CONFLICT the stored version is ' .. current .. ', not ' .. ARGV[6])
end
for i = 6, #KEYS do
	local holder = redis.call('GET', KEYS[i])
	if holder and holder ~= ARGV[1] then
		return redis.error_reply('CONFLICT reference ' .. KEYS[i] .. ' is held by ' .. holder)
	end
end
local held = redis.call('HGET', KEYS[1], 'r')
held = (held and held ~= '') and cjson.decode(held) or {}
local keep = {}
for i = 6, #KEYS do keep[KEYS[i]] = true end
local result = add_events(KEYS[2], KEYS[3], 8)
for _, k in ipairs(held) do
	if not keep[k] and redis.call('GET', k) == ARGV[1] then
		redis.call('DEL', k)
	end
end
redis.call('HSET', KEYS[1], 'v', ARGV[7], 'j', ARGV[2], 'r', ARGV[4])
for i = 6, #KEYS do
	redis.call('SET', KEYS[i], ARGV[1])
end
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
redis.call('SET', KEYS[5], result, 'PX', ARGV[5])
return result
`)

// appendScript appends events to an existing incident's timeline.
//
//	KEYS: inc, tl, tlkeys, op
//	ARGV: op TTL (ms), then key, event JSON pairs
var appendScript = redis.NewScript(addEvents + `
local done = redis.call('GET', KEYS[4])
if done then return done end
if redis.call('EXISTS', KEYS[1]) == 0 then
	return redis.error_reply('NOTFOUND')
end
local result = add_events(KEYS[2], KEYS[3], 2)
redis.call('SET', KEYS[4], result, 'PX', ARGV[1])
return result
`)

// The inbox's scripts. The stream holds the pending deliveries, each
// entry with the fields id, src, body, meta (JSON, or empty) and at
// (ReceivedAt, RFC 3339 with nanoseconds); the ids hash maps a pending
// delivery's ID to its entry; the seen key of an ID lives for the
// retention. The consumer group is made with the stream, by the first
// Put, so that a Take never finds one without the other.

// inboxPutScript stores a delivery unless its ID is pending or seen.
// The checks, the XADD, the ids hash and the seen key are one step, so
// that a crash cannot keep one without the others.
//
//	KEYS: stream, ids, seen
//	ARGV: group, id, retention (ms), max pending, src, body, meta, at
//
// It returns 1 when it stored the delivery, 0 for a duplicate.
var inboxPutScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 or redis.call('EXISTS', KEYS[3]) == 1 then
	return 0
end
local pending = redis.call('HLEN', KEYS[2])
if pending >= tonumber(ARGV[4]) then
	return redis.error_reply('FULL ' .. pending .. ' deliveries are pending')
end
if redis.call('EXISTS', KEYS[1]) == 0 then
	redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
end
local entry = redis.call('XADD', KEYS[1], '*', 'id', ARGV[2], 'src', ARGV[5], 'body', ARGV[6], 'meta', ARGV[7], 'at', ARGV[8])
redis.call('HSET', KEYS[2], ARGV[2], entry)
redis.call('SET', KEYS[3], entry, 'PX', ARGV[3])
return 1
`)

// inboxTakeScript leases up to n deliveries to a consumer: first those
// whose lease ran out, then new ones. The group's pending list holds the
// leased entries in order with their idle time (since they were last
// handed out) and delivery count; the leases hash holds the lease each
// was taken for. An entry idle for its lease or longer is claimed again
// with XCLAIM, which counts the delivery. Then XREADGROUP hands out new
// entries. Every claimed entry is older than every new one, so the
// result is oldest first.
//
//	KEYS: stream, leases
//	ARGV: group, consumer, n, lease (ms)
//
// It returns a list of {entry ID, fields, attempts}.
var inboxTakeScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
	return {}
end
local n = tonumber(ARGV[3])
local out = {}
local from = '-'
while #out < n do
	local page = redis.call('XPENDING', KEYS[1], ARGV[1], from, '+', 100)
	for _, p in ipairs(page) do
		local id, idle, count = p[1], p[3], p[4]
		local lease = tonumber(redis.call('HGET', KEYS[2], id) or '0')
		if idle >= lease then
			local claimed = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id)
			if claimed[1] and claimed[1][2] then
				out[#out + 1] = {id, claimed[1][2], count + 1}
				redis.call('HSET', KEYS[2], id, ARGV[4])
			else
				-- The entry left the stream without an XACK: forget it.
				redis.call('XACK', KEYS[1], ARGV[1], id)
				redis.call('HDEL', KEYS[2], id)
			end
			if #out >= n then break end
		end
	end
	if #page < 100 then break end
	from = '(' .. page[#page][1]
end
if #out < n then
	local r = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', n - #out, 'STREAMS', KEYS[1], '>')
	if r then
		for _, m in ipairs(r[1][2]) do
			out[#out + 1] = {m[1], m[2], 1}
			redis.call('HSET', KEYS[2], m[1], ARGV[4])
		end
	end
end
return out
`)

// inboxDoneScript removes a pending delivery: its entry leaves the
// group's pending list and the stream, its ID the ids hash. The seen key
// stays until it expires.
//
//	KEYS: stream, ids, leases
//	ARGV: group, id
var inboxDoneScript = redis.NewScript(`
local entry = redis.call('HGET', KEYS[2], ARGV[2])
if not entry then
	return 0
end
redis.call('XACK', KEYS[1], ARGV[1], entry)
redis.call('XDEL', KEYS[1], entry)
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[3], entry)
return 1
`)

// leadScript takes a lease that is free (its key expired or was never
// set) with SET NX PX, or renews it with PEXPIRE when the holder holds
// it, and returns 1 when the holder holds it then, else 0. Running it
// again (a retry) gives the same answer.
//
//	KEYS: lease
//	ARGV: holder, ttl (ms)
var leadScript = redis.NewScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
	return 1
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
	redis.call('PEXPIRE', KEYS[1], ARGV[2])
	return 1
end
return 0
`)

// resignScript deletes a lease's key when the holder holds it.
//
//	KEYS: lease
//	ARGV: holder
var resignScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0
`)
