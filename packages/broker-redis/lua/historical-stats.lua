-- historical-stats: daily processed and failed counts (Asynq's historicalStatsCmd).
--
-- KEYS     pairs of P:{q}:processed:<YYYY-MM-DD>, P:{q}:failed:<YYYY-MM-DD>, newest day first
--
-- Returns one integer per key, 0 for a missing counter.
local counts = {}
for i = 1, #KEYS do
  counts[i] = tonumber(redis.call("GET", KEYS[i]) or 0)
end
return counts
