-- set-flow-limits: sets or removes a queue's flow limits (@q extension, read by dequeue.lua; Go Asynq
-- ignores these keys) and wakes the servers waiting on the queue so that a raised limit is used at once.
--
-- KEYS[1]  flow limits hash  P:{q}:flow
-- KEYS[2]  start log         P:{q}:flow:starts
-- ARGV[1]  concurrency: a positive integer, "-" to remove, "" to keep
-- ARGV[2]  rate limit (tasks per period): a positive integer, "-" to remove (with the period), "" to keep
-- ARGV[3]  rate period, ms: a positive integer, "" when ARGV[2] is not a number
-- ARGV[4]  notify channel P:{q}:notify
-- ARGV[5]  queue name, the message published on ARGV[4]
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
redis.call("PUBLISH", ARGV[4], ARGV[5])
return 1
