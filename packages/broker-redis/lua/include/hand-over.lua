-- Hand-over (@q extension), shared by the enqueue scripts. An idle @q server that found the queue empty
-- leaves a registration in the queue's waiters zset P:{q}:waiters (member "<lease seconds>:<consumer id>",
-- scored by when it lapses, Unix ms; see dequeue.lua). While one is live and the queue is neither paused
-- nor under flow limits, the oldest pending task is leased to that server here, exactly as dequeue.lua
-- would lease it (active list, lease zset, state `active`, `lease_owner`), and published to it on the
-- notify channel with its message, so that it starts without a dequeue round trip. The message is
-- "\1<consumer id>\1<task id>\1<lease expiry, Unix seconds>\1<lease token>\1<msg>"; a queue name never
-- holds a control character, so servers tell it from a plain wake-up. A record without a readable `msg`
-- is left to a dequeue, which archives it. Go Asynq servers never register: for them nothing changes.
--
-- h: { pending, active, lease, waiters, paused, flow = keys; prefix = task key prefix; nowMs; notify }
-- Returns whether a task was handed over (the registration is used up).
local function handOver(h)
  if redis.call("EXISTS", h.waiters) == 0 then
    return false
  end
  redis.call("ZREMRANGEBYSCORE", h.waiters, "-inf", h.nowMs)
  local waiter = redis.call("ZRANGE", h.waiters, -1, -1)[1]
  if not waiter or redis.call("EXISTS", h.paused) == 1 or redis.call("EXISTS", h.flow) == 1 then
    return false
  end
  local id = redis.call("LINDEX", h.pending, -1)
  if not id then
    return false
  end
  local key = h.prefix .. id
  local msg = redis.pcall("HGET", key, "msg")
  if type(msg) ~= "string" then
    return false
  end
  redis.call("ZREM", h.waiters, waiter)
  redis.call("RPOPLPUSH", h.pending, h.active)
  local separator = string.find(waiter, ":", 1, true)
  local expiry = math.floor(tonumber(h.nowMs) / 1000) + tonumber(string.sub(waiter, 1, separator - 1))
  local token = "h:" .. h.nowMs .. ":" .. id
  redis.call("ZADD", h.lease, expiry, id)
  redis.call("HSET", key, "state", "active", "lease_owner", token)
  redis.call("HDEL", key, "pending_since")
  redis.call("PUBLISH", h.notify,
    "\1" .. string.sub(waiter, separator + 1) .. "\1" .. id .. "\1" .. expiry .. "\1" .. token .. "\1" .. msg)
  return true
end
