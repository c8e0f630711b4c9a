-- done: finishes a task that succeeded without retention (Asynq's doneCmd / doneUniqueCmd): removes it
-- from active and lease, deletes its record, counts it processed (today's counter expires 90 days after
-- it is created; the total wraps to 1 at the int64 maximum) and releases its uniqueness lock if the lock
-- is still held by this task.
-- Fencing (@q): nothing happens unless the task is in the lease set, under the caller's lease token
-- (`lease_owner`) when one is given, and with a lease that ended by the given time when one is given.
--
-- KEYS[1]  active list               P:{q}:active
-- KEYS[2]  lease zset                P:{q}:lease
-- KEYS[3]  task hash                 P:{q}:t:<id>
-- KEYS[4]  today's processed count   P:{q}:processed:<YYYY-MM-DD>
-- KEYS[5]  total processed count     P:{q}:processed
-- KEYS[6]  uniqueness lock (only for a unique task)
-- ARGV[1]  task id
-- ARGV[2]  expiry of today's counter, Unix seconds
-- ARGV[3]  int64 maximum, 9223372036854775807
-- ARGV[4]  lease token the caller holds; "" skips the check (@q fencing)
-- ARGV[5]  lease must have expired at or before this, Unix seconds; "" skips the check (the recoverer's)
--
-- Returns 1 when done, 0 when the task is not leased (lease lost; nothing changed).
local score = redis.call("ZSCORE", KEYS[2], ARGV[1])
if not score then
  return 0
end
if ARGV[4] ~= "" and redis.call("HGET", KEYS[3], "lease_owner") ~= ARGV[4] then
  return 0
end
if ARGV[5] ~= "" and tonumber(score) > tonumber(ARGV[5]) then
  return 0
end
redis.call("LREM", KEYS[1], 0, ARGV[1])
redis.call("ZREM", KEYS[2], ARGV[1])
redis.call("DEL", KEYS[3])
if redis.call("INCR", KEYS[4]) == 1 then
  redis.call("EXPIREAT", KEYS[4], ARGV[2])
end
local total = redis.call("GET", KEYS[5])
if tonumber(total) == tonumber(ARGV[3]) then
  redis.call("SET", KEYS[5], 1)
else
  redis.call("INCR", KEYS[5])
end
if KEYS[6] and redis.call("GET", KEYS[6]) == ARGV[1] then
  redis.call("DEL", KEYS[6])
end
return 1
