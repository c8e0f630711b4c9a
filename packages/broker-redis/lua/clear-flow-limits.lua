-- clear-flow-limits: removes every flow limit and pause of a queue (@q extension) and wakes the servers
-- waiting on it.
--
-- KEYS[1]  flow limits hash  P:{q}:flow
-- KEYS[2]  start log         P:{q}:flow:starts
-- ARGV[1]  notify channel P:{q}:notify
-- ARGV[2]  queue name, the message published on ARGV[1]
--
-- Returns the number of keys deleted.
local deleted = redis.call("DEL", KEYS[1], KEYS[2])
redis.call("PUBLISH", ARGV[1], ARGV[2])
return deleted
