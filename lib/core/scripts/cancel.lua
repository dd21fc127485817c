-- Cancels a scheduled task that is not due yet (not moved into N), atomically.
--
-- KEYS[1]  N_scheduled        sorted set: task id -> due time
-- KEYS[2]  N_scheduled_tasks  hash: task id -> task bytes
-- ARGV[1]  the task id
--
-- Returns 1 if the task was cancelled, 0 if it was not scheduled (any more): already moved
-- into the queue, cancelled before, or never there.
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('HDEL', KEYS[2], ARGV[1])
  return 1
end
return 0
