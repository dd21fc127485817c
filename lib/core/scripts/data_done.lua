-- Marks held items done: removes each given item that is held, with its record. With
-- ARGV[1], only items held under that lease (ending then): a consumer whose lease ran out and
-- whose item another consumer took since cannot remove it from under that consumer. A lease
-- that ran out but was not taken over still counts: nobody else has the item.
--
-- KEYS[1]  N_dq_items    hash: id -> record
-- KEYS[2]  N_dq_leases   sorted set: held id -> when its lease ends (ms)
-- ARGV[1]  the lease end the items must have, or '' for any lease
-- ARGV[2…] item ids (at most 1,000)
--
-- Returns the number of items done.
-- Scores compared as strings: Redis writes an integer score as its digits, as the client
-- writes the lease end, and equal Lua strings compare in constant time.
local mine = ARGV[1]
local any = mine == ''
local done = {}
local n = 0
local scores = redis.call('ZMSCORE', KEYS[2], unpack(ARGV, 2))
for i = 1, #scores do
  local score = scores[i]
  if score and (any or score == mine) then
    n = n + 1
    done[n] = ARGV[i + 1]
  end
end
if #done > 0 then
  redis.call('ZREM', KEYS[2], unpack(done))
  redis.call('HDEL', KEYS[1], unpack(done))
end
return #done
