-- Creates or changes a periodic schedule, atomically. An unchanged definition is left alone,
-- its next tick included: an instance that boots with the definition already in Redis does
-- not reset, duplicate or delay the schedule. A changed one replaces the old once, whichever
-- of many booting instances comes first; the others then find it unchanged.
--
-- KEYS[1]  N_schedules       hash: schedule name -> definition bytes
-- KEYS[2]  N_schedule_ticks  sorted set: schedule name -> next tick time (ms)
-- ARGV[1]  the schedule's name
-- ARGV[2]  its definition bytes
-- ARGV[3]  the time of its first tick (ms), used only if the definition is new or changed
--
-- Returns 0 if the definition was already there (nothing written), 1 if it was created,
-- 2 if it replaced another definition.
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old == ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
if old then
  return 2
end
return 1
