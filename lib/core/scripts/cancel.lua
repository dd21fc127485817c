-- Cancels a scheduled task that is not due yet (not moved into N), atomically.
--
-- KEYS[1]  N_scheduled  sorted set: member = 8-byte due time, 8-byte id suffix, task bytes
-- ARGV[1]  the task's due time (ms), read from its id
-- ARGV[2]  the task's id: the first 16 bytes of its member
--
-- Returns 1 if the task was cancelled, 0 if it was not scheduled (any more): already moved
-- into the queue, cancelled before, or never there.
local offset = 0
while true do
  local members = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], ARGV[1], 'LIMIT', offset, 1000)
  for i = 1, #members do
    if string.sub(members[i], 1, 16) == ARGV[2] then
      redis.call('ZREM', KEYS[1], members[i])
      return 1
    end
  end
  if #members < 1000 then
    return 0
  end
  offset = offset + 1000
end
