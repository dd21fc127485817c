-- Cancels a tracked task that has not started, atomically. A scheduled task leaves the
-- schedule; a task already in N stays there, but its record says cancelled, and the worker
-- that takes it releases it without running it (track_start.lua). Its unique key is freed
-- and waiters are told.
--
-- KEYS[1]  N_scheduled     sorted set: member = 8-byte due time, 8-byte id suffix, task bytes
-- KEYS[2]  N_task_<id>     hash: the task's record
-- KEYS[3]  N_unique_<key>  (optional) string: the id of the task holding the unique key
-- ARGV[1]  the task's id (32 hex characters)
-- ARGV[2]  the queue's done channel (N_done)
--
-- Returns 1 if it was cancelled, 0 if it had started or ended already, -1 if it has no
-- record (never tracked, or its record expired).
local state = redis.call('HGET', KEYS[2], 'state')
if not state then
  return -1
end
-- Whether its bytes are still in N (or on their way there): the record is then the only
-- thing that keeps a worker from running it, so it must not expire before the task could.
local inQueue = state == 'queued'
if state == 'scheduled' then
  inQueue = true
  local member = redis.call('HGET', KEYS[2], 'member')
  if member then
    local found = redis.call('ZRANGEBYLEX', KEYS[1], '[' .. member, '+', 'LIMIT', 0, 1)
    if found[1] and string.sub(found[1], 1, 16) == member then
      redis.call('ZREM', KEYS[1], found[1])
      inQueue = false
    end
  end
elseif state ~= 'queued' then
  return 0
end
redis.call('HSET', KEYS[2], 'state', 'cancelled')
redis.call('HDEL', KEYS[2], 'due', 'member')
local ttl = tonumber(redis.call('HGET', KEYS[2], 'ttl')) or 1
if not inQueue or ttl > redis.call('PTTL', KEYS[2]) then
  redis.call('PEXPIRE', KEYS[2], ttl)
end
if KEYS[3] and redis.call('GET', KEYS[3]) == ARGV[1] then
  redis.call('DEL', KEYS[3])
end
redis.pcall('PUBLISH', ARGV[2], ARGV[1])
return 1
