-- delete-all: deletes every task of a scheduled, retry, archived or completed zset (Asynq's
-- deleteAllCmd), releasing uniqueness locks still held by those tasks.
--
-- KEYS[1]  the zset
-- ARGV[1]  task key prefix P:{q}:t:
--
-- Returns the number of tasks deleted.
local ids = redis.call("ZRANGE", KEYS[1], 0, -1)
for _, id in ipairs(ids) do
  local taskKey = ARGV[1] .. id
  local uniqueKey = redis.call("HGET", taskKey, "unique_key")
  if uniqueKey and uniqueKey ~= "" and redis.call("GET", uniqueKey) == id then
    redis.call("DEL", uniqueKey)
  end
  redis.call("DEL", taskKey)
end
redis.call("DEL", KEYS[1])
return #ids
