-- Pauses a queue: no worker of ours takes a task from it until it is resumed (the dequeue
-- scripts check N_paused first, so from this call on the pause is exact, not eventual).
--
-- KEYS[1]  N_paused  string: exists while the queue is paused
--
-- The value is when the queue was paused, in ms on Redis' clock, for whoever shows the pause;
-- it has no expiry (a pause is the user's decision, and only a resume ends it). A queue paused
-- already keeps its first time. Returns 1 if the queue was not paused, else 0.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
if redis.call('SET', KEYS[1], now, 'NX') then
  return 1
end
return 0
