-- Registers a waiting @q server for a hand-over (see hand-over.lua), shared by dequeue.lua and
-- register-waiter.lua: the member is scored by when it lapses, and the zset expires when its last
-- registration lapses.
local function registerWaiter(waiters, member, lapsesAt, now)
  redis.call("ZADD", waiters, lapsesAt, member)
  local lapsesIn = tonumber(lapsesAt) - tonumber(now)
  if redis.call("PTTL", waiters) < lapsesIn then
    redis.call("PEXPIRE", waiters, lapsesIn)
  end
end
