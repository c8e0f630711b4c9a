-- clear-flow-limits: removes every flow limit and pause of a queue, its flow keys' too (@q extension),
-- puts the tasks parked by per-key limits back at the head of pending (oldest first), and wakes the
-- servers waiting on it.
--
-- KEYS[1]  flow limits hash  P:{q}:flow
-- KEYS[2]  start log         P:{q}:flow:starts
-- KEYS[3]  parked keys       P:{q}:flow:parked
-- KEYS[4]  pending list      P:{q}:pending
-- ARGV[1]  notify channel P:{q}:notify
-- ARGV[2]  queue name, the message published on ARGV[1]
-- ARGV[3]  per-key prefix P:{q}:flow:k:
--
-- Returns the number of limit keys deleted (the flow hash and the start log).
for _, flowKey in ipairs(redis.call("ZRANGE", KEYS[3], 0, -1)) do
  local list = ARGV[3] .. flowKey .. ":parked"
  -- Newest first, so the oldest ends at the head (right) of pending.
  for _, id in ipairs(redis.call("LRANGE", list, 0, -1)) do
    redis.call("RPUSH", KEYS[4], id)
  end
  redis.call("DEL", list, ARGV[3] .. flowKey .. ":running", ARGV[3] .. flowKey .. ":starts",
    ARGV[3] .. flowKey .. ":paused")
end
redis.call("DEL", KEYS[3])
local deleted = redis.call("DEL", KEYS[1], KEYS[2])
redis.call("PUBLISH", ARGV[1], ARGV[2])
return deleted
