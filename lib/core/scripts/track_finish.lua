-- Ends a tracked task, atomically: releases the worker's hold on it (and writes its dead
-- letter, if it died), stores its outcome in its record for the record's ttl, frees its
-- unique key if it still holds it, and tells waiters (PUBLISH on N_done; waiters that miss
-- it read the record).
--
-- KEYS[1]  N_processing    hash: slot id -> task bytes
-- KEYS[2]  N_dead          list of dead letters
-- KEYS[3]  N_task_<id>     hash: the task's record
-- KEYS[4]  N_unique_<key>  (optional) string: the id of the task holding the unique key
-- ARGV[1]  the slot id that held the task ('' when no worker holds it)
-- ARGV[2]  the task's id (32 hex characters)
-- ARGV[3]  its end: 'done', 'failed', 'dead' or 'cancelled'
-- ARGV[4]  the record field of the outcome: 'result' or 'error' ('' for none)
-- ARGV[5]  the outcome's MessagePack bytes
-- ARGV[6]  the queue's done channel (N_done)
-- ARGV[7]  the dead letter's bytes ('' for none)
-- ARGV[8]  how many dead letters the queue keeps
-- ARGV[9]  the largest outcome the message carries (bytes); a larger one is only stored
--
-- The message on N_done is the id, then, when the record was written and the outcome is
-- small enough, ' ', the end, ' ', the field's first letter ('r' or 'e', '-' for none), ' '
-- and the outcome's bytes: the same as the record holds, so a waiter needs no read.
-- Returns 1 if the record was there to write, else 0.
if ARGV[1] ~= '' then
  redis.call('HDEL', KEYS[1], ARGV[1])
end
if ARGV[7] ~= '' then
  redis.call('RPUSH', KEYS[2], ARGV[7])
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[8]), -1)
end
local written = 0
if redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('HSET', KEYS[3], 'state', ARGV[3])
  redis.call('HDEL', KEYS[3], 'due', 'member')
  if ARGV[4] ~= '' then
    redis.call('HSET', KEYS[3], ARGV[4], ARGV[5])
  end
  redis.call('PEXPIRE', KEYS[3], tonumber(redis.call('HGET', KEYS[3], 'ttl')) or 1)
  written = 1
end
if KEYS[4] and redis.call('GET', KEYS[4]) == ARGV[2] then
  redis.call('DEL', KEYS[4])
end
-- Only a speed-up for waiters (they re-read records after a reconnect and time out): a
-- refused PUBLISH must not fail the task's end.
local message = ARGV[2]
if written == 1 and #ARGV[5] <= tonumber(ARGV[9]) then
  local field = '-'
  if ARGV[4] ~= '' then
    field = string.sub(ARGV[4], 1, 1)
  end
  message = message .. ' ' .. ARGV[3] .. ' ' .. field .. ' ' .. ARGV[5]
end
redis.pcall('PUBLISH', ARGV[6], message)
return written
