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
-- then, for each task in order: its task hash P:{q}:t:<id>; its uniqueness lock when it is unique;
-- its group zset P:{q}:g:<group> when its target is "aggregating".
-- ARGV[1]  now, Unix nanoseconds (pending_since)
-- ARGV[2]  now, Unix seconds (group score)
-- ARGV[3]  notify channel P:{q}:notify (@q extension)
-- ARGV[4]  queue name, the message published on ARGV[3]
-- ARGV[5]  number of tasks
-- ARGV[6]  mode, "atomic" or "each"
-- then seven per task: task id, encoded TaskMessage, target ("pending", "scheduled" or "aggregating"),
-- process-at in Unix seconds (scheduled only, else 0), lock TTL in whole seconds (0 when not unique),
-- group name ("" unless aggregating), flow key ("" when none; @q extension, stored as `flow_key`).
-- After the tasks' keys, five keys for the hand-over (below): active list, lease zset, waiters zset,
-- paused flag, flow hash; after the tasks' arguments, two: now in Unix ms, task key prefix P:{q}:t:.
-- Each live registration gets one of the tasks written to pending (the oldest first).
--
-- Returns { written, code per task... }: a code is 1 (accepted), -1 (uniqueness lock held, also by an
-- earlier task of the batch) or 0 (task id taken, also by an earlier task of the batch). In "atomic"
-- mode written is 1 when every task was written and 0 when none was; in "each" mode it is the number
-- of tasks written.
local count = tonumber(ARGV[5])
local tasks = {}
local keyIndex = 4
for i = 1, count do
  local base = 6 + (i - 1) * 7
  local task = {
    id = ARGV[base + 1],
    msg = ARGV[base + 2],
    target = ARGV[base + 3],
    score = ARGV[base + 4],
    ttl = ARGV[base + 5],
    group = ARGV[base + 6],
    flowKey = ARGV[base + 7],
    key = KEYS[keyIndex],
  }
  keyIndex = keyIndex + 1
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
  local tail = 6 + count * 7
  local h = { pending = KEYS[1], active = KEYS[keyIndex], lease = KEYS[keyIndex + 1],
    waiters = KEYS[keyIndex + 2], paused = KEYS[keyIndex + 3], flow = KEYS[keyIndex + 4],
    nowMs = ARGV[tail + 1], prefix = ARGV[tail + 2], notify = ARGV[3] }
  -- One task per waiting server; the plain wake-up when tasks are left over (or nobody waited).
  while handOver(h) do
  end
  if redis.call("LLEN", KEYS[1]) > 0 then
    redis.call("PUBLISH", ARGV[3], ARGV[4])
  end
end
return result
