-- reclaim-stale-aggregation-sets: returns the tasks of aggregation sets whose deadline passed (their
-- aggregator died) to their group (Asynq's reclaimStaleAggregationSetsCmd). Unlike Asynq, the group name
-- is added back to the groups set so that the aggregator sees the group again.
--
-- KEYS[1]  aggregation sets zset P:{q}:aggregation_sets
-- KEYS[2]  groups set            P:{q}:groups
-- ARGV[1]  now, Unix seconds
-- ARGV[2]  group key prefix P:{q}:g:
--
-- Returns 1.
local staleSets = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", ARGV[1])
for _, setKey in ipairs(staleSets) do
  local cut = string.find(setKey, ":[^:]*$")
  local groupKey = string.sub(setKey, 1, cut - 1)
  local members = redis.call("ZRANGE", setKey, 0, -1, "WITHSCORES")
  for i = 1, #members, 2 do
    redis.call("ZADD", groupKey, members[i + 1], members[i])
  end
  redis.call("DEL", setKey)
  if #members > 0 then
    redis.call("SADD", KEYS[2], string.sub(groupKey, #ARGV[2] + 1))
  end
end
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", ARGV[1])
return 1
