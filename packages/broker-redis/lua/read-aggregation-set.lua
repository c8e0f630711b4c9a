-- read-aggregation-set: the messages of an aggregation set's tasks (Asynq's readAggregationSetCmd), with
-- their ids so that a missing record can be reported.
--
-- KEYS[1]  aggregation set  P:{q}:g:<group>:<setId>
-- ARGV[1]  task key prefix P:{q}:t:
--
-- Returns a flat array of pairs { id, msg }, msg false (nil) when the record has none.
local found = {}
for _, id in ipairs(redis.call("ZRANGE", KEYS[1], 0, -1)) do
  table.insert(found, id)
  table.insert(found, redis.call("HGET", ARGV[1] .. id, "msg"))
end
return found
