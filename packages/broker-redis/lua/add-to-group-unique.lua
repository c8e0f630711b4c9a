-- add-to-group-unique: takes the uniqueness lock, then writes a new task into its aggregation group
-- (Asynq's addToGroupUniqueCmd; like Asynq, no `unique_key` hash field is written). A lock taken by this
-- call is released again when the task id turns out to be taken.
--
-- KEYS[1]  task hash        P:{q}:t:<id>
-- KEYS[2]  group zset       P:{q}:g:<group>
-- KEYS[3]  groups set       P:{q}:groups
-- KEYS[4]  uniqueness lock  P:{q}:unique:<type>:<md5 of payload>
-- ARGV[1]  encoded TaskMessage
-- ARGV[2]  task id (the lock's value)
-- ARGV[3]  now, Unix seconds (the score)
-- ARGV[4]  group name
-- ARGV[5]  lock TTL, whole seconds
--
-- Returns 1 when written, -1 when the lock is held (duplicate), 0 when the task id is taken.
local locked = redis.call("SET", KEYS[4], ARGV[2], "NX", "EX", ARGV[5])
if not locked then
  return -1
end
if redis.call("EXISTS", KEYS[1]) == 1 then
  redis.call("DEL", KEYS[4])
  return 0
end
redis.call("HSET", KEYS[1], "msg", ARGV[1], "state", "aggregating", "group", ARGV[4])
redis.call("ZADD", KEYS[2], ARGV[3], ARGV[2])
redis.call("SADD", KEYS[3], ARGV[4])
return 1
