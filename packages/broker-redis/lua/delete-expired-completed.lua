-- delete-expired-completed: deletes up to a batch of completed tasks whose retention has ended (Asynq's
-- deleteExpiredCompletedTasksCmd).
--
-- KEYS[1]  completed zset  P:{q}:completed
-- ARGV[1]  now, Unix seconds (tasks scored up to this have expired)
-- ARGV[2]  task key prefix P:{q}:t:
-- ARGV[3]  batch size
--
-- Returns the number of tasks deleted.
local ids = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", ARGV[1], "LIMIT", 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  redis.call("DEL", ARGV[2] .. id)
  redis.call("ZREM", KEYS[1], id)
end
return #ids
