-- Cancels a scheduled task that is not due yet (not moved into N), atomically.
--
-- KEYS[1]  N_scheduled  sorted set: member = 8-byte due time, 8-byte id suffix, task bytes
-- ARGV[1]  the task's id: the first 16 bytes of its member
--
-- Returns 1 if the task was cancelled, 0 if it was not scheduled (any more): already moved
-- into the queue, cancelled before, or never there.
--
-- Every member starts with its score as big-endian bytes, so the set's order (by score,
-- then by bytes) is also the members' byte order: a lexicographic range finds the first
-- member at or after the id in O(log n), however many tasks share its due time.
local found = redis.call('ZRANGEBYLEX', KEYS[1], '[' .. ARGV[1], '+', 'LIMIT', 0, 1)
if found[1] and string.sub(found[1], 1, 16) == ARGV[1] then
  redis.call('ZREM', KEYS[1], found[1])
  return 1
end
return 0
