-- A worker starts an attempt of a tracked task: unless the task was cancelled while it
-- waited, its record says it runs (and lives at least the pending lifetime again, so that
-- a task retried for long, or a requeued dead letter, keeps its record to the end), and its
-- unique key (if it still holds it) lives its whole ttl again from now, so that it
-- outlasts the attempt it guards.
--
-- KEYS[1]  N_task_<id>     hash: the task's record
-- KEYS[2]  N_unique_<key>  (optional) string: the id of the task holding the unique key
-- ARGV[1]  the task's id (32 hex characters)
-- ARGV[2]  how long the record lives at least while the task has not ended (ms)
--
-- Returns 0 if the task was cancelled (the worker releases it without running it), -1 when
-- its record is gone (the task still runs, untracked), else the attempt's number (1, 2, …).
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'cancelled' then
  return 0
end
local attempt = -1
if state then
  redis.call('HSET', KEYS[1], 'state', 'running')
  redis.call('HDEL', KEYS[1], 'due', 'member')
  attempt = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
  if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
  end
end
if KEYS[2] and redis.call('GET', KEYS[2]) == ARGV[1] then
  local ttl = tonumber(redis.call('HGET', KEYS[1], 'uttl'))
  if ttl then
    redis.call('PEXPIRE', KEYS[2], ttl)
  end
end
return attempt
