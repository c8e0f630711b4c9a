-- schedule-unique: takes the uniqueness lock, then writes a new scheduled task (Asynq's
-- scheduleUniqueCmd). The lock's TTL covers the wait plus the unique period. A lock taken by this call
-- is released again when the task id turns out to be taken.
--
-- KEYS[1]  uniqueness lock  P:{q}:unique:<type>:<md5 of payload>
-- KEYS[2]  task hash        P:{q}:t:<id>
-- KEYS[3]  scheduled zset   P:{q}:scheduled
-- ARGV[1]  task id (the lock's value)
-- ARGV[2]  lock TTL, whole seconds
-- ARGV[3]  process-at, Unix seconds (the score)
-- ARGV[4]  encoded TaskMessage
-- ARGV[5]  flow key, stored as the hash field `flow_key` (@q extension, read by dequeue.lua's per-key
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
redis.call("HSET", KEYS[2], "msg", ARGV[4], "state", "scheduled", "unique_key", KEYS[1])
if ARGV[5] and ARGV[5] ~= "" then
  redis.call("HSET", KEYS[2], "flow_key", ARGV[5])
end
redis.call("ZADD", KEYS[3], ARGV[3], ARGV[1])
return 1
