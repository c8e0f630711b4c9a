-- pause-flow: holds a queue back for a while on every @q server (@q extension: a handler said "rate
-- limited, come back later"), or only the tasks of one flow key. The pause ends at the later of the
-- current one and now + ARGV[1], on the Redis clock, so that servers with skewed clocks agree. Go Asynq
-- servers ignore it.
--
-- KEYS[1]  flow limits hash  P:{q}:flow
-- KEYS[2]  the key's pause   P:{q}:flow:k:<key>:paused, for a flow key's pause only
-- KEYS[3]  parked keys       P:{q}:flow:parked, for a flow key's pause only
-- ARGV[1]  duration, ms (positive)
-- ARGV[2]  the flow key, for a flow key's pause only
--
-- A flow key's pause is a string key that expires when the pause ends; the flow hash's `key_pauses` field
-- tells dequeue.lua to look at flow keys even without per-key limits, and the key is listed in the
-- parked keys, looked at again when the pause ends.
--
-- Returns the end of the pause, Unix ms.
-- Redis 3.2-4 replicate a script verbatim unless told otherwise, which refuses writes after TIME.
redis.replicate_commands()
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local untilMs = now + tonumber(ARGV[1])
if KEYS[2] then
  local remaining = redis.call("PTTL", KEYS[2])
  if remaining > 0 and now + remaining > untilMs then
    return now + remaining
  end
  redis.call("SET", KEYS[2], untilMs, "PX", ARGV[1])
  redis.call("HSET", KEYS[1], "key_pauses", 1)
  -- Listed with the keys that have parked tasks, so that clearing the limits finds the pause.
  redis.call("ZADD", KEYS[3], untilMs, ARGV[2])
  return untilMs
end
local current = tonumber(redis.call("HGET", KEYS[1], "paused_until") or "0")
if current > untilMs then
  return current
end
redis.call("HSET", KEYS[1], "paused_until", untilMs)
return untilMs
