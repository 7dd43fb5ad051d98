"""The Redis store of capability places (``services.orchestrator.capacity``): every replica
shares it. Each ask and each release is one Lua script, so two replicas never both take the
last place or the last token; the rules are ``MemoryCapacity``'s, line for line."""

from __future__ import annotations

from typing import Any

from bus.redis_client import connect
from services.orchestrator.capacity import (
    LEVEL,
    MAX_PRIORITY,
    TURN_SCALE,
    CapacityStore,
    Limits,
    Ticket,
)

PREFIX = "modx:capacity"
KEEP_S = 86400  # a capability's keys outlive a day without use only if something still asks

# KEYS: holders (zset: holder -> expiry), queue (zset: holder -> order), seen (zset: holder ->
# last asked), state (hash: turns, bases, arrivals, tokens). ARGV: holder, now, expiry, priority,
# key, concurrency (-1: none), rate count (-1: none), rate period, stale after, keep.
_ACQUIRE = (
    """
local holders, queue, seen, state = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local holder, now, expiry = ARGV[1], tonumber(ARGV[2]), ARGV[3]
for _, k in ipairs(KEYS) do redis.call('EXPIRE', k, ARGV[10]) end
redis.call('ZREMRANGEBYSCORE', holders, '-inf', now)
for _, h in ipairs(redis.call('ZRANGEBYSCORE', seen, '-inf', now - tonumber(ARGV[9]))) do
  redis.call('ZREM', queue, h)
  redis.call('ZREM', seen, h)
end
if redis.call('ZSCORE', holders, holder) then
  redis.call('ZADD', holders, expiry, holder)
  return 'admitted'
end
local p = tonumber(ARGV[4])
local score = tonumber(redis.call('ZSCORE', queue, holder))
if not score then
  local key = 'turn:' .. p .. ':' .. ARGV[5]
  local base = tonumber(redis.call('HGET', state, 'base:' .. p) or '0')
  local turn = math.max(tonumber(redis.call('HGET', state, key) or '0'), base) + 1
  redis.call('HSET', state, key, turn)
  local arrivals = redis.call('HINCRBY', state, 'arrivals', 1) % TURN_SCALE
  score = (MAX_PRIORITY - p) * LEVEL + turn * TURN_SCALE + arrivals
  redis.call('ZADD', queue, score, holder)
end
redis.call('ZADD', seen, now, holder)
local rank = redis.call('ZRANK', queue, holder)
local concurrency = tonumber(ARGV[6])
if concurrency >= 0 and rank >= concurrency - redis.call('ZCARD', holders) then
  return 'release'
end
local count = tonumber(ARGV[7])
if count >= 0 then
  local per_s = count / tonumber(ARGV[8])
  local tokens = tonumber(redis.call('HGET', state, 'tokens') or count)
  local at = tonumber(redis.call('HGET', state, 'refilled') or '0')
  tokens = math.min(count, tokens + (now - at) * per_s)
  if rank + 1 > tokens then
    redis.call('HSET', state, 'tokens', tostring(tokens), 'refilled', tostring(now))
    return tostring((rank + 1 - tokens) / per_s)
  end
  redis.call('HSET', state, 'tokens', tostring(tokens - 1), 'refilled', tostring(now))
end
redis.call('ZREM', queue, holder)
redis.call('ZREM', seen, holder)
local turn = math.floor((score % LEVEL) / TURN_SCALE)
if turn > tonumber(redis.call('HGET', state, 'base:' .. p) or '0') then
  redis.call('HSET', state, 'base:' .. p, turn)
end
redis.call('ZADD', holders, expiry, holder)
return 'admitted'
""".replace("MAX_PRIORITY", str(MAX_PRIORITY))
    .replace("TURN_SCALE", str(TURN_SCALE))
    .replace("LEVEL", str(LEVEL))
)

# KEYS: holders, queue, seen. ARGV: how many waiters to return, then the holders to release.
_RELEASE = """
for i = 2, #ARGV do
  redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('ZREM', KEYS[2], ARGV[i])
  redis.call('ZREM', KEYS[3], ARGV[i])
end
return redis.call('ZRANGE', KEYS[2], 0, tonumber(ARGV[1]) - 1)
"""


def keys(capability: str) -> list[str]:
    """The Redis keys of one capability's places: holders, queue, last asked, state."""
    # The braces make one Redis Cluster hash slot of them (a script needs its keys together).
    return [f"{PREFIX}:{{{capability}}}:{part}" for part in ("holders", "queue", "seen", "state")]


class RedisCapacity(CapacityStore):
    """Places and queues in Redis, shared by every replica."""

    def __init__(self, url: str, stale_s: float = 30.0) -> None:
        self.stale_s = stale_s
        self._client: Any = connect(url)
        self._acquire = self._client.register_script(_ACQUIRE)
        self._release = self._client.register_script(_RELEASE)

    async def acquire(self, ticket: Ticket, limits: Limits, now: float) -> float | None:
        answer = await self._acquire(
            keys=keys(ticket.capability),
            args=[
                ticket.holder,
                repr(now),
                repr(ticket.expires_at),
                ticket.priority,
                ticket.key,
                limits.concurrency if limits.concurrency is not None else -1,
                limits.rate_count if limits.rate_count is not None else -1,
                repr(limits.rate_period_s or 1.0),
                repr(self.stale_s),
                KEEP_S,
            ],
        )
        text = answer.decode() if isinstance(answer, bytes) else str(answer)
        if text == "admitted":
            return None
        return 0.0 if text == "release" else float(text)

    async def release(self, capability: str, holders: list[str], now: float) -> list[str]:
        found = await self._release(
            keys=keys(capability)[:3], args=[max(1, len(holders)), *holders]
        )
        return [h.decode() if isinstance(h, bytes) else str(h) for h in found]

    async def close(self) -> None:
        """Release the connections."""
        await self._client.aclose()
