-- Reads, in one atomic step, how much work a queue still has, for waitForDrained: a single
-- read never catches a task between two keys, because every move the family makes (dequeue,
-- release, retry, backoff, promotion, sweep) is itself one script or transaction.
--
-- KEYS[1]  N             list of serialized tasks
-- KEYS[2]  N_processing  hash: slot id -> task bytes
-- KEYS[3]  N_scheduled   sorted set of scheduled tasks, scored by due time (ms)
-- ARGV[1]  a horizon in ms from now (Redis' clock): scheduled tasks due by then count
--
-- Returns { tasks waiting, tasks held by workers, scheduled tasks due by the horizon }.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
return {
  redis.call('LLEN', KEYS[1]),
  redis.call('HLEN', KEYS[2]),
  redis.call('ZCOUNT', KEYS[3], '-inf', now + tonumber(ARGV[1])),
}
