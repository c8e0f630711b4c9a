-- write-result: stores the bytes a handler wrote as the task's `result` field (Asynq's WriteResult, an
-- HSET). Unlike Asynq it does not create a record for a task that no longer exists.
--
-- KEYS[1]  task hash  P:{q}:t:<id>
-- ARGV[1]  result bytes
--
-- Returns 1 when written, 0 when the task does not exist.
if redis.call("EXISTS", KEYS[1]) == 0 then
  return 0
end
redis.call("HSET", KEYS[1], "result", ARGV[1])
return 1
