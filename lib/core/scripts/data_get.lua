-- Takes items from a data queue, after settling what is due, all on Redis' clock:
--   0. with ARGV[5…], first marks those held items done, as data_done.lua does (a consumer
--      loop's done and next get in one call);
--   1. items put with a delay that are due become available (at the tail, by due time; items
--      due at the same instant, such as one put's, by id);
--   2. held items whose lease ended come back (at the head, so they are taken first) if they
--      have attempts left, else are given up: kept as dead letters if they were put so (and
--      ARGV[3] keeps any), else dropped;
--   3. up to ARGV[1] items are taken from the head: with a visibility timeout, each is held
--      (leased) until now + timeout and stays in the hash; without one, it is removed for
--      good (0/1 delivery); a peek only reads them.
-- Steps 1 and 2 each handle at most max(count, 100) items per call (1,000 for a sweep); the
-- next call goes on. A record that is not ours (no data record header: written by something
-- else) is never leased: a get removes it and hands its bytes back as unreadable (and, when
-- leasing, keeps it as a dead letter whose item is those bytes as bin, with 0 attempts).
-- Every record is checked before anything is written for it, so no input makes the script
-- stop half-way.
--
-- KEYS[1]  N_dq          list of the ids of available items
-- KEYS[2]  N_dq_items    hash: id -> record (8-byte header, then the item's bytes)
-- KEYS[3]  N_dq_leases   sorted set: held id -> when its lease ends (ms)
-- KEYS[4]  N_dq_delayed  sorted set: delayed id -> when it becomes available (ms)
-- KEYS[5]  N_dq_dead     list of dead letters
-- ARGV[1]  how many items to take (0: only settle)
-- ARGV[2]  the visibility timeout in ms: > 0 lease, 0 take for good, -1 peek
-- ARGV[3]  dead letters kept at most (the oldest are trimmed); 0: none are kept
-- ARGV[4]  optional: the lease end of the items to mark done first, or '' for any lease
-- ARGV[5…] optional: the ids of the items to mark done first (at most 1,000)
--
-- Returns {lease end (0 without a lease), ms until the next delayed item or lease end (-1:
-- none; only when nothing was taken), items, unreadable, done, settled}: items is one
-- MessagePack array [id, record, id, record, …] (one reply for the whole batch, decoded in one
-- call); unreadable the records that are not ours, as {id, record, …}; done how many of the
-- ARGV[5…] items were marked done; settled the most items of one kind step 1 or 2 settled (a
-- sweep goes on while that reaches the bound).
local count = tonumber(ARGV[1])
local timeout = tonumber(ARGV[2])
local keep = tonumber(ARGV[3])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
-- A sweep (count 0) settles more per call: it takes nothing, and nobody waits on it.
local bound = count > 0 and math.max(count, 100) or 1000
local settled = 0
local died = false

-- The MessagePack header of a str of `size` bytes.
local function strHeader(size)
  if size < 32 then return string.char(0xa0 + size) end
  if size < 256 then return string.char(0xd9, size) end
  if size < 65536 then return string.char(0xda, math.floor(size / 256), size % 256) end
  return string.char(0xdb) .. struct.pack('>I4', size)
end

-- Whether a record has our header: 0x94, 0xcd + attempts, 0xc2/0xc3, 0xcd + returns, item.
local function isRecord(record)
  if #record < 9 then return false end
  local b1, b2, _, _, b5, b6 = string.byte(record, 1, 6)
  return b1 == 0x94 and b2 == 0xcd and (b5 == 0xc2 or b5 == 0xc3) and b6 == 0xcd
end

-- Keeps a dead letter, a MessagePack map {id, item, attempts, diedAt} (`item` is MessagePack
-- bytes), readable from any language.
local function bury(id, item, attempts)
  redis.call('RPUSH', KEYS[5], '\132\162id' .. strHeader(#id) .. id .. '\164item' .. item
    .. '\168attempts\205' .. string.char(math.floor(attempts / 256), attempts % 256)
    .. '\166diedAt\203' .. struct.pack('>d', now))
  died = true
end

-- Keeps a record that is not ours as a dead letter: its bytes as a MessagePack bin.
local function buryForeign(id, record)
  local size = #record
  local header
  if size < 256 then header = string.char(0xc4, size)
  elseif size < 65536 then header = string.char(0xc5, math.floor(size / 256), size % 256)
  else header = string.char(0xc6) .. struct.pack('>I4', size) end
  bury(id, header .. record, 0)
end

local doneCount = 0
if #ARGV > 4 then
  -- Scores compared as strings: Redis writes an integer score as its digits, as the client
  -- writes the lease end, and equal Lua strings compare in constant time.
  local mine = ARGV[4]
  local any = mine == ''
  local done = {}
  local n = 0
  local scores = redis.call('ZMSCORE', KEYS[3], unpack(ARGV, 5))
  for i = 1, #scores do
    local score = scores[i]
    if score and (any or score == mine) then
      n = n + 1
      done[n] = ARGV[i + 4]
    end
  end
  if n > 0 then
    redis.call('ZREM', KEYS[3], unpack(done))
    redis.call('HDEL', KEYS[2], unpack(done))
  end
  doneCount = n
end

local due = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, bound)
if #due > 0 then
  settled = #due
  redis.call('ZREMRANGEBYRANK', KEYS[4], 0, #due - 1)
  redis.call('RPUSH', KEYS[1], unpack(due))
end

local ended = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, bound)
if #ended > 0 then
  settled = math.max(settled, #ended)
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, #ended - 1)
  local back = {}
  for i = #ended, 1, -1 do
    local id = ended[i]
    local record = redis.call('HGET', KEYS[2], id)
    if record then
      if isRecord(record) then
        local a1, a2, flag, _, r1, r2 = string.byte(record, 3, 8)
        local returns = r1 * 256 + r2 + 1
        if returns < a1 * 256 + a2 then
          redis.call('HSET', KEYS[2], id,
            string.sub(record, 1, 6) .. string.char(math.floor(returns / 256), returns % 256)
              .. string.sub(record, 9))
          back[#back + 1] = id
        else
          redis.call('HDEL', KEYS[2], id)
          if flag == 0xc3 and keep > 0 then bury(id, string.sub(record, 9), returns) end
        end
      else
        redis.call('HDEL', KEYS[2], id)
        if keep > 0 then buryForeign(id, record) end
      end
    end
  end
  -- Pushed newest first, so the oldest lands at the head.
  if #back > 0 then redis.call('LPUSH', KEYS[1], unpack(back)) end
end

local leaseEnd = 0
local parts = {}
local unreadable = {}
local taken = 0
if count > 0 then
  local ids = redis.call('LRANGE', KEYS[1], 0, count - 1)
  local found = #ids
  if found > 0 then
    local records = redis.call('HMGET', KEYS[2], unpack(ids))
    local score
    if timeout > 0 then
      leaseEnd = now + timeout
      -- The score as a string: Redis would format a Lua number once per member.
      score = string.format('%d', leaseEnd)
    end
    local leases = {}
    local foreign = {}
    -- Our ids are 16 characters: their MessagePack str header, made once.
    local header16 = string.char(0xb0)
    local p, u, n, f = 0, 0, 0, 0
    for i = 1, found do
      local id, record = ids[i], records[i]
      -- An id whose record is gone (deleted meanwhile) is skipped.
      if record then
        if isRecord(record) then
          -- The whole record (a MessagePack array of four, the item last): no copy of the
          -- item here, the client reads its fourth element.
          local size = #id
          parts[p + 1] = size == 16 and header16 or strHeader(size)
          parts[p + 2] = id
          parts[p + 3] = record
          p = p + 3
          taken = taken + 1
          if score then
            leases[n + 1] = score
            leases[n + 2] = id
            n = n + 2
          end
        else
          unreadable[u + 1] = id
          unreadable[u + 2] = record
          u = u + 2
          f = f + 1
          foreign[f] = id
          if timeout > 0 and keep > 0 then buryForeign(id, record) end
        end
      end
    end
    if timeout >= 0 then
      redis.call('LTRIM', KEYS[1], found, -1)
      if timeout == 0 then
        redis.call('HDEL', KEYS[2], unpack(ids))
      else
        if n > 0 then redis.call('ZADD', KEYS[3], unpack(leases)) end
        if f > 0 then redis.call('HDEL', KEYS[2], unpack(foreign)) end
      end
    end
  end
end
if died then redis.call('LTRIM', KEYS[5], -keep, -1) end

local nextDue = -1
if taken == 0 and #unreadable == 0 then
  for _, key in ipairs({KEYS[3], KEYS[4]}) do
    local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    if #first > 0 then
      local inMs = math.max(tonumber(first[2]) - now, 0)
      if nextDue < 0 or inMs < nextDue then nextDue = inMs end
    end
  end
end
-- A MessagePack array of 2 x taken elements (at most 2,000: array 16).
local items = string.char(0xdc, math.floor(taken * 2 / 256), taken * 2 % 256) .. table.concat(parts)
return {leaseEnd, nextDue, items, unreadable, doneCount, settled}
