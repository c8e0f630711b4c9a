-- flow-state: a queue's flow limits and where it stands against them (@q extension).
--
-- KEYS[1]  flow limits hash  P:{q}:flow
-- KEYS[2]  start log         P:{q}:flow:starts
-- KEYS[3]  lease zset        P:{q}:lease
-- KEYS[4]  parked keys       P:{q}:flow:parked
-- ARGV[1]  per-key prefix P:{q}:flow:k:
--
-- Returns { concurrency, rate_limit, rate_period, paused_until, leased, started in the window, now ms,
-- key_concurrency, key_rate_limit, key_rate_period, parked tasks, parked keys, then five per key for at
-- most 10 keys with parked tasks, those with the most first: key, parked, leased, started in the key's
-- window, end of the key's pause (Unix ms, "" when not paused) }, each limit "" when not set; paused_until only while it is ahead.
local flow = redis.call("HMGET", KEYS[1], "concurrency", "rate_limit", "rate_period", "paused_until",
  "key_concurrency", "key_rate_limit", "key_rate_period")
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local started = 0
if flow[3] then
  started = redis.call("ZCOUNT", KEYS[2], "(" .. (now - tonumber(flow[3])), "+inf")
end
local pausedUntil = flow[4] or ""
if pausedUntil ~= "" and tonumber(pausedUntil) <= now then
  pausedUntil = ""
end
local result = { flow[1] or "", flow[2] or "", flow[3] or "", pausedUntil, redis.call("ZCARD", KEYS[3]), started,
  now, flow[5] or "", flow[6] or "", flow[7] or "" }
local keys = {}
local parked = 0
for _, flowKey in ipairs(redis.call("ZRANGE", KEYS[4], 0, -1)) do
  local count = redis.call("LLEN", ARGV[1] .. flowKey .. ":parked")
  if count > 0 then
    parked = parked + count
    table.insert(keys, { flowKey, count })
  end
end
table.insert(result, parked)
table.insert(result, #keys)
table.sort(keys, function(a, b)
  return a[2] > b[2]
end)
for i = 1, math.min(10, #keys) do
  local flowKey = keys[i][1]
  local leased = 0
  -- Ids whose outcome was written are dropped by the next dequeue; count only those still leased.
  for _, id in ipairs(redis.call("ZRANGE", ARGV[1] .. flowKey .. ":running", 0, -1)) do
    if redis.call("ZSCORE", KEYS[3], id) then
      leased = leased + 1
    end
  end
  local keyStarted = 0
  if flow[7] then
    keyStarted = redis.call("ZCOUNT", ARGV[1] .. flowKey .. ":starts", "(" .. (now - tonumber(flow[7])), "+inf")
  end
  table.insert(result, flowKey)
  table.insert(result, keys[i][2])
  table.insert(result, leased)
  table.insert(result, keyStarted)
  local pausedFor = redis.call("PTTL", ARGV[1] .. flowKey .. ":paused")
  table.insert(result, pausedFor > 0 and now + pausedFor or "")
end
return result
