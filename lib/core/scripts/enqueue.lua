-- Enqueues tasks, atomically: every task at the tail of N, then one notification each.
--
-- KEYS[1]  N        list of serialized tasks
-- KEYS[2]  N_noti   list of notifications, one per task
-- ARGV     the task bytes, in order
--
-- The keys end up exactly as delayed's MULTI/RPUSH/RPUSH/EXEC leaves them; one script call
-- is cheaper for client and server than a transaction of four commands, and carries a
-- whole batch. Returns the number of tasks enqueued.
local count = #ARGV
for first = 1, count, 1000 do
  local last = math.min(first + 999, count)
  redis.call('RPUSH', KEYS[1], unpack(ARGV, first, last))
end
local ones = {}
for i = 1, math.min(count, 1000) do
  ones[i] = '1'
end
for first = 1, count, 1000 do
  local size = math.min(1000, count - first + 1)
  redis.call('RPUSH', KEYS[2], unpack(ones, 1, size))
end
return count
