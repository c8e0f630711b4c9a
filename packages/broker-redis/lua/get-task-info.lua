-- get-task-info: one task's record (Asynq's getTaskInfoCmd), with its lease expiry for active tasks.
--
-- KEYS[1]  task hash   P:{q}:t:<id>
-- KEYS[2]  lease zset  P:{q}:lease
-- ARGV[1]  task id
-- ARGV[2]  queue key prefix P:{q}:
--
-- Returns false (nil) when the task does not exist, else { msg, state, score, result, lease }: score is
-- the scheduled or retry zset score ("0" otherwise), lease the lease expiry of an active task ("" when
-- none); msg and result may be false.
if redis.call("EXISTS", KEYS[1]) == 0 then
  return false
end
local fields = redis.call("HMGET", KEYS[1], "msg", "state", "result")
local state = fields[2]
local score = "0"
local lease = ""
if state == "scheduled" or state == "retry" then
  score = redis.call("ZSCORE", ARGV[2] .. state, ARGV[1]) or "0"
elseif state == "active" then
  lease = redis.call("ZSCORE", KEYS[2], ARGV[1]) or ""
end
return { fields[1], state or "", score, fields[3], lease }
