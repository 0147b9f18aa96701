/**
 * The Redis scripts. ADMIT checks and takes every counter of a request atomically and looks up the cache in the
 * same call: one round-trip before the upstream is called. SETTLE adjusts reserved tokens to the real usage,
 * releases concurrency leases, adds cost and stores a cache entry: one round-trip after the answer, off its path.
 *
 * Algorithm: a sliding window of 1-second buckets (a hash per counter, field = second, value = amount), not GCRA.
 * - Limits mean what users read in them, like OpenAI's: "100 RPM" admits at most 100 requests in any minute
 *   (to bucket precision). GCRA with a burst of 100 admits 100 at once and then one more every 0.6 s, so a
 *   burst of 400 spread over a few seconds would admit 100 + seconds/0.6 — more than the limit in that minute.
 * - Token limits must be corrected after the fact (reserve an estimate, settle with real usage). With buckets the
 *   correction lands in the bucket the reservation was taken in, so it expires when the reservation would have.
 * - Cost: at most 61 small fields per counter (HGETALL in Lua is microseconds), and the clock is Redis `TIME`
 *   (script effects replication, Redis ≥ 5), so replicas with skewed clocks share one timeline.
 *
 * ADMIT   KEYS: counters…, [cache key], [seed markers…]   ARGV: member, n, useCache (0 no cache, 1 look it up, 2 a
 *         hit found by the caller: a Cluster keeps the cache key in its own slot), checkSeeded, then per counter:
 *         kind, limit, amount, param, skipOnHit
 *         → { allowed, deniedIndex (1-based, 0 none), retryAfterMs (-1 never), nowMs, remaining1, reset1, …, cached }
 *         or, with checkSeeded and a budget counter whose seed marker is missing: { -1, index… } (nothing taken)
 * SETTLE  KEYS: counters…, [cache key]   ARGV: member, n, admittedAt, cacheValue, cacheTtlMs, then per counter: kind, delta, param
 * SEED    KEYS: counter1, marker1, counter2, marker2…   ARGV: n, then per counter: amount, ttlMs
 *         raises each counter to at least its amount, once per marker lifetime (the marker is set with NX): proxies
 *         racing to rebuild a budget from the usage ledger after Redis lost it apply it once, and a counter that
 *         already held its history (kept across an upgrade, or counted since the loss) is never counted twice.
 */

const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local B = 1000
`;

export const ADMIT_SCRIPT = `${PRELUDE}
local member = ARGV[1]
local n = tonumber(ARGV[2])
if ARGV[4] == '1' then
  local markers = n + (ARGV[3] == '1' and 1 or 0)
  local missing = { -1 }
  for i = 1, n do
    if ARGV[4 + (i - 1) * 5 + 1] == 'f' and redis.call('EXISTS', KEYS[markers + i]) == 0 then missing[#missing + 1] = i end
  end
  if #missing > 1 then return missing end
end
local cached = false
if ARGV[3] == '1' then cached = redis.call('GET', KEYS[n + 1]) end
local hit = cached ~= false or ARGV[3] == '2'
local amounts, used, reset = {}, {}, {}
local denied, wait = 0, 0
for i = 1, n do
  local a = 4 + (i - 1) * 5
  local kind, limit, amount, param = ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  if hit and ARGV[a + 5] == '1' then amount = 0 end
  local key = KEYS[i]
  local u, r, w = 0, 0, 0
  if kind == 'w' then
    local span = math.floor(param / B)
    local cur = math.floor(now / B)
    local h = redis.call('HGETALL', key)
    local live, stale = {}, {}
    for j = 1, #h, 2 do
      local b = tonumber(h[j])
      if b <= cur - span then stale[#stale + 1] = h[j] else
        local v = tonumber(h[j + 1]); u = u + v; live[#live + 1] = { b, v } end
    end
    if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
    table.sort(live, function(x, y) return x[1] < y[1] end)
    if #live > 0 then r = (live[1][1] + span) * B - now else r = param end
    if amount > 0 and u + amount > limit then
      if amount > limit then w = -1 else
        local left = u
        for _, bv in ipairs(live) do
          left = left - bv[2]
          if left + amount <= limit then w = (bv[1] + span) * B - now; break end
        end
      end
    end
  elseif kind == 'c' then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
    u = redis.call('ZCARD', key)
    r = 1000
    if amount > 0 and u + amount > limit then w = 1000 end
  else
    u = tonumber(redis.call('GET', key) or '0')
    r = param
    if u + amount > limit or u >= limit then w = param end
  end
  if w ~= 0 and (denied == 0 or w == -1 or (wait ~= -1 and w > wait)) then denied = i; wait = w end
  amounts[i], used[i], reset[i] = amount, u, r
end
local out = { denied == 0 and 1 or 0, denied, wait, now }
for i = 1, n do
  local a = 4 + (i - 1) * 5
  local limit, amount, param = tonumber(ARGV[a + 2]), amounts[i], tonumber(ARGV[a + 4])
  if denied == 0 and amount > 0 then
    local key, kind = KEYS[i], ARGV[a + 1]
    if kind == 'w' then
      redis.call('HINCRBY', key, math.floor(now / B), amount)
      redis.call('PEXPIRE', key, param + B)
    elseif kind == 'c' then
      redis.call('ZADD', key, now + param, member)
      redis.call('PEXPIRE', key, param)
    else
      redis.call('INCRBY', key, amount)
      redis.call('PEXPIRE', key, param + 60000)
    end
    used[i] = used[i] + amount
  end
  out[#out + 1] = math.max(0, limit - used[i])
  out[#out + 1] = reset[i]
end
if denied == 0 then out[#out + 1] = cached else out[#out + 1] = false end
return out
`;

export const SETTLE_SCRIPT = `${PRELUDE}
local member = ARGV[1]
local n = tonumber(ARGV[2])
local admitted = tonumber(ARGV[3])
for i = 1, n do
  local a = 5 + (i - 1) * 3
  local kind, delta, param = ARGV[a + 1], tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  local key = KEYS[i]
  if kind == 'c' then
    redis.call('ZREM', key, member)
  elseif delta ~= 0 and kind == 'w' then
    local span = math.floor(param / B)
    local bucket = math.floor(admitted / B)
    local cur = math.floor(now / B)
    if bucket > cur - span then
      if redis.call('HINCRBY', key, bucket, delta) <= 0 then redis.call('HDEL', key, bucket)
      elseif delta > 0 then redis.call('PEXPIRE', key, param + B) end
    elseif delta > 0 then
      redis.call('HINCRBY', key, cur, delta)
      redis.call('PEXPIRE', key, param + B)
    end
  elseif delta ~= 0 and kind == 'f' then
    if delta > 0 or redis.call('EXISTS', key) == 1 then
      redis.call('INCRBY', key, delta)
      if redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, param + 60000) end
    end
  end
end
if ARGV[4] ~= '' then redis.call('SET', KEYS[n + 1], ARGV[4], 'PX', ARGV[5]) end
return 1
`;

export const SEED_SCRIPT = `
local n = tonumber(ARGV[1])
for i = 1, n do
  local amount, ttl = tonumber(ARGV[2 + (i - 1) * 2]), tonumber(ARGV[3 + (i - 1) * 2])
  local counter, marker = KEYS[(i - 1) * 2 + 1], KEYS[(i - 1) * 2 + 2]
  if redis.call('SET', marker, '1', 'NX', 'PX', ttl) and amount > tonumber(redis.call('GET', counter) or '0') then
    redis.call('SET', counter, amount, 'PX', ttl)
  end
end
return 1
`;
