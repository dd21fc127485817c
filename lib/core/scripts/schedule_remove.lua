-- Removes a periodic schedule, atomically: no tick of it fires after this. A tick already
-- enqueued stays in the queue and runs.
--
-- KEYS[1]  N_schedules       hash: schedule name -> definition bytes
-- KEYS[2]  N_schedule_ticks  sorted set: schedule name -> next tick time (ms)
-- ARGV[1]  the schedule's name
--
-- Returns 1 if it was there, 0 if not.
redis.call('ZREM', KEYS[2], ARGV[1])
return redis.call('HDEL', KEYS[1], ARGV[1])
