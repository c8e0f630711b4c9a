-- extend-lease: moves the lease expiry of tasks still leased (Asynq's ExtendLease, a ZADD XX) and reports
-- the ones that are not: their lease was lost and the caller must stop acting on them (@q). With a lease
-- token, a task counts as still leased only under that token (its `lease_owner` field): a task that was
-- recovered and taken again by another worker is reported lost to the worker that held it before.
--
-- KEYS[1]      lease zset  P:{q}:lease
-- KEYS[1 + i]  task hash of the i-th task  P:{q}:t:<id>
-- ARGV[1]      new lease expiry, Unix seconds
-- ARGV[2i]     id of the i-th task
-- ARGV[2i + 1] its lease token, or "" to skip the token check
--
-- Returns the ids that were not in the lease set, or not under their token.
--
-- Cost: one HGET per task with a token, and one ZADD XX CH per 500 tasks. ZADD XX never adds a member; CH
-- counts the members whose score moved, so when it counts every task they were all still leased. Only
-- when it counts fewer (a task gone, or extended twice within the same second) is each one looked up.
local lost = {}
local held = {}
for i = 1, (#ARGV - 1) / 2 do
  local id, token = ARGV[2 * i], ARGV[2 * i + 1]
  if token == "" or redis.call("HGET", KEYS[1 + i], "lease_owner") == token then
    table.insert(held, id)
  else
    table.insert(lost, id)
  end
end
local moved = 0
for first = 1, #held, 500 do
  local arguments = { "XX", "CH" }
  for i = first, math.min(first + 499, #held) do
    table.insert(arguments, ARGV[1])
    table.insert(arguments, held[i])
  end
  moved = moved + redis.call("ZADD", KEYS[1], unpack(arguments))
end
if moved < #held then
  for _, id in ipairs(held) do
    if not redis.call("ZSCORE", KEYS[1], id) then
      table.insert(lost, id)
    end
  end
end
return lost
