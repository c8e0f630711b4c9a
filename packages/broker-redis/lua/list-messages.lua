-- list-messages: a page of the pending or active list (Asynq's listMessagesCmd), with ids and, for active
-- tasks, lease expiries. The indexes count from the oldest (right) end.
--
-- KEYS[1]  pending or active list  P:{q}:pending / P:{q}:active
-- KEYS[2]  lease zset              P:{q}:lease
-- KEYS[3]  parked keys             P:{q}:flow:parked, for pending only (@q extension)
-- ARGV[1]  LRANGE start (negative: -(last index) - 1)
-- ARGV[2]  LRANGE stop (negative: -(first index) - 1)
-- ARGV[3]  task key prefix P:{q}:t:
-- ARGV[4]  per-key prefix P:{q}:flow:k:, for pending only
--
-- Tasks parked by per-key flow limits (see dequeue.lua) are pending too: they follow the pending list's
-- tasks, key by key in the order of the parked-keys set, each key's oldest first.
--
-- Returns a flat array of quads { id, msg, result, lease } from the newest to the oldest of the page;
-- msg and result may be false, lease is "" when the task has no lease entry.
local ids = redis.call("LRANGE", KEYS[1], ARGV[1], ARGV[2])
if KEYS[3] then
  local first = -tonumber(ARGV[2]) - 1
  local last = -tonumber(ARGV[1]) - 1
  local length = redis.call("LLEN", KEYS[1])
  if last >= length then
    -- Oldest first: the page's part of the parked tasks, then the pending list's part before it.
    local parked = {}
    local index = length
    for _, flowKey in ipairs(redis.call("ZRANGE", KEYS[3], 0, -1)) do
      if index > last then
        break
      end
      local list = ARGV[4] .. flowKey .. ":parked"
      local size = redis.call("LLEN", list)
      if index + size > first then
        local from = math.max(first - index, 0)
        local to = math.min(last - index, size - 1)
        -- Index i from the oldest is -(i + 1) from the left.
        local page = redis.call("LRANGE", list, -to - 1, -from - 1)
        for i = #page, 1, -1 do
          table.insert(parked, page[i])
        end
      end
      index = index + size
    end
    -- The reply runs from the newest to the oldest.
    local combined = {}
    for i = #parked, 1, -1 do
      table.insert(combined, parked[i])
    end
    for _, id in ipairs(ids) do
      table.insert(combined, id)
    end
    ids = combined
  end
end
local result = {}
for _, id in ipairs(ids) do
  local fields = redis.call("HMGET", ARGV[3] .. id, "msg", "result")
  table.insert(result, id)
  table.insert(result, fields[1])
  table.insert(result, fields[2])
  table.insert(result, redis.call("ZSCORE", KEYS[2], id) or "")
end
return result
