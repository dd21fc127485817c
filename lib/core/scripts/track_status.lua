-- Where a tracked task is, read atomically from its record and the schedule.
--
-- KEYS[1]  N_scheduled  sorted set: member = 8-byte due time, 8-byte id suffix, task bytes
-- KEYS[2]  N_task_<id>  hash: the task's record
--
-- Returns { state, progress or false, attempts or false }: state is 'scheduled',
-- 'waiting', 'running', 'done', 'failed', 'dead', 'cancelled', or 'unknown' when there is no
-- record. A scheduled task that a promoter has moved into N already is 'waiting'.
local record = redis.call('HMGET', KEYS[2], 'state', 'member', 'progress', 'attempts')
local state = record[1]
if not state then
  return { 'unknown', false, false }
end
if state == 'queued' then
  state = 'waiting'
elseif state == 'scheduled' and record[2] then
  local found = redis.call('ZRANGEBYLEX', KEYS[1], '[' .. record[2], '+', 'LIMIT', 0, 1)
  if not (found[1] and string.sub(found[1], 1, 16) == record[2]) then
    state = 'waiting'
  end
end
return { state, record[3], record[4] }
