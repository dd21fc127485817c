-- Puts items into a data queue, atomically: each item's record into the hash, then its id at
-- the tail of the available list, or, with a delay, into the delayed set until it is due.
--
-- KEYS[1]  N_dq          list of the ids of available items
-- KEYS[2]  N_dq_items    hash: id -> record
-- KEYS[3]  N_dq_delayed  sorted set: id -> when it becomes available (ms, Redis' clock)
-- ARGV[1]  the delay in ms (0: available now)
-- ARGV[2]  the wake channel, told the number of items when they are available now
-- ARGV[3]  the items' ids, 16 characters each, end to end
-- ARGV[4]  the items' records, each after its length (uint32, big-endian), end to end
--
-- Two arguments for any number of items: the client writes one buffer, not two per item.
-- Returns the number of items put (also when this very call ran before).
local ids = ARGV[3]
local records = ARGV[4]
local count = #ids / 16
if count ~= math.floor(count) or count == 0 then
  return redis.error_reply('ERR data_put: the ids are not 16 characters each')
end
-- A call that runs twice (a client that sends it again after a reconnect) puts nothing the
-- second time: its ids are new random ones, so the first one present means it ran.
if redis.call('HEXISTS', KEYS[2], string.sub(ids, 1, 16)) == 1 then return count end
-- Read every record before writing anything: a malformed call changes nothing.
local list = {}
local fields = {}
local at = 1
for i = 1, count do
  if at + 3 > #records then
    return redis.error_reply('ERR data_put: the records do not match the ids')
  end
  local size = struct.unpack('>I4', records, at)
  local id = string.sub(ids, i * 16 - 15, i * 16)
  list[i] = id
  fields[2 * i - 1] = id
  fields[2 * i] = string.sub(records, at + 4, at + 3 + size)
  at = at + 4 + size
end
if at ~= #records + 1 then
  return redis.error_reply('ERR data_put: the records do not match the ids')
end
-- 500 pairs per HSET: under Lua's unpack() limit.
for first = 1, 2 * count, 1000 do
  redis.call('HSET', KEYS[2], unpack(fields, first, math.min(first + 999, 2 * count)))
end
local delay = tonumber(ARGV[1])
if delay > 0 then
  local time = redis.call('TIME')
  local due = string.format('%d',
    tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) + delay)
  local args = {}
  for i = 1, count do
    args[#args + 1] = due
    args[#args + 1] = list[i]
    if #args == 2000 then
      redis.call('ZADD', KEYS[3], unpack(args))
      args = {}
    end
  end
  if #args > 0 then redis.call('ZADD', KEYS[3], unpack(args)) end
  return count
end
for first = 1, count, 1000 do
  redis.call('RPUSH', KEYS[1], unpack(list, first, math.min(first + 999, count)))
end
-- A refused PUBLISH (an ACL without the channel) must not fail the put: waiting consumers
-- also look again on their own.
redis.pcall('PUBLISH', ARGV[2], count)
return count
