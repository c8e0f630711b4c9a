-- requeue: puts an unfinished active task back at the head of pending, to be taken next, without
-- spending a retry (Asynq's requeueCmd: RPUSH, state `pending`, no pending_since), and wakes idle @q
-- servers.
-- Fencing (@q): nothing happens unless the task is in the lease set, under the caller's lease token
-- (`lease_owner`) when one is given, and with a lease that ended by the given time when one is given.
--
-- KEYS[1]  active list   P:{q}:active
-- KEYS[2]  lease zset    P:{q}:lease
-- KEYS[3]  pending list  P:{q}:pending
-- KEYS[4]  task hash     P:{q}:t:<id>
-- ARGV[1]  task id
-- ARGV[2]  notify channel P:{q}:notify (@q extension)
-- ARGV[3]  queue name, the message published on ARGV[2]
-- ARGV[4]  lease token the caller holds; "" skips the check (@q fencing)
-- ARGV[5]  lease must have expired at or before this, Unix seconds; "" skips the check (the recoverer's)
--
-- Returns 1 when requeued, 0 when the task is not leased (lease lost; nothing changed).
local score = redis.call("ZSCORE", KEYS[2], ARGV[1])
if not score then
  return 0
end
if ARGV[4] ~= "" and redis.call("HGET", KEYS[4], "lease_owner") ~= ARGV[4] then
  return 0
end
if ARGV[5] ~= "" and tonumber(score) > tonumber(ARGV[5]) then
  return 0
end
redis.call("LREM", KEYS[1], 0, ARGV[1])
redis.call("ZREM", KEYS[2], ARGV[1])
redis.call("RPUSH", KEYS[3], ARGV[1])
redis.call("HSET", KEYS[4], "state", "pending")
redis.call("HDEL", KEYS[4], "lease_owner")
redis.call("PUBLISH", ARGV[2], ARGV[3])
return 1
