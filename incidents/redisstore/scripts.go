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
