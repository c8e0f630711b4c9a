-- done-batch: finishes several tasks of one queue that succeeded without retention, each exactly as
-- done.lua does (@q extension: the acknowledgements of tasks that finished together, in one call).
-- Each task is fenced on its own: a task whose lease is lost is left alone and reported, the others are
-- done. The processed counters grow by the number done (today's expires 90 days after it is created;
-- the total wraps as Asynq's does at the int64 maximum).
--
-- KEYS[1]  active list               P:{q}:active
-- KEYS[2]  lease zset                P:{q}:lease
-- KEYS[3]  today's processed count   P:{q}:processed:<YYYY-MM-DD>
-- KEYS[4]  total processed count     P:{q}:processed
-- ARGV[1]  expiry of today's counter, Unix seconds
-- ARGV[2]  task key prefix P:{q}:t:
-- ARGV[3]  number of tasks
-- then four per task: task id; lease token ("" skips the check); lease must have expired at or before
-- this, Unix seconds ("" skips the check); its uniqueness lock key ("" when not unique). The task hashes
-- and locks share the queue's hash tag, so in a cluster they live on the node of KEYS[1].
--
-- Returns one code per task: 1 done, 0 not leased (or not under its token): nothing changed for it.
local codes = {}
local done = 0
for i = 1, tonumber(ARGV[3]) do
  local base = 3 + (i - 1) * 4
  local id, token, expiredBy, uniqueKey = ARGV[base + 1], ARGV[base + 2], ARGV[base + 3], ARGV[base + 4]
  local key = ARGV[2] .. id
  local code = 1
  local score = redis.call("ZSCORE", KEYS[2], id)
  if not score then
    code = 0
  elseif token ~= "" and redis.call("HGET", key, "lease_owner") ~= token then
    code = 0
  elseif expiredBy ~= "" and tonumber(score) > tonumber(expiredBy) then
    code = 0
  end
  if code == 1 then
    redis.call("LREM", KEYS[1], 0, id)
    redis.call("ZREM", KEYS[2], id)
    redis.call("DEL", key)
    if uniqueKey ~= "" and redis.call("GET", uniqueKey) == id then
      redis.call("DEL", uniqueKey)
    end
    done = done + 1
  end
  codes[i] = code
end
if done > 0 then
  if redis.call("INCRBY", KEYS[3], done) == done then
    redis.call("EXPIREAT", KEYS[3], ARGV[1])
  end
  -- Past the int64 maximum INCRBY refuses; start again from the number done (1 for one task, as
  -- Asynq's done does). Lua numbers are doubles, too coarse to compare with the maximum themselves.
  local added = redis.pcall("INCRBY", KEYS[4], done)
  if type(added) == "table" and added.err then
    redis.call("SET", KEYS[4], done)
  end
end
return codes
