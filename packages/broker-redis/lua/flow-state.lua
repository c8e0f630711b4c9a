-- flow-state: a queue's flow limits and where it stands against them (@q extension).
--
-- KEYS[1]  flow limits hash  P:{q}:flow
-- KEYS[2]  start log         P:{q}:flow:starts
-- KEYS[3]  lease zset        P:{q}:lease
--
-- Returns { concurrency, rate_limit, rate_period, paused_until, leased, started in the window, now ms },
-- each of the first four "" when not set; paused_until only while it is ahead.
local flow = redis.call("HMGET", KEYS[1], "concurrency", "rate_limit", "rate_period", "paused_until")
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
return { flow[1] or "", flow[2] or "", flow[3] or "", pausedUntil, redis.call("ZCARD", KEYS[3]), started, now }
