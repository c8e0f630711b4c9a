-- forward: moves up to a batch of due tasks from the scheduled or retry set to pending, or to their
-- group when the record has a `group` field (Asynq's forwardCmd), and wakes idle @q servers when
-- anything became pending. Pending tasks get state `pending` and pending_since; grouped ones state
-- `aggregating`. Unlike Asynq, the group name is also added to the groups set so the aggregator sees it.
--
-- KEYS[1]  source zset   P:{q}:scheduled or P:{q}:retry
-- KEYS[2]  pending list  P:{q}:pending
-- KEYS[3]  groups set    P:{q}:groups
-- ARGV[1]  now, Unix seconds (tasks scored up to this are due)
-- ARGV[2]  task key prefix P:{q}:t:
-- ARGV[3]  now, Unix nanoseconds (pending_since)
-- ARGV[4]  group key prefix P:{q}:g:
-- ARGV[5]  batch size, 100
-- ARGV[6]  notify channel P:{q}:notify (@q extension)
-- ARGV[7]  queue name, the message published on ARGV[6]
--
-- Returns the number of tasks moved (the caller repeats while it equals the batch size).
local ids = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", ARGV[1], "LIMIT", 0, tonumber(ARGV[5]))
local pushed = 0
for _, id in ipairs(ids) do
  local taskKey = ARGV[2] .. id
  local group = redis.call("HGET", taskKey, "group")
  if group and group ~= "" then
    redis.call("ZADD", ARGV[4] .. group, ARGV[1], id)
    redis.call("SADD", KEYS[3], group)
    redis.call("ZREM", KEYS[1], id)
    redis.call("HSET", taskKey, "state", "aggregating")
  else
    redis.call("LPUSH", KEYS[2], id)
    redis.call("ZREM", KEYS[1], id)
    redis.call("HSET", taskKey, "state", "pending", "pending_since", ARGV[3])
    pushed = pushed + 1
  end
end
if pushed > 0 then
  redis.call("PUBLISH", ARGV[6], ARGV[7])
end
return #ids
