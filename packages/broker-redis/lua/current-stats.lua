-- current-stats: a queue's counts (Asynq's currentStatsCmd, plus the lifetime totals by name).
--
-- KEYS[1]  pending list              P:{q}:pending
-- KEYS[2]  active list               P:{q}:active
-- KEYS[3]  scheduled zset            P:{q}:scheduled
-- KEYS[4]  retry zset                P:{q}:retry
-- KEYS[5]  archived zset             P:{q}:archived
-- KEYS[6]  completed zset            P:{q}:completed
-- KEYS[7]  today's processed count   P:{q}:processed:<YYYY-MM-DD>
-- KEYS[8]  today's failed count      P:{q}:failed:<YYYY-MM-DD>
-- KEYS[9]  total processed count     P:{q}:processed
-- KEYS[10] total failed count        P:{q}:failed
-- KEYS[11] paused flag               P:{q}:paused
-- KEYS[12] groups set                P:{q}:groups
-- KEYS[13] parked keys               P:{q}:flow:parked (@q extension)
-- ARGV[1]  task key prefix P:{q}:t:
-- ARGV[2]  group key prefix P:{q}:g:
-- ARGV[3]  per-key prefix P:{q}:flow:k:
--
-- Tasks parked by per-key flow limits (see dequeue.lua) count as pending, and their oldest as the oldest
-- pending task when it waited longer.
--
-- Returns a flat array of name, integer pairs: pending, active, scheduled, retry, archived, completed,
-- processed, failed, processed_total, failed_total, paused (0/1), oldest_pending_since (Unix ns, 0 when
-- unknown), group_size, aggregating_count.
local result = {}
local function add(name, value)
  table.insert(result, name)
  table.insert(result, value)
end
local function counter(key)
  local value = redis.call("GET", key)
  if value then
    return tonumber(value)
  end
  return 0
end
local parkedLists = {}
local pending = redis.call("LLEN", KEYS[1])
for _, flowKey in ipairs(redis.call("ZRANGE", KEYS[13], 0, -1)) do
  local list = ARGV[3] .. flowKey .. ":parked"
  table.insert(parkedLists, list)
  pending = pending + redis.call("LLEN", list)
end
add("pending", pending)
add("active", redis.call("LLEN", KEYS[2]))
add("scheduled", redis.call("ZCARD", KEYS[3]))
add("retry", redis.call("ZCARD", KEYS[4]))
add("archived", redis.call("ZCARD", KEYS[5]))
add("completed", redis.call("ZCARD", KEYS[6]))
add("processed", counter(KEYS[7]))
add("failed", counter(KEYS[8]))
add("processed_total", counter(KEYS[9]))
add("failed_total", counter(KEYS[10]))
add("paused", redis.call("EXISTS", KEYS[11]))
local oldestPendingSince = 0
local function considerOldest(list)
  local oldest = redis.call("LRANGE", list, -1, -1)
  if #oldest > 0 then
    local since = redis.call("HGET", ARGV[1] .. oldest[1], "pending_since")
    -- Returned as text: Unix nanoseconds exceed the doubles Lua converts integers through. Same-length
    -- decimal strings compare as numbers do.
    if since and (oldestPendingSince == 0 or #since < #oldestPendingSince
        or (#since == #oldestPendingSince and since < oldestPendingSince)) then
      oldestPendingSince = since
    end
  end
end
considerOldest(KEYS[1])
for _, list in ipairs(parkedLists) do
  considerOldest(list)
end
add("oldest_pending_since", oldestPendingSince)
local groups = redis.call("SMEMBERS", KEYS[12])
add("group_size", #groups)
local aggregating = 0
for _, group in ipairs(groups) do
  aggregating = aggregating + redis.call("ZCARD", ARGV[2] .. group)
end
add("aggregating_count", aggregating)
return result
