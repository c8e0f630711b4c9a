-- aggregation-check: decides whether a group is ready to be aggregated and, if so, moves its tasks into a
-- new aggregation set (Asynq's aggregationCheckCmd): when it holds max-size tasks (the oldest max-size
-- move), when its oldest task waited max-delay, or when its newest task is older than the grace period
-- (then up to max-size tasks, all when max-size is 0, move). The set is registered with its reclaim
-- deadline; the group name leaves the groups set when the group is emptied. Task records keep state
-- `aggregating`.
--
-- KEYS[1]  group zset            P:{q}:g:<group>
-- KEYS[2]  new aggregation set   P:{q}:g:<group>:<setId>
-- KEYS[3]  aggregation sets zset P:{q}:aggregation_sets
-- KEYS[4]  groups set            P:{q}:groups
-- ARGV[1]  max size (0 = no limit)
-- ARGV[2]  max delay, whole seconds (0 = no limit)
-- ARGV[3]  grace period, whole seconds
-- ARGV[4]  reclaim deadline of the set, Unix seconds (now + 2 minutes)
-- ARGV[5]  now, Unix seconds
-- ARGV[6]  group name
--
-- Returns 1 when an aggregation set was created, else 0.
local size = redis.call("ZCARD", KEYS[1])
if size == 0 then
  return 0
end
local maxSize = tonumber(ARGV[1])
local maxDelay = tonumber(ARGV[2])
local gracePeriod = tonumber(ARGV[3])
local now = tonumber(ARGV[5])

local function moveToSet(count)
  local members = redis.call("ZRANGE", KEYS[1], 0, count - 1, "WITHSCORES")
  for i = 1, #members, 2 do
    redis.call("ZADD", KEYS[2], members[i + 1], members[i])
  end
  redis.call("ZREMRANGEBYRANK", KEYS[1], 0, count - 1)
  redis.call("ZADD", KEYS[3], ARGV[4], KEYS[2])
end

if maxSize ~= 0 and size >= maxSize then
  moveToSet(maxSize)
  if size == maxSize then
    redis.call("SREM", KEYS[4], ARGV[6])
  end
  return 1
end
if maxDelay ~= 0 then
  local oldest = redis.call("ZRANGE", KEYS[1], 0, 0, "WITHSCORES")
  if tonumber(oldest[2]) <= now - maxDelay then
    moveToSet(maxSize)
    if size <= maxSize or maxSize == 0 then
      redis.call("SREM", KEYS[4], ARGV[6])
    end
    return 1
  end
end
local latest = redis.call("ZREVRANGE", KEYS[1], 0, 0, "WITHSCORES")
if tonumber(latest[2]) <= now - gracePeriod then
  moveToSet(maxSize)
  if size <= maxSize or maxSize == 0 then
    redis.call("SREM", KEYS[4], ARGV[6])
  end
  return 1
end
return 0
