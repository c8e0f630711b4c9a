-- run-task: moves a scheduled, retry, archived, completed or aggregating task to pending (Asynq's
-- runTaskCmd; state `pending`, no pending_since) and wakes idle @q servers.
--
-- KEYS[1]  task hash     P:{q}:t:<id>
-- KEYS[2]  pending list  P:{q}:pending
-- KEYS[3]  groups set    P:{q}:groups
-- ARGV[1]  task id
-- ARGV[2]  queue key prefix P:{q}:
-- ARGV[3]  group key prefix P:{q}:g:
-- ARGV[4]  notify channel P:{q}:notify (@q extension)
-- ARGV[5]  queue name, the message published on ARGV[4]
--
-- Returns 1 when moved, 0 when the task does not exist, -1 when it is active, -2 when it is pending.
if redis.call("EXISTS", KEYS[1]) == 0 then
  return 0
end
local fields = redis.call("HMGET", KEYS[1], "state", "group")
local state, group = fields[1], fields[2]
if state == "active" then
  return -1
elseif state == "pending" then
  return -2
elseif state == "aggregating" then
  if redis.call("ZREM", ARGV[3] .. group, ARGV[1]) == 0 then
    return redis.error_reply("internal error: task id not found in zset " .. ARGV[3] .. group)
  end
  if redis.call("ZCARD", ARGV[3] .. group) == 0 then
    redis.call("SREM", KEYS[3], group)
  end
else
  if redis.call("ZREM", ARGV[2] .. state, ARGV[1]) == 0 then
    return redis.error_reply("internal error: task id not found in zset " .. ARGV[2] .. tostring(state))
  end
end
redis.call("LPUSH", KEYS[2], ARGV[1])
redis.call("HSET", KEYS[1], "state", "pending")
redis.call("PUBLISH", ARGV[4], ARGV[5])
return 1
