-- Recovers the lost tasks of one queue on a Redis Cluster, where a script may touch only
-- keys of its queue's slot: the sweeper reads the processing hash and the workers' liveness
-- keys (which may live in other slots) first, then this script moves each entry it found
-- dead back to the queue, but only if the entry still holds the bytes it read (a worker
-- that released it meanwhile, or took another task under the id, keeps what it has).
--
-- KEYS[1]  N             list of serialized tasks
-- KEYS[2]  N_noti        list of notifications, one per task
-- KEYS[3]  N_processing  hash: worker id -> task bytes
-- ARGV     worker id, task bytes, worker id, task bytes, …: the entries whose worker-id key
--          had expired when the sweeper looked
--
-- Then the notifications are made to match the tasks, as requeue_lost.lua does.
-- Returns { tasks requeued, notifications added, notifications dropped }.
local requeued = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[3], ARGV[i]) == ARGV[i + 1] then
    redis.call('RPUSH', KEYS[1], ARGV[i + 1])
    redis.call('HDEL', KEYS[3], ARGV[i])
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
