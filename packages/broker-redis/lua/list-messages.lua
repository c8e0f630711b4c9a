-- list-messages: a page of the pending or active list (Asynq's listMessagesCmd), with ids and, for active
-- tasks, lease expiries. The indexes count from the oldest (right) end.
--
-- KEYS[1]  pending or active list  P:{q}:pending / P:{q}:active
-- KEYS[2]  lease zset              P:{q}:lease
-- ARGV[1]  LRANGE start (negative: -(last index) - 1)
-- ARGV[2]  LRANGE stop (negative: -(first index) - 1)
-- ARGV[3]  task key prefix P:{q}:t:
--
-- Returns a flat array of quads { id, msg, result, lease } from the newest to the oldest of the page;
-- msg and result may be false, lease is "" when the task has no lease entry.
local result = {}
for _, id in ipairs(redis.call("LRANGE", KEYS[1], ARGV[1], ARGV[2])) do
  local fields = redis.call("HMGET", ARGV[3] .. id, "msg", "result")
  table.insert(result, id)
  table.insert(result, fields[1])
  table.insert(result, fields[2])
  table.insert(result, redis.call("ZSCORE", KEYS[2], id) or "")
end
return result
