-- retry: moves a failed active task to the retry set (Asynq's retryCmd): removes it from active and
-- lease, scores it by its retry time, stores the updated message with state `retry` and, when the
-- attempt counts as a failure, counts it processed and failed (today's counters expire 90 days after
-- they are created; the totals wrap to 1 at the int64 maximum). The uniqueness lock is kept.
--
-- Fencing (@q): nothing happens unless the task is in the lease set, under the caller's lease token
-- (`lease_owner`) when one is given, and with a lease that ended by the given time when one is given.
--
-- KEYS[1]  task hash                 P:{q}:t:<id>
-- KEYS[2]  active list               P:{q}:active
-- KEYS[3]  lease zset                P:{q}:lease
-- KEYS[4]  retry zset                P:{q}:retry
-- KEYS[5]  today's processed count   P:{q}:processed:<YYYY-MM-DD>
-- KEYS[6]  today's failed count      P:{q}:failed:<YYYY-MM-DD>
-- KEYS[7]  total processed count     P:{q}:processed
-- KEYS[8]  total failed count        P:{q}:failed
-- ARGV[1]  task id
-- ARGV[2]  encoded TaskMessage (retried, error_msg, last_failed_at updated)
-- ARGV[3]  retry at, Unix seconds (the score)
-- ARGV[4]  expiry of today's counters, Unix seconds
-- ARGV[5]  1 when the attempt counts as a failure, else 0
-- ARGV[6]  int64 maximum, 9223372036854775807
-- ARGV[7]  lease token the caller holds; "" skips the check (@q fencing)
-- ARGV[8]  lease must have expired at or before this, Unix seconds; "" skips the check (the recoverer's)
--
-- Returns 1 when moved, 0 when the task is not leased (lease lost; nothing changed).
local score = redis.call("ZSCORE", KEYS[3], ARGV[1])
if not score then
  return 0
end
if ARGV[7] ~= "" and redis.call("HGET", KEYS[1], "lease_owner") ~= ARGV[7] then
  return 0
end
if ARGV[8] ~= "" and tonumber(score) > tonumber(ARGV[8]) then
  return 0
end
redis.call("LREM", KEYS[2], 0, ARGV[1])
redis.call("ZREM", KEYS[3], ARGV[1])
redis.call("ZADD", KEYS[4], ARGV[3], ARGV[1])
redis.call("HSET", KEYS[1], "msg", ARGV[2], "state", "retry")
redis.call("HDEL", KEYS[1], "lease_owner")
if tonumber(ARGV[5]) == 1 then
  if redis.call("INCR", KEYS[5]) == 1 then
    redis.call("EXPIREAT", KEYS[5], ARGV[4])
  end
  if redis.call("INCR", KEYS[6]) == 1 then
    redis.call("EXPIREAT", KEYS[6], ARGV[4])
  end
  local total = redis.call("GET", KEYS[7])
  if tonumber(total) == tonumber(ARGV[6]) then
    redis.call("SET", KEYS[7], 1)
    redis.call("SET", KEYS[8], 1)
  else
    redis.call("INCR", KEYS[7])
    redis.call("INCR", KEYS[8])
  end
end
return 1
