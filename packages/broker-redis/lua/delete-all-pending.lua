-- delete-all-pending: deletes every pending task (Asynq's deleteAllPendingCmd; uniqueness locks are left
-- to expire, as in Asynq).
--
-- KEYS[1]  pending list  P:{q}:pending
-- KEYS[2]  parked keys   P:{q}:flow:parked (@q extension: tasks parked by per-key flow limits are pending)
-- ARGV[1]  task key prefix P:{q}:t:
-- ARGV[2]  per-key prefix P:{q}:flow:k:
--
-- Returns the number of tasks deleted.
local ids = redis.call("LRANGE", KEYS[1], 0, -1)
for _, flowKey in ipairs(redis.call("ZRANGE", KEYS[2], 0, -1)) do
  local list = ARGV[2] .. flowKey .. ":parked"
  for _, id in ipairs(redis.call("LRANGE", list, 0, -1)) do
    table.insert(ids, id)
  end
  redis.call("DEL", list)
end
redis.call("DEL", KEYS[2])
for _, id in ipairs(ids) do
  redis.call("DEL", ARGV[1] .. id)
end
redis.call("DEL", KEYS[1])
return #ids
