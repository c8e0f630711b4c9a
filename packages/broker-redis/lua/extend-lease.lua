-- extend-lease: moves the lease expiry of tasks still leased (Asynq's ExtendLease, a ZADD XX) and reports
-- the ones that are not: their lease was lost and the caller must stop acting on them (@q). With a lease
-- token, a task counts as still leased only under that token (its `lease_owner` field): a task that was
-- recovered and taken again by another worker is reported lost to the worker that held it before.
--
-- KEYS[1]      lease zset  P:{q}:lease
-- KEYS[1 + i]  task hash of the i-th task  P:{q}:t:<id>
-- ARGV[1]      new lease expiry, Unix seconds
-- ARGV[2i]     id of the i-th task
-- ARGV[2i + 1] its lease token, or "" to skip the token check
--
-- Returns the ids that were not in the lease set, or not under their token.
local lost = {}
for i = 1, (#ARGV - 1) / 2 do
  local id, token = ARGV[2 * i], ARGV[2 * i + 1]
  if redis.call("ZSCORE", KEYS[1], id)
    and (token == "" or redis.call("HGET", KEYS[1 + i], "lease_owner") == token) then
    redis.call("ZADD", KEYS[1], "XX", ARGV[1], id)
  else
    table.insert(lost, id)
  end
end
return lost
