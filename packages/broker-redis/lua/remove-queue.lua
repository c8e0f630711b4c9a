-- remove-queue: deletes an empty queue's keys (Asynq's removeQueueCmd), or with force one that holds no
-- active task, deleting its tasks too (removeQueueForceCmd). Like Asynq, completed tasks, groups,
-- aggregation sets, the paused flag, uniqueness locks and counters are left. The caller removes the name
-- from P:queues.
--
-- KEYS[1]  pending list    P:{q}:pending
-- KEYS[2]  active list     P:{q}:active
-- KEYS[3]  scheduled zset  P:{q}:scheduled
-- KEYS[4]  retry zset      P:{q}:retry
-- KEYS[5]  archived zset   P:{q}:archived
-- KEYS[6]  lease zset      P:{q}:lease
-- KEYS[7]  parked keys     P:{q}:flow:parked (@q extension: tasks parked by per-key flow limits are
--          pending; their lists go with the queue, the limits stay)
-- ARGV[1]  task key prefix P:{q}:t:
-- ARGV[2]  1 to force, else 0
-- ARGV[3]  per-key prefix P:{q}:flow:k:
--
-- Returns 1 when removed, -1 when not forced and the queue holds tasks, -2 when forced and it holds
-- active tasks.
local force = ARGV[2] == "1"
local parked = {}
local parkedCount = 0
for _, flowKey in ipairs(redis.call("ZRANGE", KEYS[7], 0, -1)) do
  table.insert(parked, ARGV[3] .. flowKey .. ":parked")
  parkedCount = parkedCount + redis.call("LLEN", ARGV[3] .. flowKey .. ":parked")
end
if force then
  if redis.call("LLEN", KEYS[2]) > 0 then
    return -2
  end
else
  local total = redis.call("LLEN", KEYS[1]) + redis.call("LLEN", KEYS[2]) + parkedCount
  for i = 3, 5 do
    total = total + redis.call("ZCARD", KEYS[i])
  end
  if total > 0 then
    return -1
  end
end
for _, id in ipairs(redis.call("LRANGE", KEYS[1], 0, -1)) do
  redis.call("DEL", ARGV[1] .. id)
end
for _, list in ipairs(parked) do
  for _, id in ipairs(redis.call("LRANGE", list, 0, -1)) do
    redis.call("DEL", ARGV[1] .. id)
  end
  redis.call("DEL", list)
end
redis.call("DEL", KEYS[7])
for i = 3, 5 do
  for _, id in ipairs(redis.call("ZRANGE", KEYS[i], 0, -1)) do
    redis.call("DEL", ARGV[1] .. id)
  end
end
for i = 1, 6 do
  redis.call("DEL", KEYS[i])
end
return 1
