-- Counts a data queue's items on Redis' clock, without changing anything: available (what a
-- get could take now, counting delayed items that are due and leases that ended, which the
-- next get settles), held (leases not ended), delayed (not due yet) and dead letters.
--
-- KEYS[1]  N_dq          list of the ids of available items
-- KEYS[2]  N_dq_leases   sorted set: held id -> when its lease ends (ms)
-- KEYS[3]  N_dq_delayed  sorted set: delayed id -> when it becomes available (ms)
-- KEYS[4]  N_dq_dead     list of dead letters
--
-- Returns {available, held, delayed, dead}.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local endedLeases = redis.call('ZCOUNT', KEYS[2], '-inf', now)
local dueDelayed = redis.call('ZCOUNT', KEYS[3], '-inf', now)
return {
  redis.call('LLEN', KEYS[1]) + endedLeases + dueDelayed,
  redis.call('ZCARD', KEYS[2]) - endedLeases,
  redis.call('ZCARD', KEYS[3]) - dueDelayed,
  redis.call('LLEN', KEYS[4]),
}
