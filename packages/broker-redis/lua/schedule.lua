-- schedule: writes a new task due later into the scheduled set (Asynq's scheduleCmd). The forwarder moves
-- it to pending when due. Like Asynq, no `group` field is written, so a scheduled task becomes pending.
--
-- KEYS[1]  task hash       P:{q}:t:<id>
-- KEYS[2]  scheduled zset  P:{q}:scheduled
-- ARGV[1]  encoded TaskMessage
-- ARGV[2]  process-at, Unix seconds (the score)
-- ARGV[3]  task id
-- ARGV[4]  flow key, stored as the hash field `flow_key` (@q extension, read by dequeue.lua's per-key
--          limits); absent or "" when none
--
-- Returns 1 when written, 0 when a task with this id already exists (nothing written).
if redis.call("EXISTS", KEYS[1]) == 1 then
  return 0
end
redis.call("HSET", KEYS[1], "msg", ARGV[1], "state", "scheduled")
if ARGV[4] and ARGV[4] ~= "" then
  redis.call("HSET", KEYS[1], "flow_key", ARGV[4])
end
redis.call("ZADD", KEYS[2], ARGV[2], ARGV[3])
return 1
