-- Takes tasks like dequeue.lua, but never more than the queue's rate limit allows: at most
-- ARGV[2] tasks started in any window of ARGV[3] ms, across every worker of the queue, on
-- Redis' clock. The starts of the last window are a log in N_rate (a sorted set of at most
-- ARGV[2] entries, expiring with the window), so a window never holds more than its limit,
-- at its edges included.
--
-- KEYS[1]  N             list of serialized tasks
-- KEYS[2]  N_noti        list of notifications, one per task
-- KEYS[3]  N_processing  hash: slot id -> task bytes
-- KEYS[4]  N_rate        sorted set: one member per task started in the last window
-- KEYS[5]  N_paused      string: exists while the queue is paused
-- ARGV[1]  how many notifications the caller already popped with BLPOP (0 or 1)
-- ARGV[2]  the most tasks started per window
-- ARGV[3]  the window, in ms
-- ARGV[4..] ids of the caller's free slots, in the order they should be filled
--
-- Returns { ms until the limit lets another task start (0 if it did not stop this call),
-- the tasks taken }, or the string 'paused' like dequeue.lua (the log is left alone: a
-- paused queue starts nothing). A held notification the limit or the pause leaves unused is
-- put back.
local held = tonumber(ARGV[1])
if redis.call('EXISTS', KEYS[5]) == 1 then
  if held == 1 then
    redis.call('RPUSH', KEYS[2], '1')
  end
  return 'paused'
end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - window)
local allowed = limit - redis.call('ZCARD', KEYS[4])
local wanted = math.min(#ARGV - 3, allowed)
if wanted <= 0 then
  if held == 1 then
    redis.call('RPUSH', KEYS[2], '1')
  end
  local oldest = redis.call('ZRANGE', KEYS[4], 0, 0, 'WITHSCORES')
  return { math.max(1, math.ceil(tonumber(oldest[2]) + window - now)), {} }
end
local count = held
if wanted > held then
  local popped = redis.call('LPOP', KEYS[2], wanted - held)
  if popped then
    count = count + #popped
  end
end
if count == 0 then
  return { 0, {} }
end
local tasks = redis.call('LPOP', KEYS[1], count)
if not tasks then
  return { 0, {} }
end
local fields = {}
local starts = {}
for i = 1, #tasks do
  fields[#fields + 1] = ARGV[i + 3]
  fields[#fields + 1] = tasks[i]
  -- Slot ids are unique, and a slot starts one task at a time: with the exact time (the
  -- strings TIME gave, not a rounded number), each start is a member of its own.
  starts[#starts + 1] = now
  starts[#starts + 1] = ARGV[i + 3] .. '@' .. clock[1] .. '.' .. clock[2]
  if #fields == 1000 or i == #tasks then
    redis.call('HSET', KEYS[3], unpack(fields))
    redis.call('ZADD', KEYS[4], unpack(starts))
    fields = {}
    starts = {}
  end
end
redis.call('PEXPIRE', KEYS[4], math.ceil(window))
return { 0, tasks }
