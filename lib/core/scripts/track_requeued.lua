-- A tracked task's failed attempt was put back (a retry, at once or after a backoff): its
-- record says it waits or is scheduled again. Never creates a record that expired.
--
-- KEYS[1]  N_task_<id>  hash: the task's record
-- ARGV[1]  'queued' or 'scheduled'
-- ARGV[2]  when scheduled: its due time (ms)
-- ARGV[3]  when scheduled: its schedule id (16 bytes: due time and suffix)
--
-- Returns 1 if the record was there to write, else 0.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'state', ARGV[1])
if ARGV[1] == 'scheduled' then
  redis.call('HSET', KEYS[1], 'due', ARGV[2], 'member', ARGV[3])
else
  redis.call('HDEL', KEYS[1], 'due', 'member')
end
return 1
