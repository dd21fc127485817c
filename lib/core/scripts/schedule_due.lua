-- Reads the periodic schedules that are due, on Redis' clock, with their definitions.
--
-- KEYS[1]  N_schedules       hash: schedule name -> definition bytes
-- KEYS[2]  N_schedule_ticks  sorted set: schedule name -> next tick time (ms)
-- ARGV[1]  the most schedules to return
-- ARGV[2]  how many due schedules to pass over first (ones the caller could not fire)
--
-- Returns { Redis' time now (ms), the next tick time not due yet (ms) or -1 if none,
-- then for each due schedule: name, tick time (ms), definition bytes (false if missing) }.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'WITHSCORES', 'LIMIT', tonumber(ARGV[2]), tonumber(ARGV[1]))
local reply = { now, -1 }
for i = 1, #due, 2 do
  reply[#reply + 1] = due[i]
  reply[#reply + 1] = tonumber(due[i + 1])
  reply[#reply + 1] = redis.call('HGET', KEYS[1], due[i])
end
local later = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. now, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
if later[2] then
  reply[2] = tonumber(later[2])
end
return reply
