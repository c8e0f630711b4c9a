-- register-waiter (@q): renews an idle @q server's hand-over registration when no dequeue went to Redis
-- (its last task was handed over); see include/hand-over.lua.
--
-- KEYS[1]  waiters zset  P:{q}:waiters
-- ARGV[1]  waiter "<lease seconds>:<consumer id>"
-- ARGV[2]  when the registration lapses, Unix ms
-- ARGV[3]  now, Unix ms
--
-- Returns 1.
-- @include register-waiter
registerWaiter(KEYS[1], ARGV[1], ARGV[2], ARGV[3])
return 1
