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
redis.call("PUBLISH", ARGV[5], ARGV[6])
return 1
