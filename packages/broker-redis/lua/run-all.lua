-- run-all: moves every task of a scheduled, retry, archived or completed zset to pending (Asynq's
-- runAllCmd; state `pending`, no pending_since) and wakes idle @q servers.
--
-- KEYS[1]  source zset
-- KEYS[2]  pending list  P:{q}:pending
-- ARGV[1]  task key prefix P:{q}:t:
-- ARGV[2]  notify channel P:{q}:notify (@q extension)
-- ARGV[3]  queue name, the message published on ARGV[2]
--
-- Returns the number of tasks moved.
local ids = redis.call("ZRANGE", KEYS[1], 0, -1)
for _, id in ipairs(ids) do
  redis.call("LPUSH", KEYS[2], id)
  redis.call("HSET", ARGV[1] .. id, "state", "pending")
end
redis.call("DEL", KEYS[1])
if #ids > 0 then
  redis.call("PUBLISH", ARGV[2], ARGV[3])
end
return #ids
