-- record-scheduler-enqueue-event: adds an enqueue event to a scheduler entry's history, keeping the
-- newest max-events (Asynq's recordSchedulerEnqueueEventCmd).
--
-- KEYS[1]  history zset  P:scheduler_history:<entryId>
-- ARGV[1]  enqueue time, Unix seconds (the score)
-- ARGV[2]  encoded SchedulerEnqueueEvent
-- ARGV[3]  max events, 1000
--
-- Returns 1.
redis.call("ZREMRANGEBYRANK", KEYS[1], 0, -tonumber(ARGV[3]))
redis.call("ZADD", KEYS[1], ARGV[1], ARGV[2])
return 1
