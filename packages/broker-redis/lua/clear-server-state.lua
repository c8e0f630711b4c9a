-- clear-server-state: deletes a server's published state (Asynq's clearServerStateCmd). The caller also
-- removes both keys from P:servers and P:workers.
--
-- KEYS[1]  server info  P:servers:{<host>:<pid>:<serverId>}
-- KEYS[2]  workers hash P:workers:{<host>:<pid>:<serverId>}
--
-- Returns 1.
redis.call("DEL", KEYS[1])
redis.call("DEL", KEYS[2])
return 1
