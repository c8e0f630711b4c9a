-- delete-task: deletes one task that is not active (Asynq's deleteTaskCmd), releasing its uniqueness
-- lock when the lock is still held by this task.
--
-- KEYS[1]  task hash   P:{q}:t:<id>
-- KEYS[2]  groups set  P:{q}:groups
-- ARGV[1]  task id
-- ARGV[2]  queue key prefix P:{q}:
-- ARGV[3]  group key prefix P:{q}:g:
--
-- Returns 1 when deleted, 0 when the task does not exist, -1 when it is active.
if redis.call("EXISTS", KEYS[1]) == 0 then
  return 0
end
local fields = redis.call("HMGET", KEYS[1], "state", "group", "unique_key", "flow_key")
local state, group, uniqueKey, flowKey = fields[1], fields[2], fields[3], fields[4]
if state == "active" then
  return -1
elseif state == "pending" then
  -- @q: a task parked by per-key flow limits (see dequeue.lua) is pending too.
  if redis.call("LREM", ARGV[2] .. "pending", 0, ARGV[1]) == 0
    and not (flowKey and redis.call("LREM", ARGV[2] .. "flow:k:" .. flowKey .. ":parked", 0, ARGV[1]) > 0) then
    return redis.error_reply("task is not found in list: " .. ARGV[2] .. "pending")
  end
elseif state == "aggregating" then
  if redis.call("ZREM", ARGV[3] .. group, ARGV[1]) == 0 then
    return redis.error_reply("task is not found in zset: " .. ARGV[3] .. group)
  end
  if redis.call("ZCARD", ARGV[3] .. group) == 0 then
    redis.call("SREM", KEYS[2], group)
  end
else
  if redis.call("ZREM", ARGV[2] .. tostring(state), ARGV[1]) == 0 then
    return redis.error_reply("task is not found in zset: " .. ARGV[2] .. tostring(state))
  end
end
if uniqueKey and uniqueKey ~= "" and redis.call("GET", uniqueKey) == ARGV[1] then
  redis.call("DEL", uniqueKey)
end
return redis.call("DEL", KEYS[1])
