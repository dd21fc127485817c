-- Enqueues or schedules a tracked task and writes its record, atomically. A unique task first
-- takes its unique key; if another task holds it, nothing is written and the holder's id is
-- returned instead.
--
-- KEYS[1]  N               list of serialized tasks
-- KEYS[2]  N_noti          list of notifications, one per task
-- KEYS[3]  N_scheduled     sorted set: member = 8-byte due time, 8-byte id suffix, task bytes
-- KEYS[4]  N_task_<id>     hash: the task's record (state, ttl, due, member, unique, ...)
-- KEYS[5]  N_unique_<key>  (optional) string: the id of the task holding the unique key
-- ARGV[1]  the task's id (32 hex characters)
-- ARGV[2]  'now', 'in' (ARGV[3] is a delay in ms, on Redis' clock) or 'at' (ARGV[3] is an
--          instant in ms since the epoch, as the caller's clock tells it)
-- ARGV[3]  the time, as ARGV[2] says (ignored for 'now')
-- ARGV[4]  the queue's wake channel (N_wake): told when a scheduled task is the earliest
-- ARGV[5]  a new schedule id suffix (8 bytes) followed by the task's bytes
-- ARGV[6]  how long the record lives past the task's due time while it has not ended (ms)
-- ARGV[7]  how long the record lives once the task has ended (ms)
-- ARGV[8]  how long the unique key lives past the task's due time (ms), with KEYS[5]
--
-- Returns { 1, due time, Redis' time now } (ms), or { 0, the holder's id } when the unique
-- key is held.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local due = now
if ARGV[2] == 'in' then
  due = now + tonumber(ARGV[3])
elseif ARGV[2] == 'at' then
  due = tonumber(ARGV[3])
end
local ahead = math.max(due - now, 0)
if KEYS[5] then
  local holder = redis.call('GET', KEYS[5])
  if holder then
    return { 0, holder }
  end
  redis.call('SET', KEYS[5], ARGV[1], 'PX', ahead + tonumber(ARGV[8]))
end
local record = { 'ttl', ARGV[7] }
if KEYS[5] then
  record[#record + 1] = 'unique'
  record[#record + 1] = KEYS[5]
  record[#record + 1] = 'uttl'
  record[#record + 1] = ARGV[8]
end
if ARGV[2] == 'now' then
  redis.call('RPUSH', KEYS[1], string.sub(ARGV[5], 9))
  redis.call('RPUSH', KEYS[2], '1')
  record[#record + 1] = 'state'
  record[#record + 1] = 'queued'
else
  -- The due time as 8 big-endian bytes (exact: due < 2^53), as schedule.lua writes it.
  local bytes, rest = {}, due
  for i = 8, 1, -1 do
    bytes[i] = rest % 256
    rest = math.floor(rest / 256)
  end
  local member = string.char(unpack(bytes)) .. ARGV[5]
  local head = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  redis.call('ZADD', KEYS[3], due, member)
  if not head[2] or due < tonumber(head[2]) then
    redis.pcall('PUBLISH', ARGV[4], due - now)
  end
  record[#record + 1] = 'state'
  record[#record + 1] = 'scheduled'
  record[#record + 1] = 'due'
  record[#record + 1] = due
  record[#record + 1] = 'member'
  record[#record + 1] = string.sub(member, 1, 16)
end
redis.call('HSET', KEYS[4], unpack(record))
redis.call('PEXPIRE', KEYS[4], ahead + tonumber(ARGV[6]))
return { 1, due, now }
