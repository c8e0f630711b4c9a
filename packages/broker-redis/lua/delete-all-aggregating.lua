-- delete-all-aggregating: deletes every task of a group and forgets the group (Asynq's
-- deleteAllAggregatingCmd; uniqueness locks are left to expire, as in Asynq).
--
-- KEYS[1]  group zset   P:{q}:g:<group>
-- KEYS[2]  groups set   P:{q}:groups
-- ARGV[1]  task key prefix P:{q}:t:
-- ARGV[2]  group name
--
-- Returns the number of tasks deleted.
local ids = redis.call("ZRANGE", KEYS[1], 0, -1)
for _, id in ipairs(ids) do
  redis.call("DEL", ARGV[1] .. id)
end
redis.call("SREM", KEYS[2], ARGV[2])
redis.call("DEL", KEYS[1])
return #ids
