-- Puts dead letters back into their data queue, atomically per letter: each letter still in
-- the list (named by its exact bytes) is removed from it and its item made available again
-- under its id, with a fresh record (attempts counted anew).
--
-- KEYS[1]  N_dq          list of the ids of available items
-- KEYS[2]  N_dq_items    hash: id -> record
-- KEYS[3]  N_dq_dead     list of dead letters
-- ARGV[1]  the wake channel
-- ARGV[2…] letter bytes, id, record, letter bytes, id, record, …
--
-- Returns the number of letters requeued.
local requeued = 0
for i = 2, #ARGV, 3 do
  if redis.call('LREM', KEYS[3], 1, ARGV[i]) == 1 then
    redis.call('HSET', KEYS[2], ARGV[i + 1], ARGV[i + 2])
    redis.call('RPUSH', KEYS[1], ARGV[i + 1])
    requeued = requeued + 1
  end
end
if requeued > 0 then redis.pcall('PUBLISH', ARGV[1], requeued) end
return requeued
