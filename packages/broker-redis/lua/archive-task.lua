-- archive-task: archives one pending, scheduled, retry, completed or aggregating task (Asynq's
-- archiveTaskCmd) and trims the archive, deleting trimmed records too (as Asynq v0.25+ does on failure).
--
-- KEYS[1]  task hash      P:{q}:t:<id>
-- KEYS[2]  archived zset  P:{q}:archived
-- KEYS[3]  groups set     P:{q}:groups
-- ARGV[1]  task id
-- ARGV[2]  now, Unix seconds (the score)
-- ARGV[3]  trim cutoff, Unix seconds (now - 90 days)
-- ARGV[4]  archive size limit, 10000
-- ARGV[5]  queue key prefix P:{q}:
-- ARGV[6]  group key prefix P:{q}:g:
-- ARGV[7]  task key prefix P:{q}:t:
--
-- Returns 1 when archived, 0 when the task does not exist, -1 when it is already archived, -2 when it is
-- active.
if redis.call("EXISTS", KEYS[1]) == 0 then
  return 0
end
local fields = redis.call("HMGET", KEYS[1], "state", "group", "flow_key")
local state, group, flowKey = fields[1], fields[2], fields[3]
if state == "active" then
  return -2
elseif state == "archived" then
  return -1
elseif state == "pending" then
  -- @q: a task parked by per-key flow limits (see dequeue.lua) is pending too.
  if redis.call("LREM", ARGV[5] .. "pending", 1, ARGV[1]) == 0
    and not (flowKey and redis.call("LREM", ARGV[5] .. "flow:k:" .. flowKey .. ":parked", 1, ARGV[1]) > 0) then
    return redis.error_reply("internal error: task id not found in list " .. ARGV[5] .. "pending")
  end
elseif state == "aggregating" then
  if redis.call("ZREM", ARGV[6] .. group, ARGV[1]) == 0 then
    return redis.error_reply("internal error: task id not found in zset " .. ARGV[6] .. group)
  end
  if redis.call("ZCARD", ARGV[6] .. group) == 0 then
    redis.call("SREM", KEYS[3], group)
  end
else
  if redis.call("ZREM", ARGV[5] .. state, ARGV[1]) == 0 then
    return redis.error_reply("internal error: task id not found in zset " .. ARGV[5] .. tostring(state))
  end
end
redis.call("ZADD", KEYS[2], ARGV[2], ARGV[1])
redis.call("HSET", KEYS[1], "state", "archived")
for _, id in ipairs(redis.call("ZRANGEBYSCORE", KEYS[2], "-inf", ARGV[3])) do
  redis.call("DEL", ARGV[7] .. id)
end
redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", ARGV[3])
local limit = -tonumber(ARGV[4])
for _, id in ipairs(redis.call("ZRANGE", KEYS[2], 0, limit)) do
  redis.call("DEL", ARGV[7] .. id)
end
redis.call("ZREMRANGEBYRANK", KEYS[2], 0, limit)
return 1
