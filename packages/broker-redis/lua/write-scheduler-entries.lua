-- write-scheduler-entries: replaces a scheduler's published entries, expiring after the TTL (Asynq's
-- writeSchedulerEntriesCmd; LPUSH, so the list holds them in reverse order). With no entries the key
-- does not exist afterwards. The caller also scores the key in P:schedulers.
--
-- KEYS[1]  entries list  P:schedulers:{<host>:<pid>:<schedulerId>}
-- ARGV[1]  TTL, whole seconds
-- ARGV[2..] encoded SchedulerEntry messages
--
-- Returns 1.
redis.call("DEL", KEYS[1])
for i = 2, #ARGV do
  redis.call("LPUSH", KEYS[1], ARGV[i])
end
redis.call("EXPIRE", KEYS[1], ARGV[1])
return 1
