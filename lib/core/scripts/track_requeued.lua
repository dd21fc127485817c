-- A tracked task's failed attempt was put back (a retry, at once or after a backoff): its
-- record says it waits or is scheduled again, if it still says that attempt runs. A later
-- attempt may have started (or ended) already on another worker: its state is newer and is
-- kept. Never creates a record that expired.
--
-- KEYS[1]  N_task_<id>  hash: the task's record
-- ARGV[1]  'queued' or 'scheduled'
-- ARGV[2]  when scheduled: its due time (ms)
-- ARGV[3]  when scheduled: its schedule id (16 bytes: due time and suffix)
-- ARGV[4]  the number of the attempt that failed
--
-- Returns 1 if the record was written, else 0.
local record = redis.call('HMGET', KEYS[1], 'state', 'attempts')
if record[1] ~= 'running' or record[2] ~= ARGV[4] then
  return 0
end
redis.call('HSET', KEYS[1], 'state', ARGV[1])
if ARGV[1] == 'scheduled' then
  redis.call('HSET', KEYS[1], 'due', ARGV[2], 'member', ARGV[3])
else
  redis.call('HDEL', KEYS[1], 'due', 'member')
end
return 1
