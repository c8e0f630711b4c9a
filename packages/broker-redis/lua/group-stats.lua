-- group-stats: every group of a queue with its size (Asynq's groupStatsCmd).
--
-- KEYS[1]  groups set  P:{q}:groups
-- ARGV[1]  group key prefix P:{q}:g:
--
-- Returns a flat array of pairs { group name, size }.
local result = {}
for _, group in ipairs(redis.call("SMEMBERS", KEYS[1])) do
  table.insert(result, group)
  table.insert(result, redis.call("ZCARD", ARGV[1] .. group))
end
return result
