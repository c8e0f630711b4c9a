-- set-flow-limits: sets or removes a queue's flow limits (@q extension, read by dequeue.lua; Go Asynq
-- ignores these keys) and wakes the servers waiting on the queue so that a raised limit is used at once.
--
-- KEYS[1]  flow limits hash  P:{q}:flow
-- KEYS[2]  start log         P:{q}:flow:starts
-- KEYS[3]  parked keys       P:{q}:flow:parked
-- KEYS[4]  pending list      P:{q}:pending
-- ARGV[1]  concurrency: a positive integer, "-" to remove, "" to keep
-- ARGV[2]  rate limit (tasks per period): a positive integer, "-" to remove (with the period), "" to keep
-- ARGV[3]  rate period, ms: a positive integer, "" when ARGV[2] is not a number
-- ARGV[4]  notify channel P:{q}:notify
-- ARGV[5]  queue name, the message published on ARGV[4]
-- ARGV[6]  per-key concurrency, as ARGV[1]
-- ARGV[7]  per-key rate limit, as ARGV[2]
-- ARGV[8]  per-key rate period, as ARGV[3]
-- ARGV[9]  per-key prefix P:{q}:flow:k:
--
-- When an update leaves the queue without per-key limits, every parked task goes back to the head of
-- pending, oldest first (a flow key's pause still holds its tasks back at the next dequeue).
--
-- Returns 1.
if ARGV[1] == "-" then
  redis.call("HDEL", KEYS[1], "concurrency")
elseif ARGV[1] ~= "" then
  redis.call("HSET", KEYS[1], "concurrency", ARGV[1])
end
if ARGV[2] == "-" then
  redis.call("HDEL", KEYS[1], "rate_limit", "rate_period")
  redis.call("DEL", KEYS[2])
elseif ARGV[2] ~= "" then
  local previous = redis.call("HGET", KEYS[1], "rate_period")
  redis.call("HSET", KEYS[1], "rate_limit", ARGV[2], "rate_period", ARGV[3])
  -- The log's members older than a shorter period no longer count; a longer period needs them kept.
  local ttl = redis.call("PTTL", KEYS[2])
  if previous and ttl > 0 and tonumber(ARGV[3]) > tonumber(previous) then
    redis.call("PEXPIRE", KEYS[2], ttl + tonumber(ARGV[3]) - tonumber(previous))
  end
end
if ARGV[6] == "-" then
  redis.call("HDEL", KEYS[1], "key_concurrency")
elseif ARGV[6] ~= "" then
  redis.call("HSET", KEYS[1], "key_concurrency", ARGV[6])
end
if ARGV[7] == "-" then
  redis.call("HDEL", KEYS[1], "key_rate_limit", "key_rate_period")
elseif ARGV[7] ~= "" then
  redis.call("HSET", KEYS[1], "key_rate_limit", ARGV[7], "key_rate_period", ARGV[8])
end
local perKeyChanged = ARGV[6] ~= "" or ARGV[7] ~= ""
local perKeyLeft = redis.call("HEXISTS", KEYS[1], "key_concurrency") == 1
  or redis.call("HEXISTS", KEYS[1], "key_rate_limit") == 1
if perKeyChanged and perKeyLeft then
  -- Changed per-key limits: every key with parked tasks is looked at again at the next dequeue.
  redis.call("ZUNIONSTORE", KEYS[3], 1, KEYS[3], "WEIGHTS", 0)
end
if perKeyChanged and not perKeyLeft then
  for _, flowKey in ipairs(redis.call("ZRANGE", KEYS[3], 0, -1)) do
    local list = ARGV[9] .. flowKey .. ":parked"
    -- Newest first, so the oldest ends at the head (right) of pending.
    for _, id in ipairs(redis.call("LRANGE", list, 0, -1)) do
      redis.call("RPUSH", KEYS[4], id)
    end
    redis.call("DEL", list, ARGV[9] .. flowKey .. ":running", ARGV[9] .. flowKey .. ":starts")
  end
  redis.call("DEL", KEYS[3])
end
redis.call("PUBLISH", ARGV[4], ARGV[5])
return 1
