-- dequeue: moves up to N tasks from pending to active unless the queue is paused (Asynq's dequeueCmd,
-- extended to take a batch). For each id: RPOPLPUSH from the oldest end of pending to active, lease
-- entry, state `active`, `pending_since` removed. A task record that is missing, not a hash or has no
-- `msg` is still moved and leased, and reported so that the caller archives it as malformed.
--
-- KEYS[1]  pending list  P:{q}:pending
-- KEYS[2]  paused flag   P:{q}:paused
-- KEYS[3]  active list   P:{q}:active
-- KEYS[4]  lease zset    P:{q}:lease
-- ARGV[1]  lease expiry, Unix seconds
-- ARGV[2]  task key prefix P:{q}:t:
-- ARGV[3]  maximum number of tasks to take
-- ARGV[4]  lease token, stored as the task's `lease_owner` field (@q extension: outcome writes are
--          fenced on it; Go Asynq ignores the field)
-- KEYS[5]  flow limits   P:{q}:flow (@q extension, see flow control below)
-- KEYS[6]  start log     P:{q}:flow:starts
--
-- Flow control (@q extension; Go Asynq servers do not read these keys): when the queue's flow hash holds
-- `concurrency`, at most that many tasks of the queue are leased at once (the lease zset counts them);
-- with `rate_limit` and `rate_period` (ms), at most rate_limit tasks are taken in any window of
-- rate_period (the start log keeps one member per task taken, scored by the Redis clock in ms); while
-- `paused_until` (Unix ms) is ahead, nothing is taken. A queue without a flow hash costs one HMGET.
--
-- Returns a flat array of triples { id, kind, data }: kind "ok" with data = msg; "missing" (no task
-- record), "nomsg" (a hash without msg) or "wrongtype" (data = the record's Redis type), each with
-- data "" unless said. Empty when the queue is paused or has nothing pending. An error reply when
-- pending cannot be popped before anything was taken (e.g. it is not a list). A queue with a flow hash
-- gets one more triple at the end, { "", "flow", "<reason>:<ms>" }: reason "" when no limit held the
-- dequeue back, else "concurrency", "rate" or "paused", with the milliseconds until a task can be taken
-- again ("" when that waits on running tasks).
if redis.call("EXISTS", KEYS[2]) == 1 then
  return {}
end
local count = tonumber(ARGV[3])
local flow = redis.call("HMGET", KEYS[5], "concurrency", "rate_limit", "rate_period", "paused_until")
local limited = flow[1] or flow[2] or flow[4]
local now, period, heldBy
if limited then
  -- Redis 3.2-4 replicate a script verbatim unless told otherwise, which refuses writes after TIME.
  redis.replicate_commands()
  local time = redis.call("TIME")
  now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  if flow[4] then
    local pausedFor = tonumber(flow[4]) - now
    if pausedFor > 0 then
      return { "", "flow", "paused:" .. pausedFor }
    end
    redis.call("HDEL", KEYS[5], "paused_until")
  end
  if flow[1] then
    local free = tonumber(flow[1]) - redis.call("ZCARD", KEYS[4])
    if free <= 0 then
      return { "", "flow", "concurrency:" }
    end
    if free <= count then
      count, heldBy = free, "concurrency"
    end
  end
  if flow[2] and flow[3] then
    period = tonumber(flow[3])
    redis.call("ZREMRANGEBYSCORE", KEYS[6], "-inf", now - period)
    local tokens = tonumber(flow[2]) - redis.call("ZCARD", KEYS[6])
    if tokens <= 0 then
      local oldest = redis.call("ZRANGE", KEYS[6], 0, 0, "WITHSCORES")
      return { "", "flow", "rate:" .. math.max(1, tonumber(oldest[2]) + period - now) }
    end
    if tokens <= count then
      count, heldBy = tokens, "rate"
    end
  end
end
local taken = {}
for _ = 1, count do
  local id = redis.pcall("RPOPLPUSH", KEYS[1], KEYS[3])
  if type(id) == "table" and id.err then
    if #taken == 0 then
      return redis.error_reply(id.err)
    end
    break
  end
  if not id then
    break
  end
  redis.call("ZADD", KEYS[4], ARGV[1], id)
  local key = ARGV[2] .. id
  local keyType = redis.call("TYPE", key)["ok"]
  if keyType == "hash" then
    redis.pcall("HSET", key, "state", "active")
    redis.pcall("HDEL", key, "pending_since")
    redis.pcall("HSET", key, "lease_owner", ARGV[4])
    local msg = redis.pcall("HGET", key, "msg")
    if type(msg) == "string" then
      table.insert(taken, id)
      table.insert(taken, "ok")
      table.insert(taken, msg)
    else
      table.insert(taken, id)
      table.insert(taken, "nomsg")
      table.insert(taken, "")
    end
  elseif keyType == "none" then
    table.insert(taken, id)
    table.insert(taken, "missing")
    table.insert(taken, "")
  else
    table.insert(taken, id)
    table.insert(taken, "wrongtype")
    table.insert(taken, keyType)
  end
  if period then
    redis.call("ZADD", KEYS[6], now, now .. ":" .. id)
  end
end
if limited then
  local takenCount = #taken / 3
  if takenCount < count then
    -- Pending ran out before a limit was reached.
    heldBy = nil
  end
  local retryAfter = ""
  if heldBy == "rate" then
    local oldest = redis.call("ZRANGE", KEYS[6], 0, 0, "WITHSCORES")
    retryAfter = math.max(1, tonumber(oldest[2]) + period - now)
  end
  if period and takenCount > 0 then
    redis.call("PEXPIRE", KEYS[6], period)
  end
  table.insert(taken, "")
  table.insert(taken, "flow")
  table.insert(taken, (heldBy or "") .. ":" .. retryAfter)
end
return taken
