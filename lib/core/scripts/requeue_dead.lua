-- Moves dead letters back into their queue, atomically.
--
-- KEYS[1]  N        list of serialized tasks
-- KEYS[2]  N_noti   list of notifications, one per task
-- KEYS[3]  N_dead   list of dead letters (MessagePack maps with the task bytes under "task")
-- ARGV[1..] the exact bytes of the dead-letter entries to requeue
--
-- An entry no longer in N_dead (requeued or purged meanwhile) is skipped, so two callers
-- never requeue the same entry twice. Returns the number of tasks requeued.
local requeued = 0
for i = 1, #ARGV do
  if redis.call('LREM', KEYS[3], 1, ARGV[i]) == 1 then
    local entry = cmsgpack.unpack(ARGV[i])
    redis.call('RPUSH', KEYS[1], entry['task'])
    redis.call('RPUSH', KEYS[2], '1')
    requeued = requeued + 1
  end
end
return requeued
