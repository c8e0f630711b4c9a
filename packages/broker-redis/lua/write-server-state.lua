-- write-server-state: publishes a server's state and the tasks it runs, both expiring after the TTL
-- (Asynq's writeServerStateCmd). The caller also scores both keys in P:servers and P:workers.
--
-- KEYS[1]  server info  P:servers:{<host>:<pid>:<serverId>}
-- KEYS[2]  workers hash P:workers:{<host>:<pid>:<serverId>}
-- ARGV[1]  TTL, whole seconds
-- ARGV[2]  encoded ServerInfo
-- ARGV[3..] pairs of task id, encoded WorkerInfo
--
-- Returns 1.
redis.call("SETEX", KEYS[1], ARGV[1], ARGV[2])
redis.call("DEL", KEYS[2])
for i = 3, #ARGV - 1, 2 do
  redis.call("HSET", KEYS[2], ARGV[i], ARGV[i + 1])
end
redis.call("EXPIRE", KEYS[2], ARGV[1])
return 1
