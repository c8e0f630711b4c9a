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
-- KEYS[3]  active list     P:{q}:active
-- KEYS[4]  lease zset      P:{q}:lease
-- KEYS[5]  waiters zset    P:{q}:waiters (@q extension)
-- KEYS[6]  paused flag     P:{q}:paused
-- KEYS[7]  flow limits     P:{q}:flow (@q extension)
-- ARGV[7]  now, Unix ms
-- ARGV[8]  task key prefix P:{q}:t:
-- The last five keys and two arguments serve the hand-over (below): when an idle @q server waits,
-- the task is leased to it here and published to it instead of the plain wake-up.
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
-- @include hand-over
local handedOver = handOver({ pending = KEYS[2], active = KEYS[3], lease = KEYS[4], waiters = KEYS[5],
  paused = KEYS[6], flow = KEYS[7], nowMs = ARGV[7], prefix = ARGV[8], notify = ARGV[4] })
if not handedOver then
  redis.call("PUBLISH", ARGV[4], ARGV[5])
end
return 1
