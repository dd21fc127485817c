-- Ends a failed attempt and schedules the next one after a backoff, atomically: the slot's
-- processing entry is released and the next attempt's bytes enter the schedule in one step,
-- so a worker killed at any instant leaves the task either still held (a sweeper reruns the
-- failed attempt) or scheduled, never both and never neither.
--
-- KEYS[1]  N_processing  hash: slot id -> task bytes
-- KEYS[2]  N_scheduled   sorted set: member = 8-byte due time, 8-byte id suffix, task bytes
-- ARGV[1]  the slot id that held the failed attempt
-- ARGV[2]  the wait in ms, from now on Redis' clock
-- ARGV[3]  a new id suffix (8 bytes) followed by the next attempt's bytes
--
-- Returns { due time, Redis' time now }, both in ms.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local due = now + tonumber(ARGV[2])
local bytes, rest = {}, due
for i = 8, 1, -1 do
  bytes[i] = rest % 256
  rest = math.floor(rest / 256)
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], due, string.char(unpack(bytes)) .. ARGV[3])
return { due, now }
