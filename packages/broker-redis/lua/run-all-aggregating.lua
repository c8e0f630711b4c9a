-- run-all-aggregating: moves every task of a group to pending and forgets the group (Asynq's
-- runAllAggregatingCmd) and wakes idle @q servers.
--
-- KEYS[1]  group zset    P:{q}:g:<group>
-- KEYS[2]  pending list  P:{q}:pending
-- KEYS[3]  groups set    P:{q}:groups
-- ARGV[1]  task key prefix P:{q}:t:
-- ARGV[2]  group name
-- ARGV[3]  notify channel P:{q}:notify (@q extension)
-- ARGV[4]  queue name, the message published on ARGV[3]
--
-- Returns the number of tasks moved.
local ids = redis.call("ZRANGE", KEYS[1], 0, -1)
for _, id in ipairs(ids) do
  redis.call("LPUSH", KEYS[2], id)
  redis.call("HSET", ARGV[1] .. id, "state", "pending")
end
redis.call("DEL", KEYS[1])
redis.call("SREM", KEYS[3], ARGV[2])
if #ids > 0 then
  redis.call("PUBLISH", ARGV[3], ARGV[4])
end
return #ids
