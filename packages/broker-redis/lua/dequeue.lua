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
-- KEYS[7]  parked keys   P:{q}:flow:parked (@q extension, per-key limits below)
-- ARGV[5]  per-key prefix P:{q}:flow:k:
-- KEYS[8]  waiters zset  P:{q}:waiters (@q extension: hand-over registrations, see include/hand-over.lua)
-- ARGV[6]  waiter "<lease seconds>:<consumer id>", or "" (or absent) when the caller will not wait
-- ARGV[7]  when the registration lapses, Unix ms
-- ARGV[8]  now, Unix ms
-- A caller about to wait for work that finds the queue empty (not paused, without flow limits) registers,
-- so that the next enqueue leases it the task directly and publishes it to it.
--
-- Acknowledgements (@q extension: a server's finished tasks and its next tasks in one call): when ARGV[9]
-- is a number above 0, that many tasks of this queue that succeeded without retention are first finished,
-- each fenced on its own, exactly as done-batch.lua does (include/ack-batch.lua), before anything is taken.
-- KEYS[9]  today's processed count  P:{q}:processed:<YYYY-MM-DD> (only with acknowledgements)
-- KEYS[10] total processed count    P:{q}:processed (only with acknowledgements)
-- ARGV[9]  number of tasks to acknowledge ("" or absent: none)
-- ARGV[10] expiry of today's processed counter, Unix seconds
-- ARGV[11] the tasks to acknowledge, packed as done-batch.lua takes them in its ARGV[4]
--
-- Flow control (@q extension; Go Asynq servers do not read these keys): when the queue's flow hash holds
-- `concurrency`, at most that many tasks of the queue are leased at once (the lease zset counts them);
-- with `rate_limit` and `rate_period` (ms), at most rate_limit tasks are taken in any window of
-- rate_period (the start log keeps one member per task taken, scored by the Redis clock in ms); while
-- `paused_until` (Unix ms) is ahead, nothing is taken. A queue without a flow hash costs one HMGET.
--
-- Per-key limits (@q extension): with `key_concurrency` and/or `key_rate_limit` + `key_rate_period` in
-- the flow hash (or `key_pauses`, set once a key was paused: P:{q}:flow:k:<key>:paused, expiring when the
-- pause ends, holds that key's tasks back), each flow key (the task hash's `flow_key` field) is limited on its own. A task whose key
-- is at its limit is parked: moved from pending to the key's list P:{q}:flow:k:<key>:parked (oldest at
-- the right), its key added to the parked-keys sorted set scored by when to look at it again (Redis ms:
-- now for a key waiting on running tasks, the end of the window for a rate). Each call first releases
-- parked tasks of due keys that have room, oldest keys first, back to the head of pending, and rescores
-- them, which rotates between keys. A key's leased tasks are counted in P:{q}:flow:k:<key>:running (ids
-- scored by when taken); ids no longer in the lease set (outcome written, recovered) are dropped when
-- the key looks full. Its starts are logged in P:{q}:flow:k:<key>:starts. Tasks without a flow key are
-- held by the queue's limits only. Bounded: at most 16 keys released from and 100 tasks parked per call.
--
-- Returns a flat array of triples { id, kind, data }: kind "ok" with data = msg; "missing" (no task
-- record), "nomsg" (a hash without msg) or "wrongtype" (data = the record's Redis type), each with
-- data "" unless said. Empty when the queue is paused or has nothing pending. An error reply when
-- pending cannot be popped before anything was taken (e.g. it is not a list). A queue with a flow hash
-- gets one more triple at the end, { "", "flow", "<reason>:<ms>" }: reason "" when no limit held the
-- dequeue back, else "concurrency", "rate" or "paused", with the milliseconds until a task can be taken
-- again ("" when that waits on running tasks). Reason "keys" (per-key limits): every task looked at
-- belonged to a key at its limit; the milliseconds until a rate-held key may go on, 0 when the call
-- stopped at its parking bound with tasks still pending, "" when keys wait on running tasks.
-- With acknowledgements the reply ends with one more triple, { "", "acks", "<one code per task>" }: "1"
-- done, "0" not leased (or not under its token); and a pending list that cannot be popped, or any other
-- error once they are written (a flow hash of the wrong type, say), is reported as a triple
-- { "", "error", "<message>" } before it, instead of an error reply, so that the codes arrive.
-- @include ack-batch
-- @include register-waiter
local acks
if ARGV[9] and ARGV[9] ~= "" and tonumber(ARGV[9]) > 0 then
  acks = table.concat(ackBatch(KEYS[3], KEYS[4], KEYS[9], KEYS[10], ARGV[10], ARGV[2], ARGV[11],
    tonumber(ARGV[9])))
end
-- The reply, with the acknowledgement codes when there were any.
local function reply(triples)
  if acks then
    table.insert(triples, "")
    table.insert(triples, "acks")
    table.insert(triples, acks)
  end
  return triples
end
-- Pending could not be popped before anything was taken.
local function popFailed(err)
  if acks then
    return reply({ "", "error", err })
  end
  return redis.error_reply(err)
end
-- Takes the tasks (the whole of Asynq's dequeue and @q's flow control and hand-over registration).
local function takeTasks()
  if redis.call("EXISTS", KEYS[2]) == 1 then
    return reply({})
  end
  local count = tonumber(ARGV[3])
  local flow = redis.call("HMGET", KEYS[5], "concurrency", "rate_limit", "rate_period", "paused_until",
    "key_concurrency", "key_rate_limit", "key_rate_period", "key_pauses")
  local perKey = flow[5] or flow[6] or flow[8]
  local limited = flow[1] or flow[2] or flow[4] or perKey
  local now, period, heldBy
  if limited then
    -- Redis 3.2-4 replicate a script verbatim unless told otherwise, which refuses writes after TIME.
    redis.replicate_commands()
    local time = redis.call("TIME")
    now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
    if flow[4] then
      local pausedFor = tonumber(flow[4]) - now
      if pausedFor > 0 then
        return reply({ "", "flow", "paused:" .. pausedFor })
      end
      redis.call("HDEL", KEYS[5], "paused_until")
    end
    if flow[1] then
      local free = tonumber(flow[1]) - redis.call("ZCARD", KEYS[4])
      if free <= 0 then
        return reply({ "", "flow", "concurrency:" })
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
        return reply({ "", "flow", "rate:" .. math.max(1, tonumber(oldest[2]) + period - now) })
      end
      if tokens <= count then
        count, heldBy = tokens, "rate"
      end
    end
  end
  local taken = {}
  -- Leases a task already moved to active; appends its triple to taken.
  local function lease(id)
    redis.call("ZADD", KEYS[4], ARGV[1], id)
    local key = ARGV[2] .. id
    local keyType = redis.call("TYPE", key)["ok"]
    if keyType == "hash" then
      redis.pcall("HSET", key, "state", "active", "lease_owner", ARGV[4])
      redis.pcall("HDEL", key, "pending_since")
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
  local keyHold
  if not perKey then
    for _ = 1, count do
      local id = redis.pcall("RPOPLPUSH", KEYS[1], KEYS[3])
      if type(id) == "table" and id.err then
        if #taken == 0 then
          return popFailed(id.err)
        end
        break
      end
      if not id then
        break
      end
      lease(id)
    end
  else
    local prefix = ARGV[5]
    local keyLimit = tonumber(flow[5])
    local keyRate = tonumber(flow[6])
    local keyPeriod = tonumber(flow[7])
    if not keyPeriod then
      keyRate = nil
    end
    local keyPauses = flow[8]
    local idleTtl = 7 * 24 * 3600 * 1000
    local states = {}
    -- Room of one key now: free slots and tokens (math.huge when unlimited), read once per call.
    local function keyState(flowKey)
      local state = states[flowKey]
      if state then
        return state
      end
      state = { free = math.huge, tokens = math.huge }
      if keyLimit then
        local running = prefix .. flowKey .. ":running"
        local leased = redis.call("ZCARD", running)
        if leased >= keyLimit then
          -- A finished or recovered task left the lease set: its slot is free again.
          for _, id in ipairs(redis.call("ZRANGE", running, 0, -1)) do
            if not redis.call("ZSCORE", KEYS[4], id) then
              redis.call("ZREM", running, id)
              leased = leased - 1
            end
          end
        end
        state.free = keyLimit - leased
      end
      if keyRate then
        local starts = prefix .. flowKey .. ":starts"
        redis.call("ZREMRANGEBYSCORE", starts, "-inf", now - keyPeriod)
        state.tokens = keyRate - redis.call("ZCARD", starts)
      end
      if keyPauses then
        local pausedFor = redis.call("PTTL", prefix .. flowKey .. ":paused")
        if pausedFor > 0 then
          state.free, state.resumeAt = 0, now + pausedFor
        end
      end
      states[flowKey] = state
      return state
    end
    -- When to look at a parked key again (Redis ms).
    local function nextLook(flowKey, state)
      if state.resumeAt then
        return state.resumeAt
      end
      if state.tokens <= 0 then
        local oldest = redis.call("ZRANGE", prefix .. flowKey .. ":starts", 0, 0, "WITHSCORES")
        if oldest[2] then
          return math.max(now + 1, tonumber(oldest[2]) + keyPeriod)
        end
      end
      return now
    end
    -- Release: parked tasks of due keys with room go back to the head of pending, oldest first.
    local budget = count
    local released = {}
    if budget > 0 then
      for _, flowKey in ipairs(redis.call("ZRANGEBYSCORE", KEYS[7], "-inf", now, "LIMIT", 0, 16)) do
        if budget <= 0 then
          break
        end
        local state = keyState(flowKey)
        local room = math.min(state.free, state.tokens, budget)
        local list = prefix .. flowKey .. ":parked"
        local ids = {}
        while #ids < room do
          local id = redis.call("RPOP", list)
          if not id then
            break
          end
          table.insert(ids, id)
        end
        for i = #ids, 1, -1 do
          redis.call("RPUSH", KEYS[1], ids[i])
          released[ids[i]] = true
        end
        budget = budget - #ids
        if redis.call("EXISTS", list) == 0 then
          redis.call("ZREM", KEYS[7], flowKey)
        else
          -- Behind the keys looked at longer ago: rotation.
          redis.call("ZADD", KEYS[7], nextLook(flowKey, state), flowKey)
        end
      end
    end
    local parked = 0
    local takenCount = 0
    while takenCount < count do
      local id = redis.pcall("RPOP", KEYS[1])
      if type(id) == "table" and id.err then
        if takenCount == 0 then
          return popFailed(id.err)
        end
        break
      end
      if not id then
        break
      end
      local flowKey = redis.pcall("HGET", ARGV[2] .. id, "flow_key")
      if type(flowKey) ~= "string" then
        flowKey = nil
      end
      local state = flowKey and keyState(flowKey)
      if state and (state.free <= 0 or state.tokens <= 0) then
        redis.call("LPUSH", prefix .. flowKey .. ":parked", id)
        redis.call("ZADD", KEYS[7], "NX", nextLook(flowKey, state), flowKey)
        parked = parked + 1
        if parked >= 100 then
          break
        end
      else
        if state then
          if not released[id] then
            -- An older task of the key waits aside: it goes first, this one takes its place.
            local older = redis.call("RPOP", prefix .. flowKey .. ":parked")
            if older then
              redis.call("LPUSH", prefix .. flowKey .. ":parked", id)
              id = older
            end
          end
          state.free = state.free - 1
          state.tokens = state.tokens - 1
          if keyLimit then
            local running = prefix .. flowKey .. ":running"
            redis.call("ZADD", running, now, id)
            redis.call("PEXPIRE", running, idleTtl)
          end
          if keyRate then
            local starts = prefix .. flowKey .. ":starts"
            redis.call("ZADD", starts, now, now .. ":" .. id)
            redis.call("PEXPIRE", starts, keyPeriod)
          end
        end
        redis.call("LPUSH", KEYS[3], id)
        lease(id)
        takenCount = takenCount + 1
      end
    end
    keyHold = nil
    if takenCount < count and redis.call("EXISTS", KEYS[7]) == 1 then
      if parked >= 100 and redis.call("EXISTS", KEYS[1]) == 1 then
        keyHold = "0"
      else
        local upcoming = redis.call("ZRANGEBYSCORE", KEYS[7], "(" .. now, "+inf", "WITHSCORES", "LIMIT", 0, 1)
        keyHold = upcoming[2] and tostring(tonumber(upcoming[2]) - now) or ""
      end
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
    elseif keyHold then
      heldBy, retryAfter = "keys", keyHold
    end
    if period and takenCount > 0 then
      redis.call("PEXPIRE", KEYS[6], period)
    end
    table.insert(taken, "")
    table.insert(taken, "flow")
    table.insert(taken, (heldBy or "") .. ":" .. retryAfter)
  end
  if ARGV[6] and ARGV[6] ~= "" and not limited and #taken / 3 < count then
    registerWaiter(KEYS[8], ARGV[6], ARGV[7], ARGV[8])
  end
  return reply(taken)
end
if not acks then
  return takeTasks()
end
-- The acknowledgements are written: an error past this point must not lose their codes. It is reported
-- as an "error" triple, as a failed pop is (Redis keeps what the script wrote before the error).
local ok, result = pcall(takeTasks)
if ok then
  return result
end
return reply({ "", "error", type(result) == "table" and result.err or tostring(result) })
