"""The audit of streams that agents append to: undo what an agent's own Redis user can do to
them beyond appending an answer or a dead letter.

Redis ACL rules name commands and keys, never arguments: a user that may ``XADD`` to a results
stream (or to its capabilities' task dead-letter streams, ``services.registry.bus_access``)
also picks the entry's id and may pass ``MAXLEN``/``MINID``. So an agent can

- append an entry with an id far ahead of the clock. With the last possible id
  (``18446744073709551615-18446744073709551615``) every later ``XADD *``, of every agent, fails
  ("exhausted the last possible ID"); a group that read such an entry would skip every honest
  answer appended once the stream is set back;
- trim the stream, removing answers no group has read yet, or that a group holds pending.

``AUDIT`` (one script per stream, so atomic, with the server's own clock from ``TIME``) finds
and undoes both:

- an entry whose id is more than ``ahead_ms`` past the server's clock is forged: it goes to the
  stream's dead-letter stream with the reason, and is deleted. The stream's last id, its
  entries-added counter, and any group that had read past the clock are set back, so that
  appends work again and nothing honest is skipped;
- trimmed answers: our own trimming (``RedisStreamsTransport.trim``) removes only entries
  every group has read and acknowledged. Redis counts the entries ever added to a stream and
  the entries each group has read, so when the stream holds no entry the group has read, it
  should hold every one it has not (``entries-added - entries-read``): any fewer were trimmed
  unread. A pending entry older than the stream's first entry was trimmed while held.
  Each is counted, and the group's counters are set to what the stream now holds, so the same
  loss is counted once.

The caller recovers what was lost: the orchestrator sends again the tasks in flight whose
answers may have gone (``services.orchestrator.redelivery``).

A dead-letter stream has no group, and a capability's is shared by all its agents (a shared
capability's by agents of every tenant): a forged last id there makes every other agent's
dead-lettering fail (the entry stays pending with the agent, and is dead-lettered once the
audit has set the stream back), and trimming it erases the evidence. Its forged entries go to
its own dead-letter stream (``<it>.dlq``) the same way. Trimmed dead letters cannot be brought
back (Redis cannot refuse a trim to a user that may append), only counted: MODX counts what it
removes itself (``streams.removals``: replayed, discarded, or trimmed past ``maxlen``), and
Redis counts what was ever added, so any other missing entry was removed by an agent.

Requires Redis 7.0 (the counters, ``XSETID ... ENTRIESADDED``, ``XGROUP SETID ... ENTRIESREAD``).
"""

from __future__ import annotations

from dataclasses import dataclass

FORGED_REASON = "forged: entry id ahead of the server's clock (an agent chose it)"

# KEYS[1]: the stream; KEYS[2]: its dead-letter stream; KEYS[3] (a dead-letter stream's
# audit only): the count of entries MODX removed from it (``streams.removals``); KEYS[4] (the
# same): the last id whose size was checked (``streams.screened``). ARGV[1]: how far ahead of
# the server's clock an id may be (ms); ARGV[2]: the dead letters' failed_at; ARGV[3]: the
# most forged entries to move (and entries to size) in one call (the rest next time);
# ARGV[4]: the largest entry kept, in bytes of all its fields (0: no bound). Returns {forged,
# lost unread (or removed by another, with KEYS[3]), lost pending, oversized}. Ids are compared as
# strings (a Lua number cannot hold a 64-bit id).
AUDIT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 0, 0} end
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return ms, seq
end
local function num_cmp(a, b)
  if #a ~= #b then return #a < #b and -1 or 1 end
  if a == b then return 0 end
  return a < b and -1 or 1
end
local function cmp(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  local c = num_cmp(am, bm)
  if c ~= 0 then return c end
  return num_cmp(as, bs)
end
local function map(flat)
  local m = {}
  for i = 1, #flat, 2 do m[flat[i]] = flat[i + 1] end
  return m
end
local function stream() return map(redis.call('XINFO', 'STREAM', KEYS[1])) end
local function groups()
  local list = {}
  for _, flat in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
    table.insert(list, map(flat))
  end
  return list
end
local now = redis.call('TIME')
local limit = string.format('%.0f', tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
                            + tonumber(ARGV[1]))
local limit_id = limit .. '-18446744073709551615'

-- Oversized entries (a dead-letter stream's audit, KEYS[4], with a bound, ARGV[4]): removed
-- and told in KEYS[2] without their data. One entry per read, so that the script holds one
-- at a time; KEYS[4] keeps the last id checked (a stream set back below it: from the start).
local oversized = 0
local bound = tonumber(ARGV[4] or '0')
if KEYS[4] and bound > 0 then
  local cursor = redis.call('GET', KEYS[4]) or '0-0'
  if cmp(cursor, stream()['last-generated-id']) > 0 then cursor = '0-0' end
  for _ = 1, tonumber(ARGV[3]) do
    local entry = redis.call('XRANGE', KEYS[1], '(' .. cursor, limit_id, 'COUNT', 1)[1]
    if entry == nil then break end
    cursor = entry[1]
    local size = 0
    for _, part in ipairs(entry[2]) do size = size + #part end
    if size > bound then
      redis.call('XADD', KEYS[2], '*', 'data', '', 'reason', 'too large: ' .. size
                 .. ' bytes, over the bound of ' .. bound .. ' (MODX_BUS_MAX_ENTRY_BYTES); '
                 .. 'removed from the stream, its data not kept',
                 'deliveries', '0', 'stream', KEYS[1], 'original_id', entry[1],
                 'group', '', 'consumer', '', 'failed_at', ARGV[2])
      redis.call('XDEL', KEYS[1], entry[1])
      redis.call('INCRBY', KEYS[3], 1)  -- removed by MODX
      oversized = oversized + 1
    end
  end
  redis.call('SET', KEYS[4], cursor)
end

-- Trimmed answers, per group: unread ones, then pending ones.
local info = stream()
local first = info['first-entry'] and info['first-entry'][1] or nil
local lost, lost_pending = 0, 0
for _, g in ipairs(groups()) do
  local seen = g['last-delivered-id']
  if first == nil or cmp(first, seen) > 0 then
    -- The stream holds nothing this group has read: it should hold all it has not.
    -- Redis leaves a group's counter unknown until its first read: then it has read none.
    local read = g['entries-read'] or (seen == '0-0' and 0)
    if read then
      local missing = info['entries-added'] - read - info['length']
      if missing > 0 then
        lost = lost + missing
        redis.call('XGROUP', 'SETID', KEYS[1], g['name'], seen,
                   'ENTRIESREAD', info['entries-added'] - info['length'])
      end
    elseif info['length'] == 0 and cmp(info['last-generated-id'], seen) > 0 then
      lost = lost + 1  -- at least the last one added
      redis.call('XGROUP', 'SETID', KEYS[1], g['name'], info['last-generated-id'],
                 'ENTRIESREAD', info['entries-added'])
    end
  end
  if g['pending'] > 0 then
    local below = first and ('(' .. first) or '+'
    local gone = redis.call('XPENDING', KEYS[1], g['name'], '-', below, 1000)
    if #gone > 0 then
      local ids = {}
      for i, entry in ipairs(gone) do ids[i] = entry[1] end
      lost_pending = lost_pending + redis.call('XACK', KEYS[1], g['name'], unpack(ids))
    end
  end
end

-- Removals from a stream without groups (dead letters): MODX counts its own in KEYS[3].
if KEYS[3] then
  local gone = info['entries-added'] - info['length']
  local known = tonumber(redis.call('GET', KEYS[3]) or '0')
  if gone > known then lost = lost + gone - known end
  if gone ~= known then redis.call('SET', KEYS[3], gone) end  -- counted once
end

-- Forged ids: ahead of the server's clock.
local ahead = redis.call('XRANGE', KEYS[1], '(' .. limit_id, '+', 'COUNT', tonumber(ARGV[3]))
local removed = {}
for i, entry in ipairs(ahead) do
  local fields = map(entry[2])
  -- A dead letter keeps what it said: it may be an honest one appended after a forged id.
  local said = fields['reason'] and ('; its own reason: ' .. fields['reason']) or ''
  local data = fields['data'] or ''
  if bound > 0 and #data > bound then data = '' end  -- not copied: the reason says forged
  redis.call('XADD', KEYS[2], '*', 'data', data, 'reason', 'forged: entry id '
             .. entry[1] .. ' is ahead of the server clock (' .. limit .. ' ms with the skew '
             .. 'allowance); an agent chose it' .. said,
             'deliveries', fields['deliveries'] or '0', 'stream', KEYS[1],
             'original_id', entry[1], 'group', fields['group'] or '',
             'consumer', fields['consumer'] or '', 'failed_at', ARGV[2])
  removed[i] = entry[1]
end
if #removed > 0 then redis.call('XDEL', KEYS[1], unpack(removed)) end
info = stream()
if #removed > 0 or cmp(info['last-generated-id'], limit_id) > 0 then
  local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
  top = top and top[1] or '0-1'
  if cmp(top, limit_id) > 0 then  -- more forged entries are left: next time
    if KEYS[3] then redis.call('INCRBY', KEYS[3], #removed) end  -- removed by MODX
  else
    local marks = groups()
    local last = top
    for _, g in ipairs(marks) do
      local seen = g['last-delivered-id']
      if cmp(seen, limit_id) <= 0 and cmp(seen, last) > 0 then last = seen end
    end
    -- Deleted entries that were never honest are taken out of the counters too.
    redis.call('XSETID', KEYS[1], last, 'ENTRIESADDED', info['entries-added'] - #removed,
               'MAXDELETEDID', '0-1')
    for _, g in ipairs(marks) do
      if #removed > 0 then redis.call('XACK', KEYS[1], g['name'], unpack(removed)) end
      for _, id in ipairs(removed) do  -- unread: perhaps honest answers appended after it
        if cmp(id, g['last-delivered-id']) > 0 then lost = lost + 1 end
      end
      if cmp(g['last-delivered-id'], limit_id) > 0 then
        local args = {'XGROUP', 'SETID', KEYS[1], g['name'], last}
        if g['entries-read'] then
          local read_ahead = 0
          for _, id in ipairs(removed) do
            if cmp(id, g['last-delivered-id']) <= 0 then read_ahead = read_ahead + 1 end
          end
          table.insert(args, 'ENTRIESREAD')
          table.insert(args, math.max(0, g['entries-read'] - read_ahead))
        end
        redis.call(unpack(args))
      end
    end
  end
end
return {#removed, lost, lost_pending, oversized}
"""


@dataclass(frozen=True)
class Audit:
    """What the audit of one stream found (and undid)."""

    stream: str
    forged: int = 0
    """Entries with ids ahead of the clock, moved to the dead-letter stream."""
    lost: int = 0
    """Entries trimmed, or forged ones removed, before a group read them (a forged entry's
    unread successors may be honest answers); of a dead-letter stream: entries removed by
    anyone but MODX."""
    lost_pending: int = 0
    """Entries trimmed while a group held them unacknowledged."""
    oversized: int = 0
    """Entries larger than the bound (``MODX_BUS_MAX_ENTRY_BYTES``): removed, and told in the
    dead-letter stream without their data."""

    @property
    def lost_answers(self) -> bool:
        """True when answers may be gone: their tasks must be sent again."""
        return bool(self.lost or self.lost_pending)

    @property
    def clean(self) -> bool:
        """True when nothing was forged, lost or too large."""
        return not (self.forged or self.lost or self.lost_pending or self.oversized)
