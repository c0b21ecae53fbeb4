"""The Lua scripts of the Redis bus: each runs atomically inside Redis."""

# The token bucket of allow(), on Redis's clock; shared by ALLOW_LUA and POSTS_LUA.
BUCKET_LUA = """
local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1e6
end
local function take(key, rate, burst, now)
  rate, burst = tonumber(rate), tonumber(burst)
  local state = redis.call('HMGET', key, 'tokens', 'ts')
  local tokens = tonumber(state[1]) or burst
  local last = tonumber(state[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - last) * rate)
  local allowed = 0
  if tokens >= 1 then tokens = tokens - 1; allowed = 1 end
  redis.call('HSET', key, 'tokens', string.format('%.6f', tokens), 'ts', string.format('%.6f', now))
  redis.call('PEXPIRE', key, math.ceil(burst / rate * 1000) + 1000)
  return allowed
end
"""

# A batch of posts, in order; the reply is one {status, data} per post. KEYS: the archive stream, then per
# post its marker, seq counter and recent list, and its send limit's bucket if it has one. ARGV: the live
# feed's pub/sub channel, the recent buffer's length, then POST_FIELDS per post: its wire JSON without seq
# (the seq is spliced in first; the archive, the recent buffer and the live feed all carry that one
# string), the marker's TTL, '1' when the marker is a dedup key (it keeps the whole first message) or '0'
# when it is the retry marker (it keeps the seq only: less memory), '<channel>\n', '1' when limited, and
# the bucket's rate and burst. The limit rides on the post so a send costs one round trip; an unseeded
# channel and our own retried post take no token. The batch's new messages go on the live feed as one
# PUBLISH of '<channel>\n<message>' records joined by newlines (neither has one), in seq order; PUBLISH
# inside the script keeps the feed in seq order across nodes and costs no round trip.
POST_FIELDS = 7
POSTS_LUA = (
    BUCKET_LUA
    + """
local now = nil
local live = {}
local function post(marker, seqkey, recent, bucket, wire, ttl, whole, prefix, rate, burst)
  local seen = redis.call('GET', marker)
  if seen and whole == '0' then return {3, '{"seq":' .. seen .. ',' .. string.sub(wire, 2)} end
  if not seen and redis.call('EXISTS', seqkey) == 0 then return {2, ''} end
  if bucket then
    now = now or clock()
    if take(bucket, rate, burst, now) == 0 then return {4, ''} end
  end
  if seen then return {1, seen} end
  local seq = redis.call('INCR', seqkey)
  local data = '{"seq":' .. seq .. ',' .. string.sub(wire, 2)
  redis.call('XADD', KEYS[1], '*', 'data', data)
  redis.call('RPUSH', recent, data)
  redis.call('LTRIM', recent, -tonumber(ARGV[2]), -1)
  live[#live + 1] = prefix .. data
  if whole == '1' then
    redis.call('SET', marker, data, 'EX', ttl)
  else
    redis.call('SET', marker, seq, 'EX', ttl)
  end
  return {0, seq}
end
local out = {}
local k = 2
for a = 3, #ARGV, """
    + str(POST_FIELDS)
    + """ do
  local bucket = nil
  if ARGV[a + 4] == '1' then bucket = KEYS[k + 3] end
  out[#out + 1] = post(KEYS[k], KEYS[k + 1], KEYS[k + 2], bucket, ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3],
    ARGV[a + 5], ARGV[a + 6])
  if bucket then k = k + 4 else k = k + 3 end
end
if #live > 0 then redis.call('PUBLISH', ARGV[1], table.concat(live, '\\n')) end
return out
"""
)

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
# user's zset of sid -> last heartbeat. Redis's clock keeps nodes with skewed clocks consistent.
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

# ARGV[2] is unused here so every presence script shares PRESENCE_NOW's argument layout.
PRESENCE_TOUCH_LUA = (
    PRESENCE_NOW
    + """
for i = 4, #ARGV do redis.call('ZADD', KEYS[2], now, ARGV[i]) end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
"""
)

PRESENCE_MEMBERS_LUA = (
    PRESENCE_NOW
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""
)
