-- list-zset-entries: a page of a scheduled, retry, archived, completed or group zset, lowest score first
-- (Asynq's listZSetEntriesCmd), with ids.
--
-- KEYS[1]  the zset
-- ARGV[1]  start rank
-- ARGV[2]  stop rank
-- ARGV[3]  task key prefix P:{q}:t:
--
-- Returns a flat array of quads { id, msg, score, result }; msg and result may be false.
local result = {}
local entries = redis.call("ZRANGE", KEYS[1], ARGV[1], ARGV[2], "WITHSCORES")
for i = 1, #entries, 2 do
  local fields = redis.call("HMGET", ARGV[3] .. entries[i], "msg", "result")
  table.insert(result, entries[i])
  table.insert(result, fields[1])
  table.insert(result, entries[i + 1])
  table.insert(result, fields[2])
end
return result
