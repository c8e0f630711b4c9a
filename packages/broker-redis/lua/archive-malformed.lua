-- archive-malformed (@q): archives a task whose record could not be read (missing, not a hash, no or an
-- undecodable msg) after dequeue or lease recovery took it. The caller builds a replacement message that
-- keeps what was there (the raw bytes as payload) and names the reason in error_msg. A record of another
-- type is replaced by a hash; a hash keeps its other fields. Not counted as processed or failed.
--
-- KEYS[1]  task hash      P:{q}:t:<id>
-- KEYS[2]  active list    P:{q}:active
-- KEYS[3]  lease zset     P:{q}:lease
-- KEYS[4]  archived zset  P:{q}:archived
-- ARGV[1]  task id
-- ARGV[2]  encoded replacement TaskMessage
-- ARGV[3]  now, Unix seconds (the score)
-- ARGV[4]  trim cutoff, Unix seconds (now - 90 days)
-- ARGV[5]  archive size limit, 10000
-- ARGV[6]  task key prefix P:{q}:t:
--
-- Returns 1.
redis.call("LREM", KEYS[2], 0, ARGV[1])
redis.call("ZREM", KEYS[3], ARGV[1])
local keyType = redis.call("TYPE", KEYS[1])["ok"]
if keyType ~= "hash" and keyType ~= "none" then
  redis.call("DEL", KEYS[1])
end
redis.call("ZADD", KEYS[4], ARGV[3], ARGV[1])
for _, id in ipairs(redis.call("ZRANGEBYSCORE", KEYS[4], "-inf", ARGV[4])) do
  redis.call("DEL", ARGV[6] .. id)
end
redis.call("ZREMRANGEBYSCORE", KEYS[4], "-inf", ARGV[4])
local limit = -tonumber(ARGV[5])
for _, id in ipairs(redis.call("ZRANGE", KEYS[4], 0, limit)) do
  redis.call("DEL", ARGV[6] .. id)
end
redis.call("ZREMRANGEBYRANK", KEYS[4], 0, limit)
redis.call("HSET", KEYS[1], "msg", ARGV[2], "state", "archived")
return 1
