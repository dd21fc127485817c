-- Fires one tick of a periodic schedule: enqueues the tick's task and advances the schedule
-- to its next tick, atomically, and only if the schedule is still as the caller read it
-- (compare-and-set). Any number of instances may try to fire the same tick; one succeeds.
-- The tick is named by its time (ARGV[3]), so a caller's clock decides at most who fires
-- it, never how often.
--
-- KEYS[1]  N                 list of serialized tasks
-- KEYS[2]  N_noti            list of notifications, one per task
-- KEYS[3]  N_schedules       hash: schedule name -> definition bytes
-- KEYS[4]  N_schedule_ticks  sorted set: schedule name -> next tick time (ms)
-- ARGV[1]  the schedule's name
-- ARGV[2]  its definition bytes, as the caller read them
-- ARGV[3]  the tick's time (ms): the next tick time the caller read
-- ARGV[4]  the time of the tick after it (ms)
-- ARGV[5]  the tick's task bytes (plain peer bytes)
--
-- Returns 1 if fired; 0 if the tick was fired already (by another instance); -1 if the
-- schedule was changed or removed meanwhile; -2 if the tick is not due on Redis' clock.
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then
  return -1
end
local stored = redis.call('ZSCORE', KEYS[4], ARGV[1])
if not stored or tonumber(stored) ~= tonumber(ARGV[3]) then
  return 0
end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
if tonumber(ARGV[3]) > now then
  return -2
end
redis.call('RPUSH', KEYS[1], ARGV[5])
redis.call('RPUSH', KEYS[2], '1')
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
return 1
