-- enqueue-unique: takes the uniqueness lock, then writes a new pending task (Asynq's enqueueUniqueCmd)
-- and wakes idle @q servers. Unlike Asynq, a lock taken by this call is released again when the task id
-- turns out to be taken, so a refused task does not block its duplicates until the lock expires.
--
-- KEYS[1]  uniqueness lock  P:{q}:unique:<type>:<md5 of payload>
-- KEYS[2]  task hash        P:{q}:t:<id>
-- KEYS[3]  pending list     P:{q}:pending
-- ARGV[1]  task id (the lock's value)
-- ARGV[2]  lock TTL, whole seconds
-- ARGV[3]  encoded TaskMessage
-- ARGV[4]  now, Unix nanoseconds (pending_since)
-- ARGV[5]  notify channel P:{q}:notify (@q extension)
-- ARGV[6]  queue name, the message published on ARGV[5]
-- ARGV[7]  flow key, stored as the hash field `flow_key` (@q extension, read by dequeue.lua's per-key
--          limits); absent or "" when none
-- KEYS[4]  active list     P:{q}:active
-- KEYS[5]  lease zset      P:{q}:lease
-- KEYS[6]  waiters zset    P:{q}:waiters (@q extension)
-- KEYS[7]  paused flag     P:{q}:paused
-- KEYS[8]  flow limits     P:{q}:flow (@q extension)
-- ARGV[8]  now, Unix ms
-- ARGV[9]  task key prefix P:{q}:t:
-- The last five keys and two arguments serve the hand-over (below): when an idle @q server waits,
-- the task is leased to it here and published to it instead of the plain wake-up.
--
-- Returns 1 when written, -1 when the lock is held (duplicate), 0 when the task id is taken.
local locked = redis.call("SET", KEYS[1], ARGV[1], "NX", "EX", ARGV[2])
if not locked then
  return -1
end
if redis.call("EXISTS", KEYS[2]) == 1 then
  redis.call("DEL", KEYS[1])
  return 0
end
redis.call("HSET", KEYS[2], "msg", ARGV[3], "state", "pending", "pending_since", ARGV[4], "unique_key", KEYS[1])
if ARGV[7] and ARGV[7] ~= "" then
  redis.call("HSET", KEYS[2], "flow_key", ARGV[7])
end
redis.call("LPUSH", KEYS[3], ARGV[1])
-- @include hand-over
local handedOver = handOver({ pending = KEYS[3], active = KEYS[4], lease = KEYS[5], waiters = KEYS[6],
  paused = KEYS[7], flow = KEYS[8], nowMs = ARGV[8], prefix = ARGV[9], notify = ARGV[5] })
if not handedOver then
  redis.call("PUBLISH", ARGV[5], ARGV[6])
end
return 1
