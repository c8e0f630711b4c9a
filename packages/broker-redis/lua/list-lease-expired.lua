-- list-lease-expired: the active tasks the recoverer must retry or archive (Asynq's listLeaseExpiredCmd):
-- those whose lease expiry is at or before the cutoff and, as an @q extension, active tasks with no lease
-- entry at all (left by a crash between non-atomic steps). Those orphans are given a lease entry scored
-- at the cutoff, so that retry and archive, which require one, accept them. Every leased task is in the
-- active list, so an orphan can only exist when the list is longer than the lease set: only then is the
-- list read, which keeps a sweep to three commands per queue however many tasks run.
--
-- KEYS[1]  lease zset    P:{q}:lease
-- KEYS[2]  active list   P:{q}:active
-- ARGV[1]  cutoff, Unix seconds
-- ARGV[2]  task key prefix P:{q}:t:
--
-- Returns a flat array of triples { id, kind, data } as dequeue does: kind "ok" with data = msg;
-- "missing", "nomsg" or "wrongtype" (data = the record's Redis type) for records to archive as malformed.
local ids = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", ARGV[1])
if redis.call("LLEN", KEYS[2]) > redis.call("ZCARD", KEYS[1]) then
  for _, id in ipairs(redis.call("LRANGE", KEYS[2], 0, -1)) do
    if not redis.call("ZSCORE", KEYS[1], id) then
      redis.call("ZADD", KEYS[1], ARGV[1], id)
      table.insert(ids, id)
    end
  end
end
local found = {}
for _, id in ipairs(ids) do
  local key = ARGV[2] .. id
  local keyType = redis.call("TYPE", key)["ok"]
  local kind, data = "ok", ""
  if keyType == "hash" then
    local msg = redis.call("HGET", key, "msg")
    if msg then
      data = msg
    else
      kind = "nomsg"
    end
  elseif keyType == "none" then
    kind = "missing"
  else
    kind, data = "wrongtype", keyType
  end
  table.insert(found, id)
  table.insert(found, kind)
  table.insert(found, data)
end
return found
