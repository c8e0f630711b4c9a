-- delete-all-pending: deletes every pending task (Asynq's deleteAllPendingCmd; uniqueness locks are left
-- to expire, as in Asynq).
--
-- KEYS[1]  pending list  P:{q}:pending
-- ARGV[1]  task key prefix P:{q}:t:
--
-- Returns the number of tasks deleted.
local ids = redis.call("LRANGE", KEYS[1], 0, -1)
for _, id in ipairs(ids) do
  redis.call("DEL", ARGV[1] .. id)
end
redis.call("DEL", KEYS[1])
return #ids
