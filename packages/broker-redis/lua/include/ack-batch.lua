-- Finishes tasks of one queue that succeeded without retention, each exactly as done.lua does, shared by
-- done-batch.lua and dequeue.lua (which acknowledges a server's finished tasks before it takes new ones).
-- Each task is fenced on its own: a task whose lease is lost is left alone and reported, the others are
-- done. The processed counters grow by the number done (today's expires at statsExpiry; the total wraps
-- as Asynq's does at the int64 maximum). The tasks come packed in one binary string, four strings per
-- task, each a 4-byte big-endian length then its bytes: task id; lease token ("" skips the check); lease
-- must have expired at or before this, Unix seconds ("" skips the check); its uniqueness lock key (""
-- when not unique). The task hashes and locks share the queue's hash tag, so in a cluster they live on
-- the node of the active list.
-- Returns one code per task: 1 done, 0 not leased (or not under its token): nothing changed for it.
local function ackBatch(active, lease, processed, processedTotal, statsExpiry, taskPrefix, packed, count)
  local codes = {}
  local done = 0
  local at = 1
  for i = 1, count do
    local id, token, expiredBy, uniqueKey
    id, token, expiredBy, uniqueKey, at = struct.unpack(">I4c0I4c0I4c0I4c0", packed, at)
    local key = taskPrefix .. id
    local code = 1
    local score = redis.call("ZSCORE", lease, id)
    if not score then
      code = 0
    elseif token ~= "" and redis.call("HGET", key, "lease_owner") ~= token then
      code = 0
    elseif expiredBy ~= "" and tonumber(score) > tonumber(expiredBy) then
      code = 0
    end
    if code == 1 then
      redis.call("LREM", active, 0, id)
      redis.call("ZREM", lease, id)
      redis.call("DEL", key)
      if uniqueKey ~= "" and redis.call("GET", uniqueKey) == id then
        redis.call("DEL", uniqueKey)
      end
      done = done + 1
    end
    codes[i] = code
  end
  if done > 0 then
    if redis.call("INCRBY", processed, done) == done then
      redis.call("EXPIREAT", processed, statsExpiry)
    end
    -- Past the int64 maximum INCRBY refuses; start again from the number done (1 for one task, as
    -- Asynq's done does). Lua numbers are doubles, too coarse to compare with the maximum themselves.
    local added = redis.pcall("INCRBY", processedTotal, done)
    if type(added) == "table" and added.err then
      redis.call("SET", processedTotal, done)
    end
  end
  return codes
end
