-- The counters of RedisCounterStore: one call of this script is one decision, atomic in Redis.
-- Semantics, key layout and units are in RedisCounterStore's javadoc; this file must agree with it.
--
-- ARGV[1] op: reserve | settle | used
-- ARGV[2] now, epoch milliseconds (the caller's clock)
-- ARGV[3] key prefix, "{tag}:" (every key below starts with it, so all share one Cluster slot)
-- ARGV[4] reservation id ("" for used)
-- ARGV[5] reserve: ttl ms; settle: how long a settled id is remembered, ms; used: unused
-- ARGV[6] n, then n counters of 5 values each: key, kind (S spend, R requests/min, T tokens/min,
--         C concurrent), limit, window ms, amount
-- KEYS declares every key the call touches that the caller can name (for routing); the script
-- derives the names itself from the prefix, and a settle also touches the counters its
-- reservation record names.
--
-- reserve -> {1, remaining...} granted (remaining per counter, in order)
--            {0, index, used, retryAfterMs or -1} refused by the index-th counter (1-based)
--            {2} the id was settled already
-- settle  -> {1} settled now, {0} settled before
-- used    -> {used...}

local op = ARGV[1]
local now = tonumber(ARGV[2])
local now_us = now * 1000
local prefix = ARGV[3]
local id = ARGV[4]
local arg5 = tonumber(ARGV[5])
local n = tonumber(ARGV[6])

local counters = {}
for i = 1, n do
  local b = 6 + (i - 1) * 5
  counters[i] = {key = ARGV[b + 1], kind = ARGV[b + 2], limit = tonumber(ARGV[b + 3]),
                 window = tonumber(ARGV[b + 4]), amount = tonumber(ARGV[b + 5])}
end

local function name(counter, suffix)
  return prefix .. 'c:' .. counter .. ':' .. suffix
end
local record = prefix .. 'r:' .. id

local function int(x)
  return string.format('%.0f', x)
end

-- keeps key k for at least ms more (never shortens it)
local function keep(k, ms)
  local ttl = redis.call('PTTL', k)
  if ttl == -1 or (ttl >= 0 and ttl < ms) then
    redis.call('PEXPIRE', k, ms)
  end
end

-- SPEND: settled total in :settled; live reservations in :res (id -> expiry ms) and :amt (id ->
-- amount, and _sum, the total of the live ones). Expired reservations are dropped first.
local function purge_spend(c)
  local res, amt = name(c.key, 'res'), name(c.key, 'amt')
  while true do
    local ids = redis.call('ZRANGEBYSCORE', res, '-inf', now, 'LIMIT', 0, 256)
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
      redis.call('HINCRBY', amt, '_sum', -total)
    end
  end
end

local function used_spend(c)
  purge_spend(c)
  local settled = tonumber(redis.call('GET', name(c.key, 'settled')) or 0)
  local reserved = tonumber(redis.call('HGET', name(c.key, 'amt'), '_sum') or 0)
  return settled + reserved
end

-- REQUESTS/TOKENS per minute: GCRA. :tat is the theoretical arrival time, epoch microseconds. Each
-- unit moves it window/limit ahead of max(tat, now); a charge fits while it stays within window of now.
local function interval(c)
  return c.window * 1000 / c.limit
end

local function ahead(c)
  local tat = tonumber(redis.call('GET', name(c.key, 'tat')) or 0)
  local a = tat - now_us
  if a < 0 then
    return 0
  end
  return a
end

local function used_rate(c)
  if c.limit <= 0 then
    return 0
  end
  return math.ceil(ahead(c) / interval(c) - 1e-9)
end

local function set_ahead(c, a)
  local k = name(c.key, 'tat')
  if a <= 0 then
    redis.call('DEL', k)
  else
    redis.call('SET', k, int(math.floor(now_us + a)), 'PX', math.max(c.window, math.ceil(a / 1000)))
  end
end

-- CONCURRENT: :res holds one member per live reservation (id -> expiry ms).
local function used_concurrent(c)
  local res = name(c.key, 'res')
  redis.call('ZREMRANGEBYSCORE', res, '-inf', now)
  return redis.call('ZCARD', res)
end

local function used(c)
  if c.kind == 'S' then
    return used_spend(c)
  elseif c.kind == 'C' then
    return used_concurrent(c)
  end
  return used_rate(c)
end

-- whether c has room for its amount: nil when it has, else used and retry-after ms (-1: waiting cannot help)
local function check(c)
  if c.kind == 'S' then
    local u = used_spend(c)
    if u + c.amount <= c.limit then
      return nil
    end
    return u, -1
  elseif c.kind == 'C' then
    local u = used_concurrent(c)
    if u < c.limit then
      return nil
    end
    return u, -1
  end
  if c.limit <= 0 then
    if c.amount == 0 then
      return nil
    end
    return 0, -1
  end
  if c.amount > c.limit then
    return used_rate(c), -1
  end
  local after = ahead(c) + c.amount * interval(c)
  local over = after - c.window * 1000
  if over <= 1e-6 then
    return nil
  end
  return used_rate(c), math.ceil(over / 1000 - 1e-9)
end

local function remaining(c)
  return c.limit - used(c)
end

if op == 'used' then
  local out = {}
  for i = 1, n do
    out[i] = used(counters[i])
  end
  return out
end

if op == 'reserve' then
  local ttl = arg5
  local expiry = now + ttl
  if redis.call('HEXISTS', record, '_settled') == 1 then
    return {2}
  end
  local out = {1}
  if redis.call('EXISTS', record) == 1 then
    -- the same reservation asked again (a retry): granted as it was, nothing added twice
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
  redis.call('HSET', record, '_ttl', ttl)
  for i = 1, n do
    local c = counters[i]
    if c.kind == 'S' then
      local res, amt = name(c.key, 'res'), name(c.key, 'amt')
      redis.call('ZADD', res, expiry, id)
      redis.call('HSET', amt, id, c.amount)
      redis.call('HINCRBY', amt, '_sum', c.amount)
      keep(res, ttl)
      keep(amt, ttl)
    elseif c.kind == 'C' then
      local res = name(c.key, 'res')
      redis.call('ZADD', res, expiry, id)
      keep(res, ttl)
    elseif c.amount > 0 then
      set_ahead(c, ahead(c) + c.amount * interval(c))
    end
    redis.call('HSET', record, 'c:' .. c.key, c.kind .. ' ' .. int(c.limit) .. ' ' .. int(c.window) .. ' ' .. int(c.amount))
    out[i + 1] = remaining(c)
  end
  redis.call('PEXPIRE', record, ttl)
  return out
end

if op == 'settle' then
  if redis.call('HEXISTS', record, '_settled') == 1 then
    return {0}
  end
  -- what the reservation held, if its record is still there
  local held = {}
  local fields = redis.call('HGETALL', record)
  local ttl = 0
  for i = 1, #fields, 2 do
    local f, v = fields[i], fields[i + 1]
    if f == '_ttl' then
      ttl = tonumber(v)
    elseif string.sub(f, 1, 2) == 'c:' then
      local kind, limit, window, amount = string.match(v, '^(%a) (%-?%d+) (%-?%d+) (%-?%d+)$')
      held[string.sub(f, 3)] = {key = string.sub(f, 3), kind = kind, limit = tonumber(limit),
                                window = tonumber(window), reserved = tonumber(amount)}
    end
  end
  -- every counter given settles at its actual amount; every other one the reservation held, at zero
  local todo = {}
  for i = 1, n do
    local c = counters[i]
    local h = held[c.key]
    c.reserved = h and h.reserved or 0
    held[c.key] = nil
    todo[#todo + 1] = c
  end
  for _, h in pairs(held) do
    h.amount = 0
    todo[#todo + 1] = h
  end
  for _, c in ipairs(todo) do
    if c.kind == 'S' then
      purge_spend(c)
      local res, amt = name(c.key, 'res'), name(c.key, 'amt')
      local a = tonumber(redis.call('HGET', amt, id))
      if a then
        redis.call('ZREM', res, id)
        redis.call('HDEL', amt, id)
        redis.call('HINCRBY', amt, '_sum', -a)
      end
      if c.amount > 0 then
        local settled = name(c.key, 'settled')
        redis.call('INCRBY', settled, c.amount)
        redis.call('PEXPIRE', settled, c.window)
      end
    elseif c.kind == 'C' then
      redis.call('ZREM', name(c.key, 'res'), id)
    elseif c.limit > 0 and c.amount ~= c.reserved then
      local a = ahead(c) + (c.amount - c.reserved) * interval(c)
      if a < 0 then
        a = 0
      end
      set_ahead(c, a)
    end
  end
  redis.call('DEL', record)
  redis.call('HSET', record, '_settled', 1)
  redis.call('PEXPIRE', record, math.max(arg5, ttl))
  return {1}
end

return redis.error_reply('unknown op ' .. tostring(op))
