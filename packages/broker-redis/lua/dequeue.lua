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
--
-- Returns a flat array of triples { id, kind, data }: kind "ok" with data = msg; "missing" (no task
-- record), "nomsg" (a hash without msg) or "wrongtype" (data = the record's Redis type), each with
-- data "" unless said. Empty when the queue is paused or has nothing pending. An error reply when
-- pending cannot be popped before anything was taken (e.g. it is not a list).
if redis.call("EXISTS", KEYS[2]) == 1 then
  return {}
end
local taken = {}
for _ = 1, tonumber(ARGV[3]) do
  local id = redis.pcall("RPOPLPUSH", KEYS[1], KEYS[3])
  if type(id) == "table" and id.err then
    if #taken == 0 then
      return redis.error_reply(id.err)
    end
    break
  end
  if not id then
    break
  end
  redis.call("ZADD", KEYS[4], ARGV[1], id)
  local key = ARGV[2] .. id
  local keyType = redis.call("TYPE", key)["ok"]
  if keyType == "hash" then
    redis.pcall("HSET", key, "state", "active")
    redis.pcall("HDEL", key, "pending_since")
    redis.pcall("HSET", key, "lease_owner", ARGV[4])
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
end
return taken
