-- Extends leases on Redis' clock: each given item still held (its lease has not ended) gets
-- a lease ending now + ARGV[1] ms; with ARGV[2], only if its lease is that one (it ends
-- then), so a consumer can never extend a lease another consumer took after its own ended.
--
-- KEYS[1]  N_dq_leases   sorted set: held id -> when its lease ends (ms)
-- ARGV[1]  the new visibility timeout in ms (> 0)
-- ARGV[2]  the lease end the items must have, or '' for any lease not ended
-- ARGV[3]  the new lease end, or '' for now + ARGV[1] (a big refresh's later calls give the
--          first call's, so one batch keeps one lease)
-- ARGV[4…] item ids
--
-- Returns {the new lease end, id, id, …} for the ids refreshed.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local leaseEnd = tonumber(ARGV[3]) or now + tonumber(ARGV[1])
local mine = tonumber(ARGV[2])
local newScore = string.format('%d', leaseEnd)
local out = {leaseEnd}
local args = {}
for i = 4, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score then
    score = tonumber(score)
    if score > now and (mine == nil or score == mine) then
      out[#out + 1] = ARGV[i]
      args[#args + 1] = newScore
      args[#args + 1] = ARGV[i]
      if #args == 2000 then
        redis.call('ZADD', KEYS[1], 'XX', unpack(args))
        args = {}
      end
    end
  end
end
if #args > 0 then redis.call('ZADD', KEYS[1], 'XX', unpack(args)) end
return out
