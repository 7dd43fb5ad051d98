"""The distributed transport: Redis Streams with consumer groups.

Publishing is XADD (``publish_many``: one pipeline). Consuming is in
``bus._redis_consumer``. Dead letters go to ``<stream>.dlq``.

Streams are never trimmed on XADD (``MAXLEN`` there would drop entries nobody has read).
Instead, every ``trim_interval_s``, each stream this transport has touched is trimmed with
``XTRIM MINID`` to the oldest entry that some group still needs: per group, its oldest pending
entry, or else the entry after its last-delivered id. That runs only once the stream holds more
than ``maxlen`` entries, and then drops every entry all groups are done with. A stream without
groups is capped with ``XTRIM MAXLEN``: nobody can have its entries pending.

When Redis goes away, publishing raises ``PublishError`` (after the client's short retries);
consumers back off and continue once it is back, recreating their group if Redis lost it.
Entries held by a non-persistent Redis are lost when it restarts, by definition; the
orchestrator's step leases re-dispatch that work.

On a Redis Cluster (``redis+cluster://``, ``bus.redis_client``) every multi-key command and
script touches the keys of one stream's slot only (``bus.streams`` names them so); replies
of a consumer that go to another slot are published before the acknowledgement instead of in
the same script (``bus._redis_consumer``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import NoScriptError, ResponseError

from bus import codec, streams
from bus._consumer import BaseSubscription
from bus._redis_consumer import RECOVERABLE, RedisSubscription
from bus._redis_link import Arg, Link
from bus.audit import AUDIT, Audit
from bus.envelope import Envelope
from bus.errors import DeadLetterNotFoundError, PublishError, TransportClosedError
from bus.ids import id_time, new_id
from bus.redis_client import RedisClient, connect, publish_all
from bus.tasks import cancel_and_wait
from bus.transport import (
    ACKNOWLEDGED_SCAN,
    Ack,
    ConsumerOptions,
    DeadLetter,
    Handler,
    Incarnation,
    PendingDelivery,
    Subscription,
    Transport,
)

_log = logging.getLogger(__name__)
PENDING_SCAN = 1000
"""The most pending entries ``pending_deliveries`` reads (an inbox holds an agent's few)."""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _id_tuple(entry_id: bytes | str) -> tuple[int, int]:
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


# KEYS: the stream, then a marker per envelope. ARGV: the markers' TTL (ms), then the envelopes'
# JSON. Returns, per envelope, its entry id, or 0 when its marker was set already.
#
# One call per stream, not one per envelope: Redis serves readers blocked on a stream after
# each command, so a pipeline of one script per envelope hands the first envelope to one
# blocked consumer, the second to another, and each reads the rest again (a batch of tasks
# cost every agent a wake-up and two reads); after one script, one blocked read takes them all.
PUBLISH_ONCE = """
local ids = {}
for i = 2, #KEYS do
  if redis.call('SET', KEYS[i], '1', 'NX', 'PX', ARGV[1]) then
    ids[i - 1] = redis.call('XADD', KEYS[1], '*', 'data', ARGV[i])
  else
    ids[i - 1] = 0
  end
end
return ids
"""


# KEYS[1]: a dead-letter stream; KEYS[2]: its count of entries MODX removed
# (``streams.removals``). ARGV[1]: the entry id. Returns how many were removed.
DISCARD = """
local n = redis.call('XDEL', KEYS[1], ARGV[1])
if n > 0 then redis.call('INCRBY', KEYS[2], n) end
return n
"""

# KEYS[1]: a stream; KEYS[2]: its dead-letter stream; KEYS[3]: the count of the dead-letter
# stream (``DISCARD``). ARGV[1]: the dead letter's id; ARGV[2]: its data. Returns the new
# entry's id, or false when the dead letter is gone. Appended first: an append that fails
# stops the script before the dead letter is removed.
REPLAY = """
if #redis.call('XRANGE', KEYS[2], ARGV[1], ARGV[1]) == 0 then return false end
local id = redis.call('XADD', KEYS[1], '*', 'data', ARGV[2])
redis.call('INCRBY', KEYS[3], redis.call('XDEL', KEYS[2], ARGV[1]))
return id
"""

# KEYS[1]: a dead-letter stream; KEYS[2]: its count (``DISCARD``). ARGV[1]: the most entries
# it may keep; ARGV[2]: '~' to trim whole nodes only, else '='. Returns how many were removed.
TRIM_COUNTED = """
local n = redis.call('XTRIM', KEYS[1], 'MAXLEN', ARGV[2], ARGV[1])
if n > 0 then redis.call('INCRBY', KEYS[2], n) end
return n
"""

# KEYS[1]: a stream (an agent's inbox). ARGV[1]: its group; ARGV[2..]: envelope ids. Deletes
# the entries past the group's last-delivered id that carry one of those envelopes; returns
# the ids of those taken. One script on one key: atomic against the group's readers (an
# entry is read or taken, never both) and cluster-safe. Each entry's data is searched for the
# ids before it is decoded, so the other tasks' entries cost string searches only.
WITHDRAW = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
local last
for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local info = {}
  for i = 1, #group, 2 do info[group[i]] = group[i + 1] end
  if info['name'] == ARGV[1] then last = info['last-delivered-id'] end
end
if not last then return {} end
local wanted = {}
for i = 2, #ARGV do wanted[ARGV[i]] = true end
local taken = {}
for _, entry in ipairs(redis.call('XRANGE', KEYS[1], '(' .. last, '+')) do
  local fields, data, named = entry[2], nil, false
  for i = 1, #fields, 2 do
    if fields[i] == 'data' then data = fields[i + 1] end
  end
  for id in pairs(wanted) do
    if data and string.find(data, id, 1, true) then named = true break end
  end
  if named then
    local ok, value = pcall(cjson.decode, data)
    local id = ok and type(value) == 'table' and value['id']
    if type(id) == 'string' and wanted[id] then
      redis.call('XDEL', KEYS[1], entry[1])
      taken[#taken + 1] = id
    end
  end
end
return taken
"""


class RedisStreamsTransport(Transport):
    """Streams of envelopes on Redis (5.0+, 7+ for XAUTOCLAIM's deleted-entry handling), one
    server or a cluster.

    Args:
        url: ``redis://``, ``rediss://`` or ``unix://`` URL; ``redis+cluster://`` or
            ``rediss+cluster://`` for a Redis Cluster.
        maxlen: Entries a stream may hold before acknowledged ones are trimmed.
        trim_interval_s: How often touched streams are trimmed.
        approximate_trim: Trim whole radix-tree nodes only (``~``): much cheaper for Redis,
            and still never past an entry a group needs.
        reconnect_base_s: First delay of a consumer's reconnect backoff.
        reconnect_cap_s: Longest delay of that backoff.
        socket_timeout_s: Socket timeout; blocking reads are kept below it.
        client: An existing ``redis.asyncio.Redis`` or ``RedisCluster``
            (``decode_responses=False``) to use instead of one built from ``url``; it is
            closed by ``close()``.
    """

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        maxlen: int = 100_000,
        trim_interval_s: float = 10.0,
        approximate_trim: bool = True,
        reconnect_base_s: float = 0.05,
        reconnect_cap_s: float = 5.0,
        socket_timeout_s: float = 10.0,
        client: RedisClient | None = None,
    ) -> None:
        if maxlen < 1:
            raise ValueError("maxlen must be at least 1")
        self.url = url
        self.maxlen = maxlen
        self.trim_interval_s = trim_interval_s
        self.approximate_trim = approximate_trim
        self._reconnect = (reconnect_base_s, reconnect_cap_s)
        self._socket_timeout_s = socket_timeout_s
        # A couple of quick retries ride out a blip; longer outages reach our own backoff.
        self._client = client or connect(
            url,
            decode_responses=False,
            socket_timeout=socket_timeout_s,
            socket_connect_timeout=min(socket_timeout_s, 5.0),
            retry=Retry(ExponentialWithJitterBackoff(base=0.02, cap=0.5), retries=2),
            health_check_interval=30,
        )
        self._cluster = isinstance(self._client, RedisCluster)  # names dead letters (streams.dlq)
        self._known: set[str] = set()
        self._subscriptions: set[BaseSubscription] = set()
        self._trimmer: asyncio.Task[None] | None = None
        self._publish_once_sha: str | None = None
        # Scripts load themselves when missing (a Redis that restarted).
        self._audit_script = self._client.register_script(AUDIT)
        self._discard_script = self._client.register_script(DISCARD)
        self._replay_script = self._client.register_script(REPLAY)
        self._trim_counted_script = self._client.register_script(TRIM_COUNTED)
        self._withdraw_script = self._client.register_script(WITHDRAW)
        # One server: publishes go out on a connection of their own (``bus._redis_link``), one
        # call at a time. A cluster routes each script to its slot's node through the client.
        self._publish_link = None if self._cluster else Link(self._client, socket_timeout_s)
        self._publish_lock = asyncio.Lock()
        self.closed = False

    @property
    def client(self) -> RedisClient:
        """The underlying client (for health checks and tooling)."""
        return self._client

    def _touch(self, stream: str) -> None:
        if self.closed:
            raise TransportClosedError("the Redis transport is closed")
        self._known.add(stream)
        if self._trimmer is None and self.trim_interval_s > 0:
            self._trimmer = asyncio.create_task(self._trim_loop(), name="bus-trimmer")

    # -- publishing ----------------------------------------------------------------------------

    async def publish(self, stream: str, envelope: Envelope) -> str:
        """Append an envelope; returns the entry id.

        Raises:
            PublishError: Redis is unreachable or refuses the write.
        """
        return await self._xadd(stream, codec.encode(envelope))

    async def publish_raw(self, stream: str, data: bytes) -> str:
        """Append raw bytes as an entry's data, valid or not."""
        return await self._xadd(stream, codec.encode_raw(data))

    async def _xadd(self, stream: str, fields: dict[bytes, bytes]) -> str:
        self._touch(stream)
        try:
            entry_id: Any = await self._client.xadd(stream, fields)  # type: ignore[arg-type]
        except (ResponseError, *RECOVERABLE) as exc:  # down, or refusing writes (OOM)
            raise PublishError(f"cannot publish to {stream}: {exc}") from exc
        return bytes(entry_id).decode()

    async def publish_many(self, items: Sequence[tuple[str, Envelope]]) -> list[str]:
        """Append many envelopes in one pipeline (one round trip).

        Raises:
            PublishError: Redis is unreachable or refuses the write; some envelopes may
                have been appended.
        """
        if not items:
            return []
        pipe = self._client.pipeline(transaction=False)
        for stream, envelope in items:
            self._touch(stream)
            pipe.xadd(stream, codec.encode(envelope))  # type: ignore[arg-type]
        try:
            ids = await pipe.execute()
        except (ResponseError, *RECOVERABLE) as exc:  # down, or refusing writes (OOM)
            raise PublishError(f"cannot publish {len(items)} envelopes: {exc}") from exc
        return [bytes(entry_id).decode() for entry_id in ids]

    async def publish_unique(
        self,
        items: Sequence[tuple[str, Envelope]],
        within_s: float,
        *,
        notices: Sequence[tuple[str, str]] = (),
        acks: Sequence[Ack] = (),
    ) -> list[str | None]:
        """Append envelopes not published in the last ``within_s`` seconds, in one round trip,
        and PUBLISH ``notices`` (channel, message) and XACK ``acks`` in that same round trip,
        after them (on a cluster, the notices follow on their own).

        A marker key per envelope id, set with NX and an expiry, decides; the check and the
        XADD run in one Lua script, so they are atomic. An XACK runs whatever the scripts did
        (the caller acknowledges what it has recorded, not what it publishes); each ``Ack``
        that Redis took is marked ``sent``, even when this raises.

        Raises:
            PublishError: Redis is unreachable or refuses the write.
        """
        if not items and not notices and not acks:
            return []
        ttl_ms = max(1, int(within_s * 1000))
        for stream, _ in items:
            self._touch(stream)
        try:
            try:
                ids = await self._run_publish_once(items, ttl_ms, notices, acks)
            except NoScriptError:  # Redis restarted and forgot the script: load it again
                self._publish_once_sha = None
                ids = await self._run_publish_once(items, ttl_ms, notices, acks)
        except (ResponseError, *RECOVERABLE) as exc:
            raise PublishError(f"cannot publish {len(items)} envelopes: {exc}") from exc
        return [bytes(entry_id).decode() if entry_id else None for entry_id in ids]

    async def published(self, items: Sequence[tuple[str, str]]) -> list[bool]:
        """Whether each envelope's ``publish_unique`` marker is still in Redis (one round trip)."""
        if not items:
            return []
        pipe = self._client.pipeline(transaction=False)
        for stream, envelope_id in items:
            pipe.exists(streams.published_marker(stream, envelope_id))
        try:
            found = await pipe.execute()
        except (ResponseError, *RECOVERABLE) as exc:
            raise PublishError(f"cannot read publish markers: {exc}") from exc
        return [bool(n) for n in found]

    async def incarnation(self) -> Incarnation:
        """The sentinel key's value, set (with NX) when it is missing: a Redis that restarted
        without its data has lost it; one that restarted from its AOF or RDB file has not."""
        candidate = new_id()
        pipe = self._client.pipeline(transaction=False)
        pipe.set(streams.INCARNATION, candidate, nx=True)
        pipe.get(streams.INCARNATION)
        try:
            created, value = await pipe.execute()
        except (ResponseError, *RECOVERABLE) as exc:
            raise PublishError(f"cannot read the incarnation: {exc}") from exc
        current = bytes(value).decode() if value else candidate
        return Incarnation(current, id_time(current), bool(created))

    async def _run_publish_once(
        self,
        items: Sequence[tuple[str, Envelope]],
        ttl_ms: int,
        notices: Sequence[tuple[str, str]],
        acks: Sequence[Ack],
    ) -> list[Any]:
        """The envelopes' scripts, then the notices and the acknowledgements; returns the
        scripts' replies."""
        # EVALSHA in a plain pipeline: redis-py's Script objects would add a SCRIPT EXISTS
        # round trip to every pipeline. On a cluster, SCRIPT LOAD goes to every primary.
        if self._publish_once_sha is None:
            self._publish_once_sha = str(await self._client.script_load(PUBLISH_ONCE))
        by_group = _by_group(acks)
        if self._publish_link is not None:
            return await self._publish_on_link(self._publish_link, items, ttl_ms, notices, by_group)
        # A cluster: the pipeline sends each command to its key's node, all nodes at once.
        pipe = self._client.pipeline(transaction=False)
        by_stream = _by_stream(items)
        for script in _scripts(self._publish_once_sha, items, by_stream, ttl_ms):
            pipe.execute_command(*script)
        for (stream, group), taken in by_group.items():
            pipe.xack(stream, group, *(ack.entry_id for ack in taken))
        replies = list(await pipe.execute(raise_on_error=False))
        _mark_sent(by_group, replies[len(by_stream) :])
        ids = _entry_ids(len(items), by_stream, replies[: len(by_stream)])
        # No PUBLISH in a cluster pipeline: after the scripts, on their own.
        await publish_all(self._client, notices)
        return ids

    async def _publish_on_link(
        self,
        link: Link,
        items: Sequence[tuple[str, Envelope]],
        ttl_ms: int,
        notices: Sequence[tuple[str, str]],
        by_group: dict[tuple[str, str], list[Ack]],
    ) -> list[Any]:
        """The scripts on this transport's own connection (one server): the writer publishes
        after each commit, and the client's pipeline costs several times the round trip."""
        assert self._publish_once_sha is not None
        by_stream = _by_stream(items)
        commands = _scripts(self._publish_once_sha, items, by_stream, ttl_ms)
        commands += [("PUBLISH", channel, message) for channel, message in notices]
        commands += [
            ("XACK", stream, group, *(ack.entry_id for ack in taken))
            for (stream, group), taken in by_group.items()
        ]
        async with self._publish_lock:
            try:
                replies = await link.call(commands)
            except RECOVERABLE:  # the link reconnects: one more try rides out a blip
                replies = await link.call(commands)
        published = len(commands) - len(by_group)
        _mark_sent(by_group, replies[published:])
        for reply in replies[len(by_stream) : published]:
            if isinstance(reply, ResponseError):
                raise reply
        return _entry_ids(len(items), by_stream, replies[: len(by_stream)])

    # -- consuming -----------------------------------------------------------------------------

    async def subscribe(
        self,
        stream: str,
        group: str,
        consumer: str,
        handler: Handler,
        options: ConsumerOptions | None = None,
    ) -> Subscription:
        """Create the group if needed (from the start of the stream) and start consuming.

        Never fails because Redis is down: the consumer keeps trying in the background.
        """
        self._touch(stream)
        options = options or ConsumerOptions()
        block_ms = max(1, min(options.block_ms, int((self._socket_timeout_s - 1) * 1000)))
        subscription = RedisSubscription(
            self._client,
            stream,
            group,
            consumer,
            handler,
            options,
            block_ms=block_ms,
            socket_timeout_s=self._socket_timeout_s,
            reconnect_base_s=self._reconnect[0],
            reconnect_cap_s=self._reconnect[1],
            remember_stream=self._known.add,
            on_stopped=self._subscriptions.discard,
        )
        try:
            await subscription.ensure_group()
        except RECOVERABLE as exc:
            _log.warning("%s: Redis unreachable (%s); will keep trying", subscription, exc)
        self._subscriptions.add(subscription)
        subscription.start()
        return subscription

    # -- dead letters --------------------------------------------------------------------------

    async def dead_letters(self, stream: str, limit: int = 100) -> list[DeadLetter]:
        """The newest dead letters of ``stream``, newest first."""
        entries: Any = await self._client.xrevrange(streams.dlq(stream, self._cluster), count=limit)
        return [
            codec.read_dead_letter(entry_id.decode(), stream, fields)
            for entry_id, fields in entries or []
        ]

    async def replay_dead_letter(self, stream: str, dead_letter_id: str) -> str:
        """Publish a dead letter's data to its stream again and remove it from the DLQ.

        Raises:
            DeadLetterNotFoundError: No such dead letter.
        """
        dlq = streams.dlq(stream, self._cluster)
        try:
            entries: Any = await self._client.xrange(dlq, dead_letter_id, dead_letter_id)
        except ResponseError:  # not a stream id at all
            entries = None
        new_id = None
        if entries:
            data = codec.entry_data(entries[0][1]) or b""
            self._touch(stream)
            keys = [stream, dlq, streams.removals(dlq)]
            new_id = await self._replay_script(keys, [dead_letter_id, data])
        if not new_id:  # none, or discarded meanwhile
            raise DeadLetterNotFoundError(f"{dlq} has no entry {dead_letter_id}")
        return bytes(new_id).decode()

    async def discard_dead_letter(self, stream: str, dead_letter_id: str) -> bool:
        """Remove one dead letter; False when it does not exist."""
        dlq = streams.dlq(stream, self._cluster)
        try:
            removed = await self._discard_script([dlq, streams.removals(dlq)], [dead_letter_id])
        except ResponseError:  # not a stream id at all
            return False
        return bool(removed)

    async def dlq_streams(self) -> dict[str, int]:
        """Every dead-letter stream that has entries, by original stream, with its depth."""
        names = [
            name
            async for name in self._client.scan_iter(
                match=streams.DLQ_PATTERN, count=1000, _type="stream"
            )
        ]
        if not names:
            return {}
        pipe = self._client.pipeline(transaction=False)
        for name in names:
            pipe.xlen(name)
        lengths = await pipe.execute()
        return {
            streams.dlq_of(name.decode()): int(length)
            for name, length in zip(names, lengths, strict=True)
            if length
        }

    # -- inspection and trimming ---------------------------------------------------------------

    async def stream_length(self, stream: str) -> int:
        """Entries now stored in ``stream``."""
        return int(await self._client.xlen(stream))

    async def pending(self, stream: str, group: str) -> int:
        """Entries delivered to ``group`` and not yet acknowledged."""
        try:
            summary: dict[str, Any] = await self._client.xpending(stream, group)
        except ResponseError:  # NOGROUP
            return 0
        return int(summary["pending"])

    async def pending_deliveries(self, stream: str, group: str) -> dict[str, PendingDelivery]:
        """XPENDING (consumer, idle time, deliveries) of the group's oldest pending entries,
        then XRANGE of each for the envelope id it carries (two round trips).

        Raises:
            PublishError: Redis is unreachable or refuses the reads.
        """
        try:
            rows: list[dict[str, Any]] = await self._client.xpending_range(
                stream, group, min="-", max="+", count=PENDING_SCAN
            )
        except ResponseError as exc:
            if "NOGROUP" in str(exc):  # no such stream or group: nothing delivered
                return {}
            raise PublishError(f"cannot read what {stream} has pending: {exc}") from exc
        except RECOVERABLE as exc:
            raise PublishError(f"cannot read what {stream} has pending: {exc}") from exc
        if not rows:
            return {}
        pipe = self._client.pipeline(transaction=False)
        for row in rows:
            pipe.xrange(stream, row["message_id"], row["message_id"])
        try:
            entries = await pipe.execute()
        except (ResponseError, *RECOVERABLE) as exc:
            raise PublishError(f"cannot read the entries {stream} has pending: {exc}") from exc
        found: dict[str, PendingDelivery] = {}
        for row, entry in zip(rows, entries, strict=True):
            envelope_id = codec.envelope_id(entry[0][1]) if entry else None
            if envelope_id is not None:
                consumer = row["consumer"]
                found[envelope_id] = PendingDelivery(
                    consumer.decode() if isinstance(consumer, bytes) else str(consumer),
                    int(row["time_since_delivered"]) / 1000,
                    int(row["times_delivered"]),
                )
        return found

    async def acknowledged(self, stream: str, group: str) -> set[str]:
        """XINFO GROUPS for the group's last delivered id, then XREVRANGE back from it and
        XPENDING, in one pipeline: the entries read that are not pending (two round trips).

        Raises:
            PublishError: Redis is unreachable or refuses the reads.
        """
        try:
            groups: list[dict[Any, Any]] = await self._client.xinfo_groups(stream)
            found = [g for g in groups if _text(g["name"]) == group]
            if not found:
                return set()
            pipe = self._client.pipeline(transaction=False)
            pipe.xrevrange(stream, max=found[0]["last-delivered-id"], count=ACKNOWLEDGED_SCAN)
            pipe.xpending_range(stream, group, min="-", max="+", count=PENDING_SCAN)
            entries, pending = await pipe.execute()
        except ResponseError as exc:
            if "no such key" in str(exc).lower():  # no stream: nothing delivered
                return set()
            raise PublishError(f"cannot read what {stream} acknowledged: {exc}") from exc
        except RECOVERABLE as exc:
            raise PublishError(f"cannot read what {stream} acknowledged: {exc}") from exc
        held = {_text(row["message_id"]) for row in pending}
        ids = (
            codec.envelope_id(fields) for entry_id, fields in entries if _text(entry_id) not in held
        )
        return {envelope_id for envelope_id in ids if envelope_id is not None}

    async def withdraw(self, stream: str, group: str, envelope_ids: Collection[str]) -> set[str]:
        """``WITHDRAW``: one script on the stream's key (one round trip, atomic).

        Raises:
            PublishError: Redis is unreachable or refuses the script.
        """
        if not envelope_ids:
            return set()
        try:
            taken: Any = await self._withdraw_script([stream], [group, *envelope_ids])
        except (ResponseError, *RECOVERABLE) as exc:
            raise PublishError(f"cannot withdraw tasks from {stream}: {exc}") from exc
        return {_text(envelope_id) for envelope_id in taken}

    async def trim(self, stream: str) -> int:
        """Trim ``stream`` now, never past an entry a group needs; returns entries removed."""
        try:
            groups: list[dict[str, Any]] = await self._client.xinfo_groups(stream)
        except ResponseError:  # no such stream
            return 0
        pipe = self._client.pipeline(transaction=False)
        pipe.xlen(stream)
        for group in groups:
            pipe.xpending(stream, group["name"])
        length, *summaries = await pipe.execute()
        if length <= self.maxlen:
            return 0
        if not groups:
            if streams.is_dlq(stream):  # counted: the audit tells our trimming from an agent's
                keys = [stream, streams.removals(stream)]
                mode = "~" if self.approximate_trim else "="
                return int(await self._trim_counted_script(keys, [self.maxlen, mode]))
            removed = await self._client.xtrim(
                stream, maxlen=self.maxlen, approximate=self.approximate_trim
            )
            return int(removed)
        floor = min(
            _id_tuple(summary["min"])
            if summary["pending"]
            else _next_id(_id_tuple(group["last-delivered-id"]))
            for group, summary in zip(groups, summaries, strict=True)
        )
        # Entries are removed only below the floor, which no group has pending or unread.
        return int(
            await self._client.xtrim(
                stream, minid=f"{floor[0]}-{floor[1]}", approximate=self.approximate_trim
            )
        )

    async def audit(
        self, names: Sequence[str], ahead_s: float, max_entry_bytes: int | None = None
    ) -> list[Audit]:
        """Run ``bus.audit.AUDIT`` on each stream of ``names`` (one script each).

        Raises:
            PublishError: Redis is unreachable or refuses the script (older than 7.0).
        """
        jobs = [[name, streams.dlq(name, self._cluster)] for name in names]
        return await self._audit(jobs, ahead_s, max_entry_bytes or 0)

    async def audit_dead_letters(
        self, names: Sequence[str], ahead_s: float, max_entry_bytes: int | None = None
    ) -> list[Audit]:
        """Run ``bus.audit.AUDIT`` on the dead-letter stream of each stream of ``names``; its
        forged and oversized entries go to its own dead-letter stream, removals are told by
        ``streams.removals``, how far sizes were checked by ``streams.screened``.

        Raises:
            PublishError: Redis is unreachable or refuses the script (older than 7.0).
        """
        dlqs = [streams.dlq(name, self._cluster) for name in names]
        for dlq in dlqs:  # only agents append there: trimmed by this server, else by no one
            self._touch(dlq)
        jobs = [[d, streams.dlq(d), streams.removals(d), streams.screened(d)] for d in dlqs]
        return await self._audit(jobs, ahead_s, max_entry_bytes or 0)

    async def _audit(
        self, jobs: list[list[str]], ahead_s: float, max_entry_bytes: int = 0
    ) -> list[Audit]:
        args: list[str | int] = [
            *(int(ahead_s * 1000), datetime.now(UTC).isoformat(), 1000, max_entry_bytes)
        ]
        try:
            if self._cluster:  # each to its stream's node (a cluster pipeline loads no script)
                replies = [await self._audit_script(keys, args) for keys in jobs]
            else:  # one round trip for them all (and one to load the script if it is missing)
                assert isinstance(self._client, Redis)
                pipe = self._client.pipeline(transaction=False)
                for keys in jobs:
                    await self._audit_script(keys, args, client=pipe)
                replies = await pipe.execute() if jobs else []
        except (ResponseError, *RECOVERABLE) as exc:
            what = ", ".join(keys[0] for keys in jobs)
            raise PublishError(f"cannot audit {what}: {exc}") from exc
        return [
            Audit(keys[0], *(int(n) for n in reply))
            for keys, reply in zip(jobs, replies, strict=True)
        ]

    async def _trim_loop(self) -> None:
        while not self.closed:
            await asyncio.sleep(self.trim_interval_s)
            for stream in list(self._known):
                try:
                    await self.trim(stream)
                except RECOVERABLE as exc:
                    _log.debug("trimming %s failed: %s", stream, exc)
                    break
                except Exception:
                    _log.exception("trimming %s failed", stream)

    # -- lifecycle -----------------------------------------------------------------------------

    async def ping(self) -> bool:
        """True when Redis answers."""
        try:
            return bool(await self._client.ping())
        except (ResponseError, *RECOVERABLE):
            return False

    async def close(self) -> None:
        """Stop every subscription (without draining) and close the connections."""
        if self.closed:
            return
        self.closed = True
        await asyncio.gather(
            *(s.stop(drain=False) for s in list(self._subscriptions)), return_exceptions=True
        )
        if self._trimmer is not None:
            await cancel_and_wait([self._trimmer])
        if self._publish_link is not None:
            await self._publish_link.close()
        await self._client.aclose()


def _by_group(acks: Sequence[Ack]) -> dict[tuple[str, str], list[Ack]]:
    """``acks`` by (stream, group): one XACK each."""
    by_group: dict[tuple[str, str], list[Ack]] = {}
    for ack in acks:
        by_group.setdefault((ack.stream, ack.group), []).append(ack)
    return by_group


def _by_stream(items: Sequence[tuple[str, Envelope]]) -> dict[str, list[int]]:
    """The positions in ``items`` of each stream's envelopes, in order: one script each."""
    by_stream: dict[str, list[int]] = {}
    for position, (stream, _) in enumerate(items):
        by_stream.setdefault(stream, []).append(position)
    return by_stream


def _scripts(
    sha: str, items: Sequence[tuple[str, Envelope]], by_stream: dict[str, list[int]], ttl_ms: int
) -> list[tuple[Arg, ...]]:
    """``PUBLISH_ONCE`` for each stream's envelopes (its markers share the stream's slot)."""
    scripts: list[tuple[Arg, ...]] = []
    for stream, positions in by_stream.items():
        envelopes = [items[p][1] for p in positions]
        markers = [streams.published_marker(stream, env.id) for env in envelopes]
        scripts.append(
            (
                "EVALSHA",
                sha,
                1 + len(markers),
                stream,
                *markers,
                ttl_ms,
                *(env.to_json() for env in envelopes),
            )
        )
    return scripts


def _entry_ids(count: int, by_stream: dict[str, list[int]], replies: Sequence[Any]) -> list[Any]:
    """Each envelope's entry id (None: published before), in the order of the items; raises
    a script's error (NOSCRIPT included: the caller loads the script again)."""
    ids: list[Any] = [None] * count
    for positions, reply in zip(by_stream.values(), replies, strict=True):
        if isinstance(reply, Exception):
            raise reply
        for position, entry_id in zip(positions, reply, strict=True):
            ids[position] = entry_id or None
    return ids


def _mark_sent(by_group: dict[tuple[str, str], list[Ack]], replies: Sequence[Any]) -> None:
    """Mark the acks whose XACK Redis took (an error reply: the subscription tries again; a
    group Redis lost answers 0, and its entries are gone too)."""
    for taken, reply in zip(by_group.values(), replies, strict=True):
        if not isinstance(reply, Exception):
            for ack in taken:
                ack.sent = True


def _next_id(entry: tuple[int, int]) -> tuple[int, int]:
    return entry[0], entry[1] + 1
