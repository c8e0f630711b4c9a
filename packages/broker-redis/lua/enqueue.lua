-- enqueue: writes a new pending task (Asynq's enqueueCmd) and wakes idle @q servers.
--
-- KEYS[1]  task hash      P:{q}:t:<id>
-- KEYS[2]  pending list   P:{q}:pending
-- ARGV[1]  encoded TaskMessage
-- ARGV[2]  task id
-- ARGV[3]  now, Unix nanoseconds (pending_since)
-- ARGV[4]  notify channel P:{q}:notify (@q extension)
-- ARGV[5]  queue name, the message published on ARGV[4]
-- ARGV[6]  flow key, stored as the hash field `flow_key` (@q extension, read by dequeue.lua's per-key
--          limits); absent or "" when none
--
-- Returns 1 when written, 0 when a task with this id already exists (nothing written).
if redis.call("EXISTS", KEYS[1]) == 1 then
  return 0
end
redis.call("HSET", KEYS[1], "msg", ARGV[1], "state", "pending", "pending_since", ARGV[3])
if ARGV[6] and ARGV[6] ~= "" then
  redis.call("HSET", KEYS[1], "flow_key", ARGV[6])
end
redis.call("LPUSH", KEYS[2], ARGV[2])
redis.call("PUBLISH", ARGV[4], ARGV[5])
return 1
