-- Puts items into a data queue, atomically: each item's record into the hash, then its id at
-- the tail of the available list, or, with a delay, into the delayed set until it is due.
--
-- KEYS[1]  N_dq          list of the ids of available items
-- KEYS[2]  N_dq_items    hash: id -> record
-- KEYS[3]  N_dq_delayed  sorted set: id -> when it becomes available (ms, Redis' clock)
-- ARGV[1]  the delay in ms (0: available now)
-- ARGV[2]  the wake channel, told the number of items when they are available now
-- ARGV[3…] id, record, id, record, …
--
-- Returns the number of items put.
local delay = tonumber(ARGV[1])
local last = #ARGV
local count = (last - 2) / 2
-- 500 pairs per HSET, 1,000 ids per RPUSH/ZADD: under Lua's unpack() limit.
for first = 3, last, 1000 do
  redis.call('HSET', KEYS[2], unpack(ARGV, first, math.min(first + 999, last)))
end
local args = {}
if delay > 0 then
  local time = redis.call('TIME')
  local due = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) + delay
  for i = 3, last, 2 do
    args[#args + 1] = due
    args[#args + 1] = ARGV[i]
    if #args == 2000 then
      redis.call('ZADD', KEYS[3], unpack(args))
      args = {}
    end
  end
  if #args > 0 then redis.call('ZADD', KEYS[3], unpack(args)) end
  return count
end
for i = 3, last, 2 do
  args[#args + 1] = ARGV[i]
  if #args == 1000 then
    redis.call('RPUSH', KEYS[1], unpack(args))
    args = {}
  end
end
if #args > 0 then redis.call('RPUSH', KEYS[1], unpack(args)) end
-- A refused PUBLISH (an ACL without the channel) must not fail the put: waiting consumers
-- also look again on their own.
redis.pcall('PUBLISH', ARGV[2], count)
return count
