-- Schedules tasks to be enqueued later, atomically.
--
-- KEYS[1]  N_scheduled        sorted set: task id -> due time (ms, Redis' clock)
-- KEYS[2]  N_scheduled_tasks  hash: task id -> task bytes
-- ARGV[1]  'in' (ARGV[2] is a delay in ms from now, on Redis' clock) or 'at' (ARGV[2] is an
--          instant in ms since the epoch, as the caller's clock tells it)
-- ARGV[3..] pairs: a task id (new, unique), then the task's bytes
--
-- The id is the member, never the bytes: two identical tasks stay two tasks. Returns
-- { due time, Redis' time now }, both in ms.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local due = tonumber(ARGV[2])
if ARGV[1] == 'in' then
  due = now + due
end
for i = 3, #ARGV, 2 do
  redis.call('ZADD', KEYS[1], due, ARGV[i])
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
return { due, now }
