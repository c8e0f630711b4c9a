-- archive: moves a failed active task to the archive (Asynq v0.25+'s archiveCmd): removes it from active
-- and lease, scores it by now, trims the archive (older than the cutoff, then all but the newest
-- max-size - 1) deleting the trimmed records too, stores the updated message with state `archived` and
-- counts it processed and failed (today's counters expire 90 days after they are created; the totals
-- wrap to 1 at the int64 maximum). The uniqueness lock is kept.
--
-- Fencing (@q): nothing happens unless the task is in the lease set, under the caller's lease token
-- (`lease_owner`) when one is given, and with a lease that ended by the given time when one is given.
--
-- KEYS[1]  task hash                 P:{q}:t:<id>
-- KEYS[2]  active list               P:{q}:active
-- KEYS[3]  lease zset                P:{q}:lease
-- KEYS[4]  archived zset             P:{q}:archived
-- KEYS[5]  today's processed count   P:{q}:processed:<YYYY-MM-DD>
-- KEYS[6]  today's failed count      P:{q}:failed:<YYYY-MM-DD>
-- KEYS[7]  total processed count     P:{q}:processed
-- KEYS[8]  total failed count        P:{q}:failed
-- ARGV[1]  task id
-- ARGV[2]  encoded TaskMessage (error_msg, last_failed_at updated)
-- ARGV[3]  now, Unix seconds (the score)
-- ARGV[4]  trim cutoff, Unix seconds (now - 90 days)
-- ARGV[5]  archive size limit, 10000
-- ARGV[6]  expiry of today's counters, Unix seconds
-- ARGV[7]  int64 maximum, 9223372036854775807
-- ARGV[8]  task key prefix P:{q}:t:
-- ARGV[9]  lease token the caller holds; "" skips the check (@q fencing)
-- ARGV[10]  lease must have expired at or before this, Unix seconds; "" skips the check (the recoverer's)
--
-- Returns 1 when archived, 0 when the task is not leased (lease lost; nothing changed).
local score = redis.call("ZSCORE", KEYS[3], ARGV[1])
if not score then
  return 0
end
if ARGV[9] ~= "" and redis.call("HGET", KEYS[1], "lease_owner") ~= ARGV[9] then
  return 0
end
if ARGV[10] ~= "" and tonumber(score) > tonumber(ARGV[10]) then
  return 0
end
redis.call("LREM", KEYS[2], 0, ARGV[1])
redis.call("ZREM", KEYS[3], ARGV[1])
redis.call("ZADD", KEYS[4], ARGV[3], ARGV[1])
for _, id in ipairs(redis.call("ZRANGEBYSCORE", KEYS[4], "-inf", ARGV[4])) do
  redis.call("DEL", ARGV[8] .. id)
end
redis.call("ZREMRANGEBYSCORE", KEYS[4], "-inf", ARGV[4])
local limit = -tonumber(ARGV[5])
for _, id in ipairs(redis.call("ZRANGE", KEYS[4], 0, limit)) do
  redis.call("DEL", ARGV[8] .. id)
end
redis.call("ZREMRANGEBYRANK", KEYS[4], 0, limit)
redis.call("HSET", KEYS[1], "msg", ARGV[2], "state", "archived")
redis.call("HDEL", KEYS[1], "lease_owner")
if redis.call("INCR", KEYS[5]) == 1 then
  redis.call("EXPIREAT", KEYS[5], ARGV[6])
end
if redis.call("INCR", KEYS[6]) == 1 then
  redis.call("EXPIREAT", KEYS[6], ARGV[6])
end
local total = redis.call("GET", KEYS[7])
if tonumber(total) == tonumber(ARGV[7]) then
  redis.call("SET", KEYS[7], 1)
  redis.call("SET", KEYS[8], 1)
else
  redis.call("INCR", KEYS[7])
  redis.call("INCR", KEYS[8])
end
return 1
