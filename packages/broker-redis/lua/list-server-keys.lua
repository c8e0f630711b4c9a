-- list-server-keys: the live members of P:servers, P:workers or P:schedulers with their expiry, pruning
-- the expired ones (Asynq's listServerKeysCmd, which returns the members only).
--
-- KEYS[1]  P:servers, P:workers or P:schedulers
-- ARGV[1]  now, Unix seconds
--
-- Returns a flat array of pairs { key, expiry in Unix seconds }.
local live = redis.call("ZRANGEBYSCORE", KEYS[1], ARGV[1], "+inf", "WITHSCORES")
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", tonumber(ARGV[1]) - 1)
return live
