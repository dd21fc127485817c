-- Stores a running tracked task's progress in its record; never creates a record that
-- expired.
--
-- KEYS[1]  N_task_<id>  hash: the task's record
-- ARGV[1]  the progress, as MessagePack bytes
--
-- Returns 1 if the record was there to write, else 0.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'progress', ARGV[1])
return 1
