-- add-to-group: writes a new task into its aggregation group (Asynq's addToGroupCmd).
--
-- KEYS[1]  task hash   P:{q}:t:<id>
-- KEYS[2]  group zset  P:{q}:g:<group>
-- KEYS[3]  groups set  P:{q}:groups
-- ARGV[1]  encoded TaskMessage
-- ARGV[2]  task id
-- ARGV[3]  now, Unix seconds (the score)
-- ARGV[4]  group name
--
-- Returns 1 when written, 0 when a task with this id already exists (nothing written).
if redis.call("EXISTS", KEYS[1]) == 1 then
  return 0
end
redis.call("HSET", KEYS[1], "msg", ARGV[1], "state", "aggregating", "group", ARGV[4])
redis.call("ZADD", KEYS[2], ARGV[3], ARGV[2])
redis.call("SADD", KEYS[3], ARGV[4])
return 1
