-- Moves dead letters back into their queue, atomically.
--
-- KEYS[1]  N        list of serialized tasks
-- KEYS[2]  N_noti   list of notifications, one per task
-- KEYS[3]  N_dead   list of dead letters
-- ARGV     pairs: the exact bytes of a dead-letter entry, then the task bytes it holds
--          (the caller decodes the entries: Redis's cmsgpack cannot read binary strings)
--
-- An entry no longer in N_dead (requeued or purged meanwhile) is skipped, so two callers
-- never requeue the same entry twice. Returns the number of tasks requeued.
local requeued = 0
for i = 1, #ARGV, 2 do
  if redis.call('LREM', KEYS[3], 1, ARGV[i]) == 1 then
    redis.call('RPUSH', KEYS[1], ARGV[i + 1])
    redis.call('RPUSH', KEYS[2], '1')
    requeued = requeued + 1
  end
end
return requeued
