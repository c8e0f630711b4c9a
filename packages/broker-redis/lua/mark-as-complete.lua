-- mark-as-complete: finishes a task that succeeded with retention (Asynq's markAsCompleteCmd /
-- markAsCompleteUniqueCmd): removes it from active and lease, adds it to the completed set scored by its
-- expiry, stores the message carrying completed_at with state `completed` (other fields such as `result`
-- stay), counts it processed and releases its uniqueness lock if held by this task.
--
-- Fencing (@q): nothing happens unless the task is in the lease set, under the caller's lease token
-- (`lease_owner`) when one is given, and with a lease that ended by the given time when one is given.
--
-- KEYS[1]  active list               P:{q}:active
-- KEYS[2]  lease zset                P:{q}:lease
-- KEYS[3]  completed zset            P:{q}:completed
-- KEYS[4]  task hash                 P:{q}:t:<id>
-- KEYS[5]  today's processed count   P:{q}:processed:<YYYY-MM-DD>
-- KEYS[6]  total processed count     P:{q}:processed
-- KEYS[7]  uniqueness lock (only for a unique task)
-- ARGV[1]  task id
-- ARGV[2]  expiry of today's counter, Unix seconds
-- ARGV[3]  completed_at + retention, Unix seconds (the score: when the record is deleted)
-- ARGV[4]  encoded TaskMessage with completed_at set
-- ARGV[5]  int64 maximum, 9223372036854775807
-- ARGV[6]  lease token the caller holds; "" skips the check (@q fencing)
-- ARGV[7]  lease must have expired at or before this, Unix seconds; "" skips the check (the recoverer's)
--
-- Returns 1 when done, 0 when the task is not leased (lease lost; nothing changed).
local score = redis.call("ZSCORE", KEYS[2], ARGV[1])
if not score then
  return 0
end
if ARGV[6] ~= "" and redis.call("HGET", KEYS[4], "lease_owner") ~= ARGV[6] then
  return 0
end
if ARGV[7] ~= "" and tonumber(score) > tonumber(ARGV[7]) then
  return 0
end
redis.call("LREM", KEYS[1], 0, ARGV[1])
redis.call("ZREM", KEYS[2], ARGV[1])
redis.call("ZADD", KEYS[3], ARGV[3], ARGV[1])
redis.call("HSET", KEYS[4], "msg", ARGV[4], "state", "completed")
redis.call("HDEL", KEYS[4], "lease_owner")
if redis.call("INCR", KEYS[5]) == 1 then
  redis.call("EXPIREAT", KEYS[5], ARGV[2])
end
local total = redis.call("GET", KEYS[6])
if tonumber(total) == tonumber(ARGV[5]) then
  redis.call("SET", KEYS[6], 1)
else
  redis.call("INCR", KEYS[6])
end
if KEYS[7] and redis.call("GET", KEYS[7]) == ARGV[1] then
  redis.call("DEL", KEYS[7])
end
return 1
