-- delete-aggregation-set: deletes an aggregated set's task records, the set and its registration (Asynq's
-- deleteAggregationSetCmd). Uniqueness locks are left to expire, as in Asynq.
--
-- KEYS[1]  aggregation set       P:{q}:g:<group>:<setId>
-- KEYS[2]  aggregation sets zset P:{q}:aggregation_sets
-- ARGV[1]  task key prefix P:{q}:t:
--
-- Returns 1.
for _, id in ipairs(redis.call("ZRANGE", KEYS[1], 0, -1)) do
  redis.call("DEL", ARGV[1] .. id)
end
redis.call("DEL", KEYS[1])
redis.call("ZREM", KEYS[2], KEYS[1])
return 1
