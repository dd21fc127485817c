-- Moves scheduled tasks that are due into the queue, atomically: each one's bytes at the
-- tail of N and its notification, exactly like an enqueue, so any family member's worker
-- runs it. Idempotent: any number of workers and sweepers may call it, a task moves once.
--
-- KEYS[1]  N            list of serialized tasks
-- KEYS[2]  N_noti       list of notifications, one per task
-- KEYS[3]  N_scheduled  sorted set: member = 8-byte due time, 8-byte id suffix, task bytes
-- ARGV[1]  the most tasks to move in this call (at most 1000: unpack() has a limit)
--
-- Returns { tasks moved, Redis' time now (ms), the next due time (ms) or -1 if none }.
-- A caller that moved ARGV[1] tasks calls again: more may be due.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
local moved = #due
if moved > 0 then
  local tasks = {}
  local ones = {}
  for i = 1, moved do
    tasks[i] = string.sub(due[i], 17)
    ones[i] = '1'
  end
  redis.call('RPUSH', KEYS[1], unpack(tasks))
  redis.call('RPUSH', KEYS[2], unpack(ones))
  -- The members just read are the lowest-ranked ones.
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, moved - 1)
end
local next = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
local nextDue = -1
if next[2] then
  nextDue = tonumber(next[2])
end
return { moved, now, nextDue }
