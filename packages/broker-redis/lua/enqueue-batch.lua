-- enqueue-batch: writes several new tasks of one queue in one call (@q extension), each task exactly as
-- enqueue, schedule or add-to-group (and their unique variants) would write it. Two modes:
--   "atomic": all or nothing. Every conflict is checked first; only when there is none is anything
--             written (atomic batch enqueue).
--   "each":   every task on its own, in order: a refused task does not stop the others (batch enqueue
--             and the coalesced single enqueues of one queue).
--
-- KEYS[1]  pending list    P:{q}:pending
-- KEYS[2]  scheduled zset  P:{q}:scheduled
-- KEYS[3]  groups set      P:{q}:groups
-- KEYS[4]  active list     P:{q}:active      (KEYS[4..8] serve the hand-over, below)
-- KEYS[5]  lease zset       P:{q}:lease
-- KEYS[6]  waiters zset     P:{q}:waiters (@q extension)
-- KEYS[7]  paused flag      P:{q}:paused
-- KEYS[8]  flow limits      P:{q}:flow (@q extension)
-- then, for each task in order: its uniqueness lock when it is unique; its group zset P:{q}:g:<group>
-- when its target is "aggregating". (Task hashes are P:{q}:t:<id>, made from ARGV[8]: the same slot.)
-- ARGV[1]  now, Unix nanoseconds (pending_since)
-- ARGV[2]  now, Unix seconds (group score)
-- ARGV[3]  notify channel P:{q}:notify (@q extension)
-- ARGV[4]  queue name, the message published on ARGV[3]
-- ARGV[5]  number of tasks
-- ARGV[6]  mode, "atomic" or "each"
-- ARGV[7]  now, Unix ms (hand-over)
-- ARGV[8]  task key prefix P:{q}:t:
-- ARGV[9]  the tasks, packed in one binary string, in order (one argument instead of three to eight
--          per task: Redis and ioredis handle each argument on its own). Per task: the task id and the
--          encoded TaskMessage, each as a 4-byte big-endian length then its bytes; then one byte, 0 for a
--          plain pending task (no lock, no flow key), or 1 followed by five more length-prefixed strings:
--          target ("pending", "scheduled" or "aggregating"), process-at in Unix seconds (scheduled only,
--          else "0"), lock TTL in whole seconds ("0" when not unique), group name ("" unless aggregating),
--          flow key ("" when none; @q extension, stored as `flow_key`).
-- Each live hand-over registration gets one of the tasks written to pending (the oldest first).
--
-- Returns { written, code per task... }: a code is 1 (accepted), -1 (uniqueness lock held, also by an
-- earlier task of the batch) or 0 (task id taken, also by an earlier task of the batch). In "atomic"
-- mode written is 1 when every task was written and 0 when none was; in "each" mode it is the number
-- of tasks written.
local count = tonumber(ARGV[5])
local prefix = ARGV[8]
local packed = ARGV[9]
local tasks = {}
local keyIndex = 9
local at = 1
for i = 1, count do
  local id, msg, kind
  id, msg, kind, at = struct.unpack(">I4c0I4c0B", packed, at)
  local task = { id = id, msg = msg, target = "pending", score = "0", ttl = "0", group = "", flowKey = "" }
  if kind == 1 then
    task.target, task.score, task.ttl, task.group, task.flowKey, at =
      struct.unpack(">I4c0I4c0I4c0I4c0I4c0", packed, at)
  end
  task.key = prefix .. task.id
  if tonumber(task.ttl) > 0 then
    task.uniqueKey = KEYS[keyIndex]
    keyIndex = keyIndex + 1
  end
  if task.target == "aggregating" then
    task.groupKey = KEYS[keyIndex]
    keyIndex = keyIndex + 1
  end
  tasks[i] = task
end

local function conflict(task, seenIds, seenLocks)
  if task.uniqueKey and (seenLocks[task.uniqueKey] or redis.call("EXISTS", task.uniqueKey) == 1) then
    return -1
  elseif seenIds[task.key] or redis.call("EXISTS", task.key) == 1 then
    return 0
  end
  return 1
end

local function write(task)
  if task.flowKey ~= "" then
    redis.call("HSET", task.key, "flow_key", task.flowKey)
  end
  if task.uniqueKey then
    redis.call("SET", task.uniqueKey, task.id, "EX", task.ttl)
  end
  if task.target == "scheduled" then
    if task.uniqueKey then
      redis.call("HSET", task.key, "msg", task.msg, "state", "scheduled", "unique_key", task.uniqueKey)
    else
      redis.call("HSET", task.key, "msg", task.msg, "state", "scheduled")
    end
    redis.call("ZADD", KEYS[2], task.score, task.id)
  elseif task.target == "aggregating" then
    redis.call("HSET", task.key, "msg", task.msg, "state", "aggregating", "group", task.group)
    redis.call("ZADD", task.groupKey, ARGV[2], task.id)
    redis.call("SADD", KEYS[3], task.group)
  else
    if task.uniqueKey then
      redis.call("HSET", task.key, "msg", task.msg, "state", "pending", "pending_since", ARGV[1],
        "unique_key", task.uniqueKey)
    else
      redis.call("HSET", task.key, "msg", task.msg, "state", "pending", "pending_since", ARGV[1])
    end
    redis.call("LPUSH", KEYS[1], task.id)
    return true
  end
  return false
end

local result = { 0 }
local pushed = false
if ARGV[6] == "each" then
  -- Written in order, so a later task of the batch sees an earlier one's id and lock.
  local written = 0
  for i, task in ipairs(tasks) do
    local code = conflict(task, {}, {})
    if code == 1 then
      pushed = write(task) or pushed
      written = written + 1
    end
    result[i + 1] = code
  end
  result[1] = written
else
  local refused = false
  local seenIds = {}
  local seenLocks = {}
  for i, task in ipairs(tasks) do
    local code = conflict(task, seenIds, seenLocks)
    seenIds[task.key] = true
    if task.uniqueKey then
      seenLocks[task.uniqueKey] = true
    end
    if code ~= 1 then
      refused = true
    end
    result[i + 1] = code
  end
  if refused then
    return result
  end
  for _, task in ipairs(tasks) do
    pushed = write(task) or pushed
  end
  result[1] = 1
end
-- @include hand-over
if pushed then
  local h = { pending = KEYS[1], active = KEYS[4], lease = KEYS[5], waiters = KEYS[6], paused = KEYS[7],
    flow = KEYS[8], nowMs = ARGV[7], prefix = prefix, notify = ARGV[3] }
  -- One task per waiting server; the plain wake-up when tasks are left over (or nobody waited).
  while handOver(h) do
  end
  if redis.call("LLEN", KEYS[1]) > 0 then
    redis.call("PUBLISH", ARGV[3], ARGV[4])
  end
end
return result
