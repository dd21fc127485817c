-- Schedules tasks to be enqueued later, atomically.
--
-- KEYS[1]  N_scheduled  sorted set: member = 8-byte due time, 8-byte id suffix, task bytes;
--                       score = the due time in ms (Redis' clock)
-- ARGV[1]  'in' (ARGV[2] is a delay in ms from now, on Redis' clock) or 'at' (ARGV[2] is an
--          instant in ms since the epoch, as the caller's clock tells it)
-- ARGV[3]  the queue's wake channel (N_wake): told when these tasks are the earliest
-- ARGV[4..] one per task: an id suffix (8 bytes, new, unique) followed by the task's bytes
--
-- A task's id is the first 16 bytes of its member (due time and suffix), so two identical
-- tasks stay two tasks, and cancel finds a task from its id alone. Members with one score
-- sort by their bytes: tasks due at one instant leave in the order of their suffixes.
-- Returns { due time, Redis' time now }, both in ms.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local due = tonumber(ARGV[2])
if ARGV[1] == 'in' then
  due = now + due
end
-- The due time as 8 big-endian bytes (exact: due < 2^53).
local bytes, rest = {}, due
for i = 8, 1, -1 do
  bytes[i] = rest % 256
  rest = math.floor(rest / 256)
end
local prefix = string.char(unpack(bytes))
local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local args = {}
for i = 4, #ARGV do
  args[#args + 1] = due
  args[#args + 1] = prefix .. ARGV[i]
  if #args == 1000 or i == #ARGV then
    redis.call('ZADD', KEYS[1], unpack(args))
    args = {}
  end
end
-- Due sooner than every task already there: promoters armed for the old earliest one hear
-- of it at once (PUBLISH reaches subscribers only; nothing is stored). Only a speed-up: a
-- refused PUBLISH (an ACL without it) must not fail a schedule whose tasks are written, so
-- pcall, and its error is dropped.
if not head[2] or due < tonumber(head[2]) then
  redis.pcall('PUBLISH', ARGV[3], due - now)
end
return { due, now }
