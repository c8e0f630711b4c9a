-- pause: marks a queue paused (Asynq's Pause, a SETNX of the pause time). Dequeue skips paused queues.
--
-- KEYS[1]  paused flag  P:{q}:paused
-- ARGV[1]  now, Unix seconds (the value)
--
-- Returns 1 when paused now, 0 when it already was.
return redis.call("SETNX", KEYS[1], ARGV[1])
