-- Recovers the lost tasks of one queue (the delayed sweeper), atomically.
--
-- KEYS[1]  N             list of serialized tasks
-- KEYS[2]  N_noti        list of notifications, one per task
-- KEYS[3]  N_processing  hash: worker id -> task bytes
--
-- 1. Every processing entry whose worker-id key has expired (its worker died before
--    releasing it) goes back to the tail of N.
-- 2. The notifications are made to match the tasks again: missing ones (a worker killed
--    between BLPOP and dequeue, or the tasks just requeued) are added, stray ones dropped.
-- Returns { tasks requeued, notifications added, notifications dropped }.
--
-- The worker-id keys are not declared in KEYS, as in the peers' script: fine on one Redis,
-- not in Redis Cluster, where liveness must be read outside the script.
local requeued = 0
local entries = redis.call('HGETALL', KEYS[3])
for i = 1, #entries, 2 do
  if redis.call('EXISTS', entries[i]) == 0 then
    redis.call('RPUSH', KEYS[1], entries[i + 1])
    redis.call('HDEL', KEYS[3], entries[i])
    requeued = requeued + 1
  end
end

local tasks = redis.call('LLEN', KEYS[1])
local missing = tasks - redis.call('LLEN', KEYS[2])
if missing > 0 then
  local batch = {}
  for i = 1, missing do
    batch[#batch + 1] = '1'
    if #batch == 1000 or i == missing then
      redis.call('LPUSH', KEYS[2], unpack(batch))
      batch = {}
    end
  end
  return { requeued, missing, 0 }
end
if missing < 0 then
  if tasks == 0 then
    redis.call('DEL', KEYS[2])
  else
    redis.call('LTRIM', KEYS[2], -tasks, -1)
  end
  return { requeued, 0, -missing }
end
return { requeued, 0, 0 }
