"""The Lua scripts of the Redis bus: each runs atomically inside Redis."""

# The token bucket of allow(), on Redis's clock; shared by ALLOW_LUA and POSTS_LUA. Its state is one
# string '<tokens> <time>' (one GET and one SET with its expiry: a hash took three calls).
BUCKET_LUA = """
local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1e6
end
local function bucket_load(key, rate, burst, now)
  local tokens, last = string.match(redis.call('GET', key) or '', '^(%S+) (%S+)$')
  tokens, last = tonumber(tokens) or burst, tonumber(last) or now
  return math.min(burst, tokens + math.max(0, now - last) * rate)
end
local function bucket_save(key, tokens, rate, burst, now)
  redis.call('SET', key, string.format('%.6f %.6f', tokens, now), 'PX', math.ceil(burst / rate * 1000) + 1000)
end
local function take(key, rate, burst, now)
  rate, burst = tonumber(rate), tonumber(burst)
  local tokens = bucket_load(key, rate, burst, now)
  local allowed = 0
  if tokens >= 1 then tokens = tokens - 1; allowed = 1 end
  bucket_save(key, tokens, rate, burst, now)
  return allowed
end
"""

# A batch of posts, in order; the reply is one {status, data} per post: {0, seq} posted, {1, first message}
# a repeated dedup key, {2, ''} an unseeded channel, {4, ''} no token left. KEYS: the archive stream and
# the batch's retry marker, then per post its seq counter and recent list, its dedup key if it has one
# and its send limit's bucket if it has one. ARGV: the live feed's pub/sub channel, the recent buffer's
# length, the retry marker's and the dedup keys' TTLs, then POST_FIELDS per post: its wire JSON without
# seq, rev and its opening brace (the script puts '{"seq":<seq>,"rev":<seq>,' in front: the archive, the recent
# buffer and the live feed all carry that one string), its channel, '1' when it has a dedup key, '1' when
# it is limited, the bucket's rate and burst.
# The limit rides on the post so a send costs one round trip; an unseeded channel takes no token.
# The batch's replies stay under its retry marker: redis-py repeating the call after a lost reply gets
# them again instead of posting twice. A bucket is read once and written once per batch, a seq counter
# checked once. The new messages go on the live feed as one PUBLISH of '<channel>\n<message>' records
# joined by newlines (neither has one), in seq order; PUBLISH inside the script keeps the feed in seq
# order across nodes and costs no round trip; the records' strings are joined there once, not built per
# post (making a Lua string is not free). Each redis.call costs more than the command itself, so
# the recent list is trimmed once it holds RECENT_TRIM_SLACK more than its length, not on every post
# (readers take its last `length` entries).
POST_FIELDS = 6
RECENT_TRIM_SLACK = 50
POSTS_LUA = (
    BUCKET_LUA
    + f"local TRIM_SLACK = {RECENT_TRIM_SLACK}"
    + """
local done = redis.call('GET', KEYS[2])
if done then return cjson.decode(done) end
local now = nil
local keep = tonumber(ARGV[2])
local seeded, buckets, used, live = {}, {}, {}, {}
local function take_cached(key, rate, burst)
  local bucket = buckets[key]
  if not bucket then
    now = now or clock()
    rate, burst = tonumber(rate), tonumber(burst)
    bucket = {key, bucket_load(key, rate, burst, now), rate, burst}
    buckets[key] = bucket
    used[#used + 1] = bucket
  end
  if bucket[2] < 1 then return 0 end
  bucket[2] = bucket[2] - 1
  return 1
end
local function post(seqkey, recent, marker, bucket, tail, channel, rate, burst)
  local seen = marker and redis.call('GET', marker)
  if not seen and not seeded[seqkey] then
    if redis.call('EXISTS', seqkey) == 0 then return {2, ''} end
    seeded[seqkey] = true
  end
  if bucket and take_cached(bucket, rate, burst) == 0 then return {4, ''} end
  if seen then return {1, seen} end
  local seq = redis.call('INCR', seqkey)
  local data = '{"seq":' .. seq .. ',"rev":' .. seq .. ',' .. tail
  redis.call('XADD', KEYS[1], '*', 'data', data)
  if redis.call('RPUSH', recent, data) > keep + TRIM_SLACK then redis.call('LTRIM', recent, -keep, -1) end
  live[#live + 1] = channel
  live[#live + 1] = data
  if marker then redis.call('SET', marker, data, 'EX', ARGV[4]) end
  return {0, seq}
end
local out = {}
local k = 3
for a = 5, #ARGV, """
    + str(POST_FIELDS)
    + """ do
  local marker, bucket = nil, nil
  local seqkey, recent = KEYS[k], KEYS[k + 1]
  k = k + 2
  if ARGV[a + 2] == '1' then marker = KEYS[k]; k = k + 1 end
  if ARGV[a + 3] == '1' then bucket = KEYS[k]; k = k + 1 end
  out[#out + 1] = post(seqkey, recent, marker, bucket, ARGV[a], ARGV[a + 1], ARGV[a + 4], ARGV[a + 5])
end
for _, bucket in ipairs(used) do bucket_save(bucket[1], bucket[2], bucket[3], bucket[4], now) end
if #live > 0 then redis.call('PUBLISH', ARGV[1], table.concat(live, '\\n')) end
redis.call('SET', KEYS[2], cjson.encode(out), 'EX', ARGV[3])
return out
"""
)

# One change to a message (core/changes.py), as atomic as a post: KEYS the channel's seq counter, its
# recent list, the archive stream, the message's remembered folded state and, if limited, the send
# bucket; ARGV the live feed's channel, the recent buffer's length, the change's fields after seq and
# before its message (no braces), the folded message after its rev (no opening brace), the rev the
# change was folded from, the state's TTL, the channel name, then the bucket's rate and burst. Replies
# {0, seq} posted, {2, ''} unseeded, {3, state} the message changed meanwhile (fold again from state),
# {4, ''} no token left. The state is checked by its rev, read off the JSON's head ('{"rev":<rev>,').
CHANGE_LUA = (
    BUCKET_LUA
    + f"local TRIM_SLACK = {RECENT_TRIM_SLACK}"
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return {2, ''} end
local state = redis.call('GET', KEYS[4])
if state and tonumber(string.match(state, '^{"rev":(%d+),')) ~= tonumber(ARGV[5]) then return {3, state} end
if KEYS[5] then
  local now = clock()
  local rate, burst = tonumber(ARGV[8]), tonumber(ARGV[9])
  local tokens = bucket_load(KEYS[5], rate, burst, now)
  if tokens < 1 then return {4, ''} end
  bucket_save(KEYS[5], tokens - 1, rate, burst, now)
end
local seq = redis.call('INCR', KEYS[1])
local message = '{"rev":' .. seq .. ',' .. ARGV[4]
local data = '{"seq":' .. seq .. ',' .. ARGV[3] .. ',"message":' .. message .. '}'
redis.call('SET', KEYS[4], message, 'EX', ARGV[6])
redis.call('XADD', KEYS[3], '*', 'data', data)
if redis.call('RPUSH', KEYS[2], data) > tonumber(ARGV[2]) + TRIM_SLACK then
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
end
redis.call('PUBLISH', ARGV[1], ARGV[7] .. '\\n' .. data)
return {0, seq}
"""
)

# A channel event (membership, moderation, settings), sequenced like a post: KEYS the channel's seq counter,
# its recent list and the archive stream; ARGV the live feed's channel, the recent buffer's length, the
# event's JSON after its seq without the opening brace, and the channel name. Replies {0, seq} or {2, ''}.
EVENT_LUA = (
    f"local TRIM_SLACK = {RECENT_TRIM_SLACK}"
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return {2, ''} end
local seq = redis.call('INCR', KEYS[1])
local data = '{"seq":' .. seq .. ',' .. ARGV[3]
redis.call('XADD', KEYS[3], '*', 'data', data)
if redis.call('RPUSH', KEYS[2], data) > tonumber(ARGV[2]) + TRIM_SLACK then
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[2]), -1)
end
redis.call('PUBLISH', ARGV[1], ARGV[4] .. '\\n' .. data)
return {0, seq}
"""
)

# A message as the bus holds it (RedisBus.find): its folded state if it changed, else its post in the recent
# buffer, found by its '"id":"<id>"' (a change record holds it too, but a changed message has a state key).
# KEYS the state key and the recent list, ARGV the buffer's length and the id's JSON.
FIND_LUA = """
local state = redis.call('GET', KEYS[1])
if state then return state end
local records = redis.call('LRANGE', KEYS[2], -tonumber(ARGV[1]), -1)
for i = #records, 1, -1 do
  if string.find(records[i], ARGV[2], 1, true) and string.sub(records[i], 1, 7) == '{"seq":'
     and not string.find(string.sub(records[i], 1, 40), ',"kind":"', 1, true) then
    return records[i]
  end
end
return false
"""

SEED_LUA = """
local current = tonumber(redis.call('GET', KEYS[1]))
if current == nil or current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
"""

# XAUTOCLAIM bumps each entry's delivery count; XPENDING in the same script reads it back.
CLAIM_LUA = """
local res = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], 'COUNT', ARGV[5])
local out = {res[1]}
for _, e in ipairs(res[2]) do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], e[1], e[1], 1)
  local deliveries = 1
  if p[1] then deliveries = p[1][4] end
  local data = ''
  for i = 1, #e[2], 2 do if e[2][i] == 'data' then data = e[2][i + 1] end end
  table.insert(out, {e[1], data, deliveries})
end
return out
"""

# Consumers are never deleted by Redis: each worker process reads under a name of its own (host-pid), so
# restarts leave names behind. Forget those idle longer than ARGV[2] ms holding no pending entry (nothing is
# lost: a worker that does read again is re-created by its read); atomic, so none takes an entry meanwhile.
FORGET_CONSUMERS_LUA = """
local forgotten = 0
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local name, pending, idle
  for i = 1, #c, 2 do
    if c[i] == 'name' then name = c[i + 1] elseif c[i] == 'pending' then pending = c[i + 1]
    elseif c[i] == 'idle' then idle = c[i + 1] end
  end
  if pending == 0 and idle > tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
    forgotten = forgotten + 1
  end
end
return forgotten
"""

# Trim below the oldest entry any group still needs: its oldest pending one, or the one after its
# last delivered. XTRIM (unlike XDEL) keeps XINFO's lag exact, which backlog() relies on.
ACK_LUA = """
redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 2))
if redis.call('EXISTS', KEYS[1]) == 0 then return end
local function parse(id)
  local ms, sq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(sq), ms
end
local floor_ms, floor_sq, floor_id = nil, nil, nil
for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local name, last
  for i = 1, #g, 2 do
    if g[i] == 'name' then name = g[i + 1] elseif g[i] == 'last-delivered-id' then last = g[i + 1] end
  end
  local summary = redis.call('XPENDING', KEYS[1], name)
  local ms, sq, id
  if summary[1] > 0 then
    ms, sq = parse(summary[2]); id = summary[2]
  else
    local raw
    ms, sq, raw = parse(last); sq = sq + 1; id = raw .. '-' .. string.format('%d', sq)
  end
  if floor_ms == nil or ms < floor_ms or (ms == floor_ms and sq < floor_sq) then
    floor_ms, floor_sq, floor_id = ms, sq, id
  end
end
if floor_id then redis.call('XTRIM', KEYS[1], 'MINID', '~', floor_id) end
"""

ALLOW_LUA = BUCKET_LUA + "return take(KEYS[1], ARGV[1], ARGV[2], clock())"

# Presence: KEYS[1] is the channel's zset of user -> last heartbeat (ms, Redis clock), KEYS[2] the
# user's zset of connection -> last heartbeat. Redis's clock keeps nodes with skewed clocks consistent.
PRESENCE_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
"""

PRESENCE_ADD_LUA = (
    PRESENCE_NOW
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl)
local added = redis.call('ZADD', KEYS[2], now, ARGV[2])
local count = redis.call('ZCARD', KEYS[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
if added == 1 and count == 1 then return 1 end
return 0
"""
)

PRESENCE_REMOVE_LUA = (
    PRESENCE_NOW
    + """
local removed = redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl)
if redis.call('ZCARD', KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return removed
end
return 0
"""
)

# ARGV[2] is unused here so every presence script shares PRESENCE_NOW's argument layout. Returns 1 when
# the user was not in the channel's set any more (swept after this node missed its heartbeats).
PRESENCE_TOUCH_LUA = (
    PRESENCE_NOW
    + """
for i = 4, #ARGV do redis.call('ZADD', KEYS[2], now, ARGV[i]) end
local added = redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return added
"""
)

# Users refreshed within the TTL; stale ones are left for PRESENCE_SWEEP_LUA to remove and announce.
PRESENCE_MEMBERS_LUA = (
    PRESENCE_NOW
    + """
return redis.call('ZRANGEBYSCORE', KEYS[1], now - ttl, '+inf')
"""
)

# Users of the channel that no node refreshed within the TTL (their node died): removed and returned, so
# each is announced offline by exactly one caller.
PRESENCE_SWEEP_LUA = (
    PRESENCE_NOW
    + """
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - ttl))
for _, user in ipairs(gone) do redis.call('ZREM', KEYS[1], user) end
return gone
"""
)
