-- Takes up to one task per free worker slot, atomically, and records each task in the
-- processing hash under its slot's id (the delayed protocol's one-task-per-id shape).
--
-- KEYS[1]  N             list of serialized tasks
-- KEYS[2]  N_noti        list of notifications, one per task
-- KEYS[3]  N_processing  hash: slot id -> task bytes
-- ARGV[1]  how many notifications the caller already popped with BLPOP (0 or 1)
-- ARGV[2..] ids of the caller's free slots, in the order they should be filled
--
-- Returns the tasks taken, in order: task i is now held by slot ARGV[i + 1].
-- A notification without a task (possible after a sweeper restored one while a worker was
-- between BLPOP and this script) is consumed and ends the batch; unlike the peers' script,
-- it never raises an error.
local held = tonumber(ARGV[1])
local taken = {}
for i = 2, #ARGV do
  if i - 1 > held and not redis.call('LPOP', KEYS[2]) then
    break
  end
  local task = redis.call('LPOP', KEYS[1])
  if not task then
    break
  end
  redis.call('HSET', KEYS[3], ARGV[i], task)
  taken[#taken + 1] = task
end
return taken
