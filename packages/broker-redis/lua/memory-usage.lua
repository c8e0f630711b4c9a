-- memory-usage: an estimate of the bytes a queue uses (Asynq's memoryUsageCmd): for each list and zset,
-- the average MEMORY USAGE of up to sample-size task records times its length, plus the key itself; for
-- groups, the average record of up to group-sample-size groups times the tasks in all groups.
--
-- KEYS[1]  active list     P:{q}:active
-- KEYS[2]  pending list    P:{q}:pending
-- KEYS[3]  scheduled zset  P:{q}:scheduled
-- KEYS[4]  retry zset      P:{q}:retry
-- KEYS[5]  archived zset   P:{q}:archived
-- KEYS[6]  completed zset  P:{q}:completed
-- KEYS[7]  groups set      P:{q}:groups
-- ARGV[1]  task key prefix P:{q}:t:
-- ARGV[2]  task sample size, 20
-- ARGV[3]  group sample size, 5
-- ARGV[4]  group key prefix P:{q}:g:
--
-- Returns the estimate in bytes.
local sampleSize = tonumber(ARGV[2])
if sampleSize <= 0 then
  return redis.error_reply("sample size must be a positive number")
end
local total = 0
local function sampleRecords(ids, length)
  if #ids == 0 then
    return
  end
  local sampled = 0
  for _, id in ipairs(ids) do
    sampled = sampled + (redis.call("MEMORY", "USAGE", ARGV[1] .. id) or 0)
  end
  total = total + (sampled / #ids) * length
end
local function addKey(key)
  local usage = redis.call("MEMORY", "USAGE", key)
  if usage then
    total = total + usage
  end
end
for i = 1, 2 do
  sampleRecords(redis.call("LRANGE", KEYS[i], 0, sampleSize - 1), redis.call("LLEN", KEYS[i]))
  addKey(KEYS[i])
end
for i = 3, 6 do
  sampleRecords(redis.call("ZRANGE", KEYS[i], 0, sampleSize - 1), redis.call("ZCARD", KEYS[i]))
  addKey(KEYS[i])
end
local groups = redis.call("SMEMBERS", KEYS[7])
if #groups > 0 then
  local aggregating = 0
  for _, group in ipairs(groups) do
    aggregating = aggregating + redis.call("ZCARD", ARGV[4] .. group)
  end
  local sampled, count = 0, 0
  for i = 1, math.min(#groups, tonumber(ARGV[3])) do
    for _, id in ipairs(redis.call("ZRANGE", ARGV[4] .. groups[i], 0, sampleSize - 1)) do
      sampled = sampled + (redis.call("MEMORY", "USAGE", ARGV[1] .. id) or 0)
      count = count + 1
    end
  end
  if count > 0 then
    total = total + (sampled / count) * aggregating
  end
end
return math.floor(total)
