-- Takes up to one task per free worker slot, atomically, and records each task in the
-- processing hash under its slot's id (the delayed protocol's one-task-per-id shape).
--
-- KEYS[1]  N             list of serialized tasks
-- KEYS[2]  N_noti        list of notifications, one per task
-- KEYS[3]  N_processing  hash: slot id -> task bytes
-- KEYS[4]  N_paused      string: exists while the queue is paused
-- ARGV[1]  how many notifications the caller already popped with BLPOP (0 or 1)
-- ARGV[2..] ids of the caller's free slots, in the order they should be filled
--
-- Returns the tasks taken, in order: task i is now held by slot ARGV[i + 1]; or the string
-- 'paused' when the queue is paused: then it takes nothing and puts a notification the caller
-- already popped back, so the task it stands for waits with the others.
-- One notification is consumed per task. Notifications beyond the tasks present are strays
-- (possible after a sweeper restored one while a worker was between BLPOP and this script):
-- they are consumed and ignored; unlike the peers' script, this never raises an error.
-- Uses LPOP with a count (Redis 6.2+): one call per list instead of one per task.
local held = tonumber(ARGV[1])
if redis.call('EXISTS', KEYS[4]) == 1 then
  if held == 1 then
    redis.call('RPUSH', KEYS[2], '1')
  end
  return 'paused'
end
local wanted = #ARGV - 1
local count = held
if wanted > held then
  local popped = redis.call('LPOP', KEYS[2], wanted - held)
  if popped then
    count = count + #popped
  end
end
if count == 0 then
  return {}
end
local tasks = redis.call('LPOP', KEYS[1], count)
if not tasks then
  return {}
end
local fields = {}
for i = 1, #tasks do
  fields[#fields + 1] = ARGV[i + 1]
  fields[#fields + 1] = tasks[i]
  if #fields == 1000 or i == #tasks then
    redis.call('HSET', KEYS[3], unpack(fields))
    fields = {}
  end
end
return tasks
