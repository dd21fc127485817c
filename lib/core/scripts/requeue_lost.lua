-- Recovers the lost tasks of one queue (the delayed sweeper), atomically.
--
-- KEYS[1]  N             list of serialized tasks
-- KEYS[2]  N_noti        list of notifications, one per task
-- KEYS[3]  N_processing  hash: worker id -> task bytes
-- ARGV[1]  'look': every processing entry whose worker-id key has expired (its worker died
--          before releasing it) goes back to the tail of N. The worker-id keys are not
--          declared in KEYS, as in the peers' script: fine on one Redis, refused by a Redis
--          Cluster for keys of other slots.
--          'given': ARGV[2..] are worker id, task bytes, worker id, task bytes, …: the entries
--          whose worker-id key the caller found expired (a cluster sweeper reads them outside
--          any script); each goes back to N only if it still holds those bytes, so a worker
--          that released its task (or took another) since keeps what it has.
--
-- Then the notifications are made to match the tasks again: missing ones (a worker killed
-- between BLPOP and dequeue, or the tasks just requeued) are added, stray ones dropped.
-- Returns { tasks requeued, notifications added, notifications dropped }.
local requeued = 0
if ARGV[1] == 'look' then
  local entries = redis.call('HGETALL', KEYS[3])
  for i = 1, #entries, 2 do
    if redis.call('EXISTS', entries[i]) == 0 then
      redis.call('RPUSH', KEYS[1], entries[i + 1])
      redis.call('HDEL', KEYS[3], entries[i])
      requeued = requeued + 1
    end
  end
elseif ARGV[1] == 'given' then
  for i = 2, #ARGV, 2 do
    if redis.call('HGET', KEYS[3], ARGV[i]) == ARGV[i + 1] then
      redis.call('RPUSH', KEYS[1], ARGV[i + 1])
      redis.call('HDEL', KEYS[3], ARGV[i])
      requeued = requeued + 1
    end
  end
else
  return redis.error_reply('requeue_lost: ARGV[1] must be look or given')
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
