-- The counters of RedisCounterStore: one call of this script is one decision, or a batch of them
-- taken in order, atomic in Redis. The semantics are EmbeddedCounterStore's (its javadoc states them
-- for both stores); the key layout is in RedisCounterStore's javadoc; this file must agree with both.
--
-- One decision:
-- ARGV[1] op: reserve | settle | used | lease
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
-- used    -> {used...} (what requests hold and spent: leases are not counted)
--
-- lease (LeasedCounterStore): one call for the slices of one replica, per counter. ARGV[4] is the
-- call's id (remembered like a settled reservation's, so a retried call changes nothing twice),
-- ARGV[5] the lease's ttl, then ARGV[7] n, ARGV[8] the lease id, then n counters of 8 values each:
-- key, kind, limit, window, consume, give, take, min. In this order: consume moves that much of
-- the lease's hold to the settled total (spend: what the requests admitted on it spent, counted even
-- when the hold is gone) or, for a rate, charges that many units; give returns that much of the
-- hold (a rate: credits that many units, never below zero); take adds that much to the hold (a
-- rate: charges it) only when the counter has at least max(min, take) left, leases included;
-- a hold left is kept until now + ttl. The hold of a spend or concurrency counter is the field
-- l:LEASE "amount expiry" of its :sum hash, added up in _lsum: it counts against the limit like a
-- reservation and lapses at its expiry the same way, but `used` leaves it out (it is room taken,
-- not spent). A rate has no hold in Redis: its units are charged at take and credited at give.
--         -> {taken, hold, remaining} per counter, flattened: taken 0 when take was refused (or the
--            call was a retry of one already done, which only reports), hold after the call,
--            remaining = limit - used with every lease counted
--
-- A batch: ARGV[1] "batch", ARGV[2] m, then m decisions, each with the arguments of one as above
-- (from its op to its last counter); -> {reply...}, one reply per decision, in order.
--
-- Numbers are Lua doubles: every integer here stays within 2^53 - 1 (the Java side checks limits,
-- windows and amounts), so the arithmetic is exact, and every number given to Redis is formatted
-- with int(), never Lua's default %.14g.

local MAX = 9007199254740991   -- 2^53 - 1
local GRACE_MS = 60000         -- added to every key's TTL, past the instant its content stops counting

-- the decision being taken: set by parse, read by every function below
local op, now, prefix, id, ttl, memory, n, counters, record, lease

-- reads the decision whose arguments start at ARGV[base]; returns the index after its last
local function parse(base)
  op = ARGV[base]
  now = tonumber(ARGV[base + 1])
  prefix = ARGV[base + 2]
  id = ARGV[base + 3]
  ttl = tonumber(ARGV[base + 4])
  memory = tonumber(ARGV[base + 5])
  n = tonumber(ARGV[base + 6])
  counters = {}
  record = prefix .. 'r:' .. id
  if op == 'lease' then
    lease = ARGV[base + 7]
    for i = 1, n do
      local b = base + 7 + (i - 1) * 8
      counters[i] = {key = ARGV[b + 1], kind = ARGV[b + 2], limit = tonumber(ARGV[b + 3]),
                     window = tonumber(ARGV[b + 4]), consume = tonumber(ARGV[b + 5]), give = tonumber(ARGV[b + 6]),
                     take = tonumber(ARGV[b + 7]), min = tonumber(ARGV[b + 8])}
    end
    return base + 8 + n * 8
  end
  for i = 1, n do
    local b = base + 6 + (i - 1) * 5
    counters[i] = {key = ARGV[b + 1], kind = ARGV[b + 2], limit = tonumber(ARGV[b + 3]),
                   window = tonumber(ARGV[b + 4]), amount = tonumber(ARGV[b + 5])}
  end
  return base + 7 + n * 5
end

local function name(counter, suffix)
  return prefix .. 'c:' .. counter .. ':' .. suffix
end

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

-- SPEND and CONCURRENT: one hash per counter, :sum, read and written once per call. Its fields:
--   i:ID     a live reservation's "amount expiry"
--   _sum     the total of the live ones
--   _next    a lower bound of their earliest expiry (empty: none); the expired ones are dropped
--            (one HGETALL) only by a call at or after it, so most calls never look at them one by one
--   _last    the latest expiry any of them had
--   l:LEASE  a replica's lease (LeasedCounterStore): "amount expiry", expiring like a reservation
--   _lsum    the total of the live leases (written once a lease was taken)
-- and for SPEND the settled total: total, and until (µs; 'ever' for a counter without a window),
-- from which the total counts as zero.
local function read_sums(c)
  local h = name(c.key, 'sum')
  local v = redis.call('HMGET', h, '_sum', '_next', '_last', 'total', 'until', '_lsum')
  local s = {key = h, sum = tonumber(v[1]) or 0, next = tonumber(v[2]), last = tonumber(v[3]) or 0,
             total = tonumber(v[4]) or 0, ['until'] = v[5], lsum = tonumber(v[6]) or 0, leased = v[6] ~= false,
             dirty = false}
  if s.next and s.next <= now then
    -- drops the expired reservations and finds the earliest expiry of the others
    local fields = redis.call('HGETALL', h)
    local gone, next = {}, nil
    for i = 1, #fields, 2 do
      local f = fields[i]
      local p = string.sub(f, 1, 2)
      if p == 'i:' or p == 'l:' then
        local amount, expiry = string.match(fields[i + 1], '^(%d+) (%d+)$')
        expiry = tonumber(expiry)
        if expiry <= now then
          gone[#gone + 1] = f
          if p == 'i:' then
            s.sum = s.sum - tonumber(amount)
          else
            s.lsum = s.lsum - tonumber(amount)
          end
        elseif not next or expiry < next then
          next = expiry
        end
      end
    end
    for i = 1, #gone, 256 do
      redis.call('HDEL', h, unpack(gone, i, math.min(i + 255, #gone)))
    end
    s.next = next
    s.dirty = true
  end
  if s['until'] and s['until'] ~= 'ever' and tonumber(s['until']) <= now then
    s.total, s['until'] = 0, false    -- forgotten: starts again from zero
    s.dirty = true
  end
  return s
end

-- adds amount to the settled total and keeps the counter until now + window at least
local function touch(c, s, amount)
  s.total = s.total + amount
  if s['until'] ~= 'ever' then
    if c.window == 0 then
      s['until'] = 'ever'
    else
      s['until'] = int(math.max(tonumber(s['until']) or 0, now + c.window))
    end
  end
  s.dirty = true
end

-- writes s back (its sums; reservation fields are written by hold and release) and its TTL: the
-- longest of what it holds, a settled total without a window for ever
local function save(c, s, extra)
  if not s.dirty and not extra then
    return
  end
  -- an empty _next: no live reservation to look for
  local args = {'HSET', s.key, '_sum', int(s.sum), '_last', int(s.last), '_next', s.next and int(s.next) or ''}
  if s.leased or s.lsum ~= 0 then
    args[#args + 1] = '_lsum'
    args[#args + 1] = int(s.lsum)
  end
  if c.kind == 'S' then
    args[#args + 1] = 'total'
    args[#args + 1] = int(s.total)
    args[#args + 1] = 'until'
    args[#args + 1] = s['until'] or int(now)
  end
  if extra then
    args[#args + 1] = extra[1]
    args[#args + 1] = extra[2]
  end
  redis.call(unpack(args))
  if s['until'] == 'ever' then
    redis.call('PERSIST', s.key)
  else
    local till = s.last
    if c.kind == 'S' and s['until'] then
      till = math.max(till, tonumber(s['until']))
    end
    redis.call('PEXPIRE', s.key, ttl_ms(math.max(till - now, 0)))
  end
end

local function hold(c, s, expiry)
  s.sum = s.sum + c.amount
  s.last = math.max(s.last, expiry)
  if not s.next or expiry < s.next then
    s.next = expiry
  end
  s.dirty = true
  return {'i:' .. id, int(c.amount) .. ' ' .. int(expiry)}
end

-- releases what reservation id holds in s, if it still does (an expired one was dropped already)
local function release(s, amount)
  if redis.call('HDEL', s.key, 'i:' .. id) == 1 then
    s.sum = s.sum - amount
    s.dirty = true
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

-- what c has used at now: for SPEND and CONCURRENT from its loaded hash s, for a rate from :rate
-- (leases count: they hold room like reservations)
local function used(c, s)
  if c.kind == 'S' then
    return s.total + s.sum + s.lsum    -- load already dropped a total that stopped counting
  elseif c.kind == 'C' then
    return s.sum + s.lsum
  end
  return ceildiv((rate(c)), c.window)
end

local function remaining(c, s, level)
  if c.kind == 'S' or c.kind == 'C' then
    return c.limit - used(c, s)
  end
  return floordiv(c.limit * c.window - level, c.window)
end

-- whether c has room for its amount: nil when it has, else used and retry-after µs (-1: waiting cannot help)
local function check(c, s, level)
  if c.amount == 0 then
    return nil
  end
  if c.kind == 'S' or c.kind == 'C' then
    local u = used(c, s)
    if c.amount <= c.limit - u then
      return nil
    end
    return u, -1
  end
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

-- the state of every counter at now: the loaded hash of a SPEND or CONCURRENT one, the drained level of a rate
local function states()
  local out = {}
  for i = 1, n do
    local c = counters[i]
    if c.kind == 'S' or c.kind == 'C' then
      out[i] = {s = read_sums(c)}
    else
      local level, at = rate(c)
      out[i] = {level = level, at = at}
    end
  end
  return out
end

-- the reservation record's state from its fields: 'live', 'expired', 'settled' or 'absent' (never seen, or
-- forgotten), and its ttl
local function state_of(settled_flag, exp, t, forget)
  if not forget then
    return 'absent', 0
  end
  if now >= tonumber(forget) then
    redis.call('DEL', record)
    return 'absent', 0
  end
  t = tonumber(t) or 0
  if settled_flag then
    return 'settled', t
  end
  if now >= tonumber(exp) then
    return 'expired', t
  end
  return 'live', t
end

-- writes back what loading the counters changed (the expired reservations it dropped, a total it forgot)
local function save_all(st)
  for i = 1, n do
    if st[i].s then
      save(counters[i], st[i].s)
    end
  end
end

-- takes the decision parse read
local function decide()
  if op == 'used' then
    local st = states()
    local out = {}
    for i = 1, n do
      local c = counters[i]
      if st[i].s then
        out[i] = used(c, st[i].s) - st[i].s.lsum    -- what requests hold and spent, not the leases' room
      else
        out[i] = ceildiv(st[i].level, c.window)
      end
    end
    save_all(st)
    return out
  end

  if op == 'reserve' then
    local v = redis.call('HMGET', record, '_settled', '_exp', '_ttl', '_forget')
    local s = state_of(v[1], v[2], v[3], v[4])
    if s == 'settled' or s == 'expired' then
      return {2}
    end
    local st = states()
    local out = {1}
    if s == 'live' then
      -- the same reservation asked again (a retry): granted as it is, nothing charged twice
      for i = 1, n do
        out[i + 1] = remaining(counters[i], st[i].s, st[i].level)
      end
      save_all(st)
      return out
    end
    for i = 1, n do
      local u, retry = check(counters[i], st[i].s, st[i].level)
      if u then
        save_all(st)
        return {0, i, u, retry}
      end
    end
    local expiry = now + ttl
    local forget = expiry + math.max(ttl, memory)
    local rec = {'HSET', record, '_exp', int(expiry), '_ttl', int(ttl), '_forget', int(forget)}
    for i = 1, n do
      local c, t = counters[i], st[i]
      if t.s then
        local field = hold(c, t.s, expiry)
        if c.kind == 'S' then
          touch(c, t.s, 0)
        end
        save(c, t.s, field)
        out[i + 1] = remaining(c, t.s)
      else
        local level = t.level + c.amount * c.window
        set_rate(c, level, t.at)
        if level <= 0 or c.limit == 0 then
          level = 0
        end
        out[i + 1] = remaining(c, nil, level)
      end
      rec[#rec + 1] = 'c:' .. c.key
      rec[#rec + 1] = c.kind .. ' ' .. int(c.limit) .. ' ' .. int(c.window) .. ' ' .. int(c.amount)
    end
    redis.call(unpack(rec))
    redis.call('PEXPIRE', record, ttl_ms(forget - now))
    return out
  end

  if op == 'lease' then
    local v = redis.call('HMGET', record, '_settled', '_exp', '_ttl', '_forget')
    local done = state_of(v[1], v[2], v[3], v[4]) ~= 'absent'    -- a retried call: report only
    local out = {}
    local field = 'l:' .. lease
    for i = 1, n do
      local c = counters[i]
      local taken, hold, left = 0, 0, 0
      if c.kind == 'S' or c.kind == 'C' then
        local s = read_sums(c)
        local cur = redis.call('HGET', s.key, field)
        if cur then
          hold = tonumber(string.match(cur, '^(%d+)'))
        end
        if not done then
          local before = hold
          if c.consume > 0 then
            hold = hold - math.min(hold, c.consume)
            if c.kind == 'S' then
              touch(c, s, c.consume)
            end
          end
          hold = hold - math.min(hold, c.give)
          if c.take > 0 and c.limit - used(c, s) - (hold - before) >= math.max(c.min, c.take) then
            hold = hold + c.take
            taken = c.take
          end
          s.lsum = s.lsum + hold - before
          if hold > 0 then
            local expiry = now + ttl
            s.last = math.max(s.last, expiry)
            if not s.next or expiry < s.next then
              s.next = expiry
            end
            s.dirty = true
            save(c, s, {field, int(hold) .. ' ' .. int(expiry)})
          else
            if cur then
              redis.call('HDEL', s.key, field)
              s.dirty = true
            end
            save(c, s)
          end
        else
          save(c, s)
        end
        left = c.limit - used(c, s)
      else
        local level, at = rate(c)
        if not done and c.limit > 0 then
          level = math.max(0, math.min(MAX, level + (c.consume - c.give) * c.window))
          if c.take > 0 and floordiv(c.limit * c.window - level, c.window) >= math.max(c.min, c.take) then
            level = level + c.take * c.window
            taken = c.take
          end
          set_rate(c, level, at)
        end
        left = remaining(c, nil, math.max(level, 0))
      end
      out[#out + 1] = taken
      out[#out + 1] = hold
      out[#out + 1] = left
    end
    if not done then
      redis.call('HSET', record, '_settled', 1, '_ttl', 0, '_forget', int(now + memory))
      redis.call('PEXPIRE', record, ttl_ms(memory))
    end
    return out
  end

  if op == 'settle' then
    local fields = redis.call('HGETALL', record)
    local r = {}
    for i = 1, #fields, 2 do
      r[fields[i]] = fields[i + 1]
    end
    local s, t = state_of(r._settled, r._exp, r._ttl, r._forget)
    if s == 'settled' then
      return {0}
    end
    -- every hash is loaded once and written once, whichever of actual and the record name it
    local loaded, order = {}, {}
    local function get(c)
      local e = loaded[c.key]
      if not e then
        e = {c = c, s = read_sums(c)}
        loaded[c.key] = e
        order[#order + 1] = e
      end
      return e.s
    end
    -- spend actually used counts whether the reservation is live, expired or unknown
    local actual = {}
    for i = 1, n do
      local c = counters[i]
      actual[c.key] = c
      if c.kind == 'S' and c.amount ~= 0 then
        touch(c, get(c), c.amount)
      end
    end
    if s == 'live' then
      for f, v in pairs(r) do
        if string.sub(f, 1, 2) == 'c:' then
          local kind, limit, window, amount = string.match(v, '^(%a) (%d+) (%d+) (%d+)$')
          local h = {key = string.sub(f, 3), kind = kind, limit = tonumber(limit), window = tonumber(window),
                     amount = tonumber(amount)}
          if kind == 'S' or kind == 'C' then
            release(get(h), h.amount)
          elseif actual[h.key] and actual[h.key].amount ~= h.amount then
            -- a rate named in actual: corrected by actual - reserved; one missing, or as reserved, stays
            local level, at = rate(h)
            if h.limit > 0 then
              level = math.max(0, math.min(MAX, level + (actual[h.key].amount - h.amount) * h.window))
            end
            set_rate(h, level, at)
          end
        end
      end
    end
    for _, e in ipairs(order) do
      save(e.c, e.s)
    end
    local keep_for = math.max(t, memory)
    redis.call('DEL', record)
    redis.call('HSET', record, '_settled', 1, '_ttl', int(t), '_forget', int(now + keep_for))
    redis.call('PEXPIRE', record, ttl_ms(keep_for))
    return {1}
  end
  return redis.error_reply('unknown op ' .. tostring(op))
end

if ARGV[1] == 'batch' then
  local replies, base = {}, 3
  for i = 1, tonumber(ARGV[2]) do
    base = parse(base)
    replies[i] = decide()
  end
  return replies
end
parse(1)
return decide()
