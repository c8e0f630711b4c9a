-- archive-all-pending: archives every pending task (Asynq's archiveAllPendingCmd), then trims the
-- archive, deleting trimmed records too.
--
-- KEYS[1]  pending list   P:{q}:pending
-- KEYS[2]  archived zset  P:{q}:archived
-- ARGV[1]  now, Unix seconds (the score)
-- ARGV[2]  trim cutoff, Unix seconds (now - 90 days)
-- ARGV[3]  archive size limit, 10000
-- KEYS[3]  parked keys    P:{q}:flow:parked (@q extension: tasks parked by per-key flow limits are pending)
-- ARGV[4]  task key prefix P:{q}:t:
-- ARGV[5]  per-key prefix P:{q}:flow:k:
--
-- Returns the number of tasks archived.
local ids = redis.call("LRANGE", KEYS[1], 0, -1)
for _, flowKey in ipairs(redis.call("ZRANGE", KEYS[3], 0, -1)) do
  local list = ARGV[5] .. flowKey .. ":parked"
  for _, id in ipairs(redis.call("LRANGE", list, 0, -1)) do
    table.insert(ids, id)
  end
  redis.call("DEL", list)
end
redis.call("DEL", KEYS[3])
for _, id in ipairs(ids) do
  redis.call("ZADD", KEYS[2], ARGV[1], id)
  redis.call("HSET", ARGV[4] .. id, "state", "archived")
end
for _, id in ipairs(redis.call("ZRANGEBYSCORE", KEYS[2], "-inf", ARGV[2])) do
  redis.call("DEL", ARGV[4] .. id)
end
redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", ARGV[2])
local limit = -tonumber(ARGV[3])
for _, id in ipairs(redis.call("ZRANGE", KEYS[2], 0, limit)) do
  redis.call("DEL", ARGV[4] .. id)
end
redis.call("ZREMRANGEBYRANK", KEYS[2], 0, limit)
redis.call("DEL", KEYS[1])
return #ids
