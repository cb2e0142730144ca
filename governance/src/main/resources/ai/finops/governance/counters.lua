-- The counters of RedisCounterStore: one call of this script is one decision, atomic in Redis.
-- The semantics are EmbeddedCounterStore's (its javadoc states them for both stores); the key layout
-- is in RedisCounterStore's javadoc; this file must agree with both.
--
-- ARGV[1] op: reserve | settle | used
-- ARGV[2] now, epoch microseconds (the caller's clock)
-- ARGV[3] key prefix, "{tag}:" (every key below starts with it, so all share one Cluster slot)
-- ARGV[4] reservation id ("" for used)
-- ARGV[5] reserve: ttl, µs; otherwise 0
-- ARGV[6] reserve and settle: the settled memory, µs (an id that ended is remembered max(ttl, this)); used: 0
-- ARGV[7] n, then n counters of 5 values each: key, kind (S spend, R requests/min, T tokens/min,
--         C concurrent), limit, window µs (0: none), amount
-- KEYS declares every key the call touches that the caller can name (for routing); the script
-- derives the names itself from the prefix, and a settle also touches the counters its
-- reservation record names.
--
-- reserve -> {1, remaining...} granted (remaining per counter, in order)
--            {0, index, used, retryAfterMicros or -1} refused by the index-th counter (1-based)
--            {2} the id was settled or expired already
-- settle  -> {1} settled now, {0} settled before
-- used    -> {used...}
--
-- Numbers are Lua doubles: every integer here stays within 2^53 - 1 (the Java side checks limits,
-- windows and amounts), so the arithmetic is exact, and every number given to Redis is formatted
-- with int(), never Lua's default %.14g.

local MAX = 9007199254740991   -- 2^53 - 1
local GRACE_MS = 60000         -- added to every key's TTL, past the instant its content stops counting

local op = ARGV[1]
local now = tonumber(ARGV[2])
local prefix = ARGV[3]
local id = ARGV[4]
local ttl = tonumber(ARGV[5])
local memory = tonumber(ARGV[6])
local n = tonumber(ARGV[7])

local counters = {}
for i = 1, n do
  local b = 7 + (i - 1) * 5
  counters[i] = {key = ARGV[b + 1], kind = ARGV[b + 2], limit = tonumber(ARGV[b + 3]),
                 window = tonumber(ARGV[b + 4]), amount = tonumber(ARGV[b + 5])}
end

local function name(counter, suffix)
  return prefix .. 'c:' .. counter .. ':' .. suffix
end
local record = prefix .. 'r:' .. id

local function int(x)
  if x == 0 then
    return '0'    -- not '-0', which Redis does not take for an integer
  end
  return string.format('%.0f', x)
end

-- floor(a / b), exact for |a| <= 2^53 - 1 and 0 < b <= 2^53 - 1
local function floordiv(a, b)
  local q = math.floor(a / b)
  if q * b > a then
    q = q - 1
  elseif (q + 1) * b <= a then
    q = q + 1
  end
  return q
end

local function ceildiv(a, b)
  return -floordiv(-a, b)
end

-- a TTL in ms for content that counts for us more µs: rounded up, plus the grace
local function ttl_ms(us)
  return int(math.max(ceildiv(us, 1000), 1) + GRACE_MS)
end

-- keeps key k for at least ms more (never shortens it)
local function keep(k, ms)
  local left = redis.call('PTTL', k)
  if left == -1 or (left >= 0 and left < tonumber(ms)) then
    redis.call('PEXPIRE', k, ms)
  end
end

-- SPEND and CONCURRENT: the live reservations of a counter in :res (id -> expiry µs) and :amt (id ->
-- amount, and _sum, the total of the live ones); the expired ones are dropped first.
local function purge(c)
  local res, amt = name(c.key, 'res'), name(c.key, 'amt')
  while true do
    local ids = redis.call('ZRANGEBYSCORE', res, '-inf', int(now), 'LIMIT', 0, 256)
    if #ids == 0 then
      return
    end
    local amounts = redis.call('HMGET', amt, unpack(ids))
    local total = 0
    for i = 1, #amounts do
      total = total + (tonumber(amounts[i]) or 0)
    end
    redis.call('ZREM', res, unpack(ids))
    redis.call('HDEL', amt, unpack(ids))
    if total ~= 0 then
      redis.call('HINCRBY', amt, '_sum', int(-total))
    end
  end
end

local function held(c)
  purge(c)
  return tonumber(redis.call('HGET', name(c.key, 'amt'), '_sum') or 0)
end

local function hold(c, expiry)
  local res, amt = name(c.key, 'res'), name(c.key, 'amt')
  redis.call('ZADD', res, int(expiry), id)
  redis.call('HSET', amt, id, int(c.amount))
  redis.call('HINCRBY', amt, '_sum', int(c.amount))
  keep(res, ttl_ms(ttl))
  keep(amt, ttl_ms(ttl))
end

local function release(c)
  local res, amt = name(c.key, 'res'), name(c.key, 'amt')
  local a = tonumber(redis.call('HGET', amt, id))
  if a then
    redis.call('ZREM', res, id)
    redis.call('HDEL', amt, id)
    redis.call('HINCRBY', amt, '_sum', int(-a))
  end
end

-- SPEND: the settled total in :settled, a hash: total, and until (µs; 'ever' for a counter without a
-- window), from which the total counts as zero.
local function settled(c)
  local v = redis.call('HMGET', name(c.key, 'settled'), 'total', 'until')
  if v[2] and v[2] ~= 'ever' and tonumber(v[2]) <= now then
    return 0
  end
  return tonumber(v[1]) or 0
end

-- adds amount to the settled total and keeps the counter until now + window at least
local function touch(c, amount)
  local k = name(c.key, 'settled')
  local v = redis.call('HMGET', k, 'total', 'until')
  local total, till = tonumber(v[1]) or 0, v[2]
  if till and till ~= 'ever' and tonumber(till) <= now then
    total, till = 0, false    -- forgotten: starts again from zero
  end
  if till ~= 'ever' then
    if c.window == 0 then
      till = 'ever'
    else
      till = int(math.max(tonumber(till) or 0, now + c.window))
    end
  end
  redis.call('HSET', k, 'total', int(total + amount), 'until', till)
  if till == 'ever' then
    redis.call('PERSIST', k)
  else
    redis.call('PEXPIRE', k, ttl_ms(tonumber(till) - now))
  end
end

-- REQUESTS/TOKENS per minute: GCRA as a leaky bucket in :rate, a hash: level (units × window µs),
-- last (µs, the latest now it was updated at) and window (µs, the window the level is counted in).
-- ceil(level × to / from), at most MAX: a level in another window
local function rescale(level, from, to)
  local q = floordiv(level, from)
  local r = level - q * from
  return math.min(q * to + ceildiv(r * to, from), MAX)
end

-- the level of c drained to now (0 for a limit of 0), and the instant to store with it
local function rate(c)
  local v = redis.call('HMGET', name(c.key, 'rate'), 'level', 'last', 'window')
  local level, last, w = tonumber(v[1]) or 0, tonumber(v[2]) or now, tonumber(v[3]) or c.window
  local at = math.max(last, now)    -- time never runs backwards for a rate
  if c.limit == 0 then
    return 0, at
  end
  if w ~= c.window and level > 0 then
    level = rescale(level, w, c.window)
  end
  if now > last and level > 0 then
    if now - last > floordiv(level, c.limit) then
      level = 0
    else
      level = level - (now - last) * c.limit
    end
  end
  return level, at
end

local function set_rate(c, level, at)
  local k = name(c.key, 'rate')
  if level <= 0 or c.limit == 0 then
    redis.call('DEL', k)
    return
  end
  redis.call('HSET', k, 'level', int(level), 'last', int(at), 'window', int(c.window))
  -- until it has drained, and a window at least
  redis.call('PEXPIRE', k, ttl_ms(math.max(ceildiv(level, c.limit), c.window)))
end

local function used(c)
  if c.kind == 'S' then
    return settled(c) + held(c)
  elseif c.kind == 'C' then
    return held(c)
  end
  return ceildiv((rate(c)), c.window)
end

local function remaining(c)
  if c.kind == 'S' or c.kind == 'C' then
    return c.limit - used(c)
  end
  return floordiv(c.limit * c.window - (rate(c)), c.window)
end

-- whether c has room for its amount: nil when it has, else used and retry-after µs (-1: waiting cannot help)
local function check(c)
  if c.amount == 0 then
    return nil
  end
  if c.kind == 'S' or c.kind == 'C' then
    local u = used(c)
    if c.amount <= c.limit - u then
      return nil
    end
    return u, -1
  end
  local level = rate(c)
  local u = ceildiv(level, c.window)
  if c.amount > c.limit then
    return u, -1
  end
  local room = c.limit * c.window - c.amount * c.window
  if level <= room then
    return nil
  end
  return u, ceildiv(level - room, c.limit)
end

-- the reservation record: 'live', 'expired', 'settled' or 'absent' (never seen, or forgotten), and its ttl
local function state()
  local v = redis.call('HMGET', record, '_settled', '_exp', '_ttl', '_forget')
  if not v[4] then
    return 'absent', 0
  end
  if now >= tonumber(v[4]) then
    redis.call('DEL', record)
    return 'absent', 0
  end
  local t = tonumber(v[3]) or 0
  if v[1] then
    return 'settled', t
  end
  if now >= tonumber(v[2]) then
    return 'expired', t
  end
  return 'live', t
end

if op == 'used' then
  local out = {}
  for i = 1, n do
    out[i] = used(counters[i])
  end
  return out
end

if op == 'reserve' then
  local s = state()
  if s == 'settled' or s == 'expired' then
    return {2}
  end
  local out = {1}
  if s == 'live' then
    -- the same reservation asked again (a retry): granted as it is, nothing charged twice
    for i = 1, n do
      out[i + 1] = remaining(counters[i])
    end
    return out
  end
  for i = 1, n do
    local u, retry = check(counters[i])
    if u then
      return {0, i, u, retry}
    end
  end
  local expiry = now + ttl
  local forget = expiry + math.max(ttl, memory)
  redis.call('HSET', record, '_exp', int(expiry), '_ttl', int(ttl), '_forget', int(forget))
  for i = 1, n do
    local c = counters[i]
    if c.kind == 'S' then
      hold(c, expiry)
      touch(c, 0)
    elseif c.kind == 'C' then
      hold(c, expiry)
    else
      local level, at = rate(c)
      set_rate(c, level + c.amount * c.window, at)
    end
    redis.call('HSET', record, 'c:' .. c.key, c.kind .. ' ' .. int(c.limit) .. ' ' .. int(c.window) .. ' ' .. int(c.amount))
    out[i + 1] = remaining(c)
  end
  redis.call('PEXPIRE', record, ttl_ms(forget - now))
  return out
end

if op == 'settle' then
  local s, t = state()
  if s == 'settled' then
    return {0}
  end
  -- spend actually used counts whether the reservation is live, expired or unknown
  local actual = {}
  for i = 1, n do
    local c = counters[i]
    actual[c.key] = c
    if c.kind == 'S' and c.amount ~= 0 then
      touch(c, c.amount)
    end
  end
  if s == 'live' then
    local fields = redis.call('HGETALL', record)
    for i = 1, #fields, 2 do
      local f, v = fields[i], fields[i + 1]
      if string.sub(f, 1, 2) == 'c:' then
        local kind, limit, window, amount = string.match(v, '^(%a) (%d+) (%d+) (%d+)$')
        local h = {key = string.sub(f, 3), kind = kind, limit = tonumber(limit), window = tonumber(window),
                   amount = tonumber(amount)}
        if kind == 'S' or kind == 'C' then
          release(h)
        elseif actual[h.key] then
          -- a rate named in actual: corrected by actual - reserved; one missing stays as reserved
          local level, at = rate(h)
          if h.limit > 0 then
            level = math.max(0, math.min(MAX, level + (actual[h.key].amount - h.amount) * h.window))
          end
          set_rate(h, level, at)
        end
      end
    end
  end
  local keep_for = math.max(t, memory)
  redis.call('DEL', record)
  redis.call('HSET', record, '_settled', 1, '_ttl', int(t), '_forget', int(now + keep_for))
  redis.call('PEXPIRE', record, ttl_ms(keep_for))
  return {1}
end

return redis.error_reply('unknown op ' .. tostring(op))
