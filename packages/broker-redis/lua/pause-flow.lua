-- pause-flow: holds a queue back for a while on every @q server (@q extension: a handler said "rate
-- limited, come back later"). The pause ends at the later of the current one and now + ARGV[1], on the
-- Redis clock, so that servers with skewed clocks agree. Go Asynq servers ignore it.
--
-- KEYS[1]  flow limits hash  P:{q}:flow
-- ARGV[1]  duration, ms (positive)
--
-- Returns the end of the pause, Unix ms.
-- Redis 3.2-4 replicate a script verbatim unless told otherwise, which refuses writes after TIME.
redis.replicate_commands()
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local untilMs = now + tonumber(ARGV[1])
local current = tonumber(redis.call("HGET", KEYS[1], "paused_until") or "0")
if current > untilMs then
  return current
end
redis.call("HSET", KEYS[1], "paused_until", untilMs)
return untilMs
