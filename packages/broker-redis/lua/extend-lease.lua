-- extend-lease: moves the lease expiry of tasks still leased (Asynq's ExtendLease, a ZADD XX) and reports
-- the ones that are not: their lease was lost and the caller must stop acting on them (@q).
--
-- KEYS[1]  lease zset  P:{q}:lease
-- ARGV[1]  new lease expiry, Unix seconds
-- ARGV[2..] task ids
--
-- Returns the ids that were not in the lease set.
local lost = {}
for i = 2, #ARGV do
  if redis.call("ZSCORE", KEYS[1], ARGV[i]) then
    redis.call("ZADD", KEYS[1], "XX", ARGV[1], ARGV[i])
  else
    table.insert(lost, ARGV[i])
  end
end
return lost
