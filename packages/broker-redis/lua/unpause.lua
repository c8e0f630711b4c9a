-- unpause: lifts a queue's pause (Asynq's Unpause, a DEL) and wakes idle @q servers.
--
-- KEYS[1]  paused flag  P:{q}:paused
-- ARGV[1]  notify channel P:{q}:notify (@q extension)
-- ARGV[2]  queue name, the message published on ARGV[1]
--
-- Returns 1 when unpaused now, 0 when it was not paused.
local deleted = redis.call("DEL", KEYS[1])
if deleted == 1 then
  redis.call("PUBLISH", ARGV[1], ARGV[2])
end
return deleted
