-- A worker starts an attempt of a tracked task: unless the task was cancelled while it
-- waited, its record says it runs, and its unique key (if it still holds it) lives its
-- whole ttl again from now, so that it outlasts the attempt it guards.
--
-- KEYS[1]  N_task_<id>     hash: the task's record
-- KEYS[2]  N_unique_<key>  (optional) string: the id of the task holding the unique key
-- ARGV[1]  the task's id (32 hex characters)
--
-- Returns 0 if the task was cancelled (the worker releases it without running it), else 1
-- (also when its record is gone: the task still runs, untracked).
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'cancelled' then
  return 0
end
if state then
  redis.call('HSET', KEYS[1], 'state', 'running')
  redis.call('HDEL', KEYS[1], 'due', 'member')
  redis.call('HINCRBY', KEYS[1], 'attempts', 1)
end
if KEYS[2] and redis.call('GET', KEYS[2]) == ARGV[1] then
  local ttl = tonumber(redis.call('HGET', KEYS[1], 'uttl'))
  if ttl then
    redis.call('PEXPIRE', KEYS[2], ttl)
  end
end
return 1
