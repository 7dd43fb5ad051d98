"""A Redis Streams consumer: XREADGROUP batches, batched XACK, XAUTOCLAIM, and renewal.

Round trips are the cost to avoid (each one wakes the process, and the wake-up is most of a
small task's CPU), so:
- reads are XREADGROUP with COUNT and BLOCK, and the next read starts while the workers are
  still on half of the previous batch;
- acknowledgements collect while one XACK is on the wire; the next XACK carries all of them;
- a handler's replies (an agent's result) go out with its acknowledgement: one Redis function
  (``bus.functions``) XADDs them and then XACKs the entry, so an entry is never acknowledged
  without its replies; replies of several handlers share a call, in the same write as the
  plain XACKs;
- the reader and the acknowledger each have a connection of their own (``bus._redis_link``);
- on a Redis Cluster, replies to streams of another slot (the results stream, for an agent)
  cannot join that call: they are published first, and the function then acknowledges. An
  entry is still never acknowledged before its replies are out; a crash between the two
  publishes them again on redelivery, which the receiver absorbs (results count once);
- the delivery count is Redis's own (XREADGROUP counts 1, each XAUTOCLAIM adds 1), read back
  with XPENDING only for the rare reclaimed entries.

Entries this consumer holds (buffered or running) are renewed every third of the visibility
timeout with ``XCLAIM ... JUSTID``, which resets their idle time without counting a delivery.
So the visibility timeout bounds how long a *crashed* consumer keeps its entries, not how long
a handler may run.

Every loop survives a lost connection: it backs off (capped, with jitter) and retries, and
recreates its group when Redis comes back empty (NOGROUP).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import RedisCluster
from redis.crc import key_slot
from redis.exceptions import AskError, ResponseError, TryAgainError

from bus import codec, functions, streams
from bus._backoff import Backoff
from bus._consumer import BaseSubscription, Delivery
from bus._redis_link import Arg, Link, pack
from bus.errors import PublishError
from bus.redis_client import UNREACHABLE, RedisClient, retryable
from bus.transport import ConsumerOptions, Handler, Reply

_log = logging.getLogger(__name__)

RECOVERABLE = UNREACHABLE
"""Errors after which the same command may succeed later (Redis down, restarting, slow)."""

_ACK_CHUNK = 1000  # ids per XACK command: keeps each command small, all in one pipeline
_COMMIT_CHUNK = 256  # entries per commit call (Lua's unpack has a stack limit)
_RELEASED_IDLE_MS = 10**9  # "idle for ~11 days": any consumer's XAUTOCLAIM takes it at once
_FLUSH_ATTEMPTS = 3
_COMMIT_ATTEMPTS = 3  # like the client's own retries: a blip does not fail a finished task


@dataclass(slots=True)
class _Commit:
    """Replies to publish, then the entry to acknowledge; ``done`` tells the worker."""

    entry_id: str
    replies: list[tuple[str, bytes]]
    done: asyncio.Future[None]
    deadline: float | None = None
    attempts: int = 0

    def worth_retrying(self) -> bool:
        """A few quick attempts always; then until the consumed envelope's deadline."""
        if self.attempts < _COMMIT_ATTEMPTS:
            return True
        return self.deadline is not None and time.time() < self.deadline


def is_nogroup(error: ResponseError) -> bool:
    """True when the stream or group is gone (Redis restarted empty, or the key was deleted).

    Redis answers NOGROUP, or UNBLOCKED to a blocked XREADGROUP whose stream was deleted.
    """
    return str(error).startswith(("NOGROUP", "UNBLOCKED"))


class RedisSubscription(BaseSubscription):
    """A consumer of one group of one Redis stream."""

    store = "Redis"

    def __init__(
        self,
        client: RedisClient,
        stream: str,
        group: str,
        consumer: str,
        handler: Handler,
        options: ConsumerOptions,
        *,
        block_ms: int,
        socket_timeout_s: float,
        reconnect_base_s: float,
        reconnect_cap_s: float,
        remember_stream: Callable[[str], None],
        on_stopped: Callable[[BaseSubscription], None],
    ) -> None:
        super().__init__(stream, group, consumer, handler, options, on_stopped)
        self._client = client
        self._block_ms = block_ms
        self._vt_ms = max(1, int(options.visibility_timeout_s * 1000))
        self._remember_stream = remember_stream
        self._group_ready = False
        self._claim_cursor: bytes | str = "0-0"
        self._reader_link = Link(client, socket_timeout_s, stream)
        self._read_commands: dict[int, bytes] = {}
        self._acker_link = Link(client, socket_timeout_s, stream)
        # On a cluster, the slot of the stream: replies to other slots leave the commit call.
        self._slot = key_slot(stream.encode()) if isinstance(client, RedisCluster) else None
        self._acks: list[str] = []
        self._commits: list[_Commit] = []
        self._ack_wanted = asyncio.Event()
        self._flushing = False
        self._ack_task: asyncio.Task[None] | None = None

        def backoff(role: str) -> Backoff:
            what = f"{role} {stream}/{group}/{consumer}"
            return Backoff(reconnect_base_s, reconnect_cap_s, what, _log)

        self._read_backoff = backoff("reader")
        self._ack_backoff = backoff("acker")
        self._claim_backoff = backoff("reclaimer")

    def start(self) -> None:
        """Start reading, acknowledging and reclaiming."""
        super().start()
        self._ack_task = self._spawn(self._ack_loop())
        self._spawn(self._maintain_loop(), fetches=True)

    async def ensure_group(self) -> None:
        """Create the group from the start of the stream (and the stream) unless it exists."""
        try:
            if isinstance(self._client, RedisCluster):
                # Sent to the stream's node ourselves: redis-py finds XGROUP's key through its
                # command parser, which answered "Missing key" on a replica starting while
                # others ran (tests/e2e/test_cluster.py).
                await self._client.initialize()  # the slots map, before asking it
                node = self._client.get_node_from_key(self.stream)
                await self._client.execute_command(
                    "XGROUP", "CREATE", self.stream, self.group, "0", "MKSTREAM", target_nodes=node
                )
            else:
                await self._client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    # -- reading -----------------------------------------------------------------------------

    async def _fetch(self, count: int) -> list[Delivery]:
        while not self._stopping:
            try:
                if not self._group_ready:
                    await self.ensure_group()
                [reply] = await self._reader_link.call_packed(
                    self._read_command(count), 1, self._block_ms / 1000
                )
                if isinstance(reply, ResponseError):
                    raise reply
            except ResponseError as exc:
                if is_nogroup(exc) and self._group_ready:
                    _log.warning("%s: group is gone (%s); recreating it", self, exc)
                    self._group_ready = False  # recreate it at once, then read again
                    continue
                await self._read_backoff.wait(exc)
                continue
            except RECOVERABLE as exc:
                await self._read_backoff.wait(exc)
                continue
            self._read_backoff.reset()
            return _deliveries(reply)
        return []

    def _read_command(self, count: int) -> bytes:
        packed = self._read_commands.get(count)
        if packed is None:  # one per COUNT seen: at most batch_size of them
            packed = self._read_commands[count] = pack(
                (
                    "XREADGROUP",
                    "GROUP",
                    self.group,
                    self.consumer,
                    "COUNT",
                    count,
                    "BLOCK",
                    self._block_ms,
                    "STREAMS",
                    self.stream,
                    ">",
                )
            )
        return packed

    async def _maintain_loop(self) -> None:
        """Renew held entries and reclaim idle ones, each on its own schedule."""
        vt = self.options.visibility_timeout_s
        claim_every = min(max(vt / 4, 0.02), 2.0)
        renew_every = vt / 3
        next_renewal = time.monotonic() + renew_every
        while not self._stopping:
            claimed_full = False
            try:
                if time.monotonic() >= next_renewal:
                    await self._renew_held()
                    next_renewal = time.monotonic() + renew_every
                if self._group_ready:
                    claimed_full = await self._reclaim()
                self._claim_backoff.reset()
            except ResponseError as exc:
                if is_nogroup(exc):
                    self._group_ready = False  # the reader recreates it
                else:
                    await self._claim_backoff.wait(exc)
            except RECOVERABLE as exc:
                await self._claim_backoff.wait(exc)
            await asyncio.sleep(0 if claimed_full else claim_every)

    async def _renew_held(self) -> None:
        ids: list[Any] = list(self._held)
        for start in range(0, len(ids), _ACK_CHUNK):
            await self._client.xclaim(
                self.stream,
                self.group,
                self.consumer,
                0,
                ids[start : start + _ACK_CHUNK],
                justid=True,
            )

    async def _reclaim(self) -> bool:
        """XAUTOCLAIM entries idle past the visibility timeout; True when more may wait."""
        room = self._room()
        if room <= 0:
            return False
        reply: Any = await self._client.xautoclaim(
            self.stream,
            self.group,
            self.consumer,
            self._vt_ms,
            start_id=self._claim_cursor,
            count=room,
        )
        self._claim_cursor, entries = reply[0], reply[1]
        if not entries:
            return False
        pipe = self._client.pipeline(transaction=False)
        for entry_id, _ in entries:
            pipe.xpending_range(self.stream, self.group, entry_id, entry_id, 1)
        counts = await pipe.execute()
        batch = []
        for (entry_id, fields), info in zip(entries, counts, strict=True):
            if info:  # acknowledged in between: nothing to redo
                batch.append(
                    Delivery(entry_id.decode(), fields.get(codec.DATA), info[0]["times_delivered"])
                )
        self._push(batch)
        return len(entries) >= room and self._claim_cursor not in (b"0-0", "0-0")

    # -- settling ------------------------------------------------------------------------------

    def _ack(self, delivery: Delivery) -> None:
        self._acks.append(delivery.id)
        self._ack_wanted.set()

    async def _commit(self, delivery: Delivery, replies: Sequence[Reply]) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        encoded = [(stream, envelope.to_json()) for stream, envelope in replies]
        for stream, _ in encoded:
            self._remember_stream(stream)  # the transport trims the streams it wrote to
        self._commits.append(_Commit(delivery.id, encoded, done, delivery.deadline))
        self._ack_wanted.set()
        # A cancelled wait leaves the commit queued: ``_flush`` still sends it on stop.
        await done

    def _retry_later(self, delivery: Delivery) -> None:
        """Nothing to do: the entry stays pending, and XAUTOCLAIM picks it up when idle."""

    async def _ack_loop(self) -> None:
        """Send acknowledgements and commits, all that collected meanwhile in one write."""
        failures_while_flushing = 0
        while True:
            if not self._acks and not self._commits:
                if self._flushing:
                    return
                self._ack_wanted.clear()
                await self._ack_wanted.wait()
                continue
            ids, self._acks = self._acks, []
            commits, self._commits = self._commits, []
            try:
                await self._settle(ids, commits)
                self._ack_backoff.reset()
            except RECOVERABLE as exc:
                # Stopping: commits still kept for their deadline give up after a few tries.
                if self._stopping:
                    failures_while_flushing += 1
                    if failures_while_flushing >= _FLUSH_ATTEMPTS:
                        _log.warning(
                            "%s: %d acks and %d commits not sent on stop (%s); they will be "
                            "redelivered",
                            self,
                            len(ids) + len(self._acks),
                            len(commits) + len(self._commits),
                            exc,
                        )
                        for commit in [*commits, *self._commits]:
                            _fail(commit, f"not published on stop: {exc}")
                        return
                retry: list[_Commit] = []
                for commit in commits:
                    if commit.done.done():  # failed for good already
                        continue
                    commit.attempts += 1
                    if commit.worth_retrying():
                        retry.append(commit)
                    else:  # the worker counts it as a failed delivery
                        _fail(commit, f"cannot publish replies to {self.stream}: {exc}")
                self._acks[:0] = ids
                self._commits[:0] = retry
                await self._ack_backoff.wait(exc)

    async def _settle(self, ids: list[str], commits: list[_Commit]) -> None:
        """XACK ``ids`` and run the commit function for ``commits``, in one round trip."""
        if self._slot is not None:
            commits = await self._publish_elsewhere(commits)
        commands: list[tuple[Arg, ...]] = [
            ("XACK", self.stream, self.group, *ids[start : start + _ACK_CHUNK])
            for start in range(0, len(ids), _ACK_CHUNK)
        ]
        acks = len(commands)
        chunks = [
            commits[start : start + _COMMIT_CHUNK]
            for start in range(0, len(commits), _COMMIT_CHUNK)
        ]
        commands += [self._commit_command(chunk) for chunk in chunks]
        replies = await self._acker_link.call(commands)
        moved = next((reply for reply in replies if isinstance(reply, AskError)), None)
        if moved is not None:
            # The stream's slot moved to another node (a cluster resharding): nothing ran,
            # since every command is on that one slot. The link follows it; send all again.
            raise TryAgainError(f"{self.stream} moved: {moved}")
        for reply in replies[:acks]:
            if isinstance(reply, ResponseError):
                # The key is no longer a stream (WRONGTYPE): nothing to ack. (A group Redis
                # lost answers 0, not an error: its entries are gone too.)
                _log.warning("%s: dropped %d acks: %s", self, len(ids), reply)
        outcomes = replies[acks:]
        unknown = [i for i, reply in enumerate(outcomes) if functions.missing(reply)]
        if unknown:  # Redis restarted empty: load the functions (the server's user may)
            await functions.load(self._client)  # FunctionsMissing (an agent's user): later
            again = await self._acker_link.call([self._commit_command(chunks[i]) for i in unknown])
            for i, reply in zip(unknown, again, strict=True):
                outcomes[i] = reply
        later: BaseException | None = None
        for chunk, reply in zip(chunks, outcomes, strict=True):
            for commit in chunk:
                if isinstance(reply, ResponseError) and is_nogroup(reply):
                    # Redis lost the group: the function's XADDs ran before its XACK failed, so
                    # the replies are out, and there is no entry left to acknowledge.
                    if not commit.done.done():
                        commit.done.set_result(None)
                elif retryable(reply) is not None:
                    # Redis full (OOM), or a results stream blocked by a forged id: kept and
                    # retried, like Redis down.
                    later = retryable(reply)
                elif isinstance(reply, ResponseError):
                    _fail(commit, f"cannot publish replies to {self.stream}: {reply}")
                elif not commit.done.done():
                    commit.done.set_result(None)
        if later is not None:
            raise later

    async def _publish_elsewhere(self, commits: list[_Commit]) -> list[_Commit]:
        """Publish the replies to streams of other slots (a cluster), and take them out of
        their commits; returns the commits left to run, without those that failed for good.

        Raises:
            RECOVERABLE: A node could not be reached; the replies published meanwhile are
                taken out of their commits, so a retry does not publish them twice.
        """
        elsewhere = [
            (commit, [r for r in commit.replies if key_slot(r[0].encode()) != self._slot])
            for commit in commits
        ]
        elsewhere = [(commit, replies) for commit, replies in elsewhere if replies]
        if not elsewhere:
            return commits
        pipe = self._client.pipeline(transaction=False)
        for _, replies in elsewhere:
            for stream, data in replies:
                pipe.xadd(stream, {codec.DATA: data})
        outcomes = iter(await pipe.execute(raise_on_error=False))
        unreachable: BaseException | None = None
        for commit, replies in elsewhere:
            results = [next(outcomes) for _ in replies]
            # What did go out is taken out of the commit: a retry publishes the rest only.
            sent = {id(r) for r, out in zip(replies, results, strict=True) if not _error(out)}
            commit.replies = [r for r in commit.replies if id(r) not in sent]
            errors = [out for out in results if _error(out)]
            recoverable = [e for e in map(retryable, errors) if e is not None]
            if recoverable:
                unreachable = recoverable[0]
            elif errors:  # refused (WRONGTYPE, OOM, NOPERM): the handler failed
                _fail(commit, f"cannot publish replies to {self.stream}: {errors[0]}")
        if unreachable is not None:
            raise unreachable
        return [commit for commit in commits if not commit.done.done()]

    def _commit_command(self, chunk: list[_Commit]) -> tuple[Arg, ...]:
        keys = [self.stream, *(stream for c in chunk for stream, _ in c.replies)]
        data = [payload for c in chunk for _, payload in c.replies]
        ids = [c.entry_id for c in chunk]
        return ("FCALL", functions.COMMIT, len(keys), *keys, self.group, len(ids), *ids, *data)

    async def _flush(self) -> None:
        self._flushing = True
        self._ack_wanted.set()
        if self._ack_task is not None:
            await asyncio.gather(self._ack_task, return_exceptions=True)

    async def _dead_letter(self, delivery: Delivery, reason: str) -> None:
        dlq = streams.dlq(self.stream, cluster=self._slot is not None)
        fields = codec.dead_letter_fields(
            data=delivery.data,
            reason=reason,
            deliveries=delivery.deliveries,
            stream=self.stream,
            original_id=delivery.id,
            group=self.group,
            consumer=self.consumer,
        )
        # One function: the entry is in the DLQ and acknowledged, or neither.
        command: tuple[Arg, ...] = (
            *("FCALL", functions.DEAD_LETTER, 2, self.stream, dlq, self.group, delivery.id),
            *(part for pair in fields.items() for part in pair),
        )
        try:
            try:
                await self._client.execute_command(*command)
            except ResponseError as exc:
                if not functions.missing(exc):
                    raise
                await functions.load(self._client)  # Redis restarted empty
                await self._client.execute_command(*command)
        except (ResponseError, *RECOVERABLE) as exc:
            # Still pending: it comes back after the visibility timeout and is judged again
            # (a dead-letter stream an agent blocked with a forged id is set back by the audit).
            _log.warning(
                "%s: could not dead-letter %s (%s): %s; it stays pending and is tried again "
                "after the visibility timeout",
                self,
                delivery.id,
                reason,
                exc,
            )
            return
        self._remember_stream(dlq)

    async def _remove(self, delivery: Delivery) -> None:
        try:
            await self._client.xdel(self.stream, delivery.id)
        except (ResponseError, *RECOVERABLE) as exc:  # an agent's user may not XDEL
            _log.warning("%s: could not delete %s: %s; trimming will", self, delivery.id, exc)

    async def _release(self, unstarted: list[Delivery], interrupted: list[Delivery]) -> None:
        # XCLAIM ... IDLE makes an entry reclaimable at once; RETRYCOUNT takes back the
        # delivery of entries whose handler never started. Best effort: if Redis is away,
        # the entries come back after the visibility timeout anyway.
        pipe = self._client.pipeline(transaction=False)
        for delivery in unstarted:
            pipe.xclaim(
                self.stream,
                self.group,
                self.consumer,
                0,
                [delivery.id],
                idle=_RELEASED_IDLE_MS,
                retrycount=max(0, delivery.deliveries - 1),
                justid=True,
            )
        if interrupted:
            pipe.xclaim(
                self.stream,
                self.group,
                self.consumer,
                0,
                [d.id for d in interrupted],
                idle=_RELEASED_IDLE_MS,
                justid=True,
            )
        await pipe.execute()

    async def _after_stop(self) -> None:
        """Remove this consumer's name from the group if it owns no pending entry.

        Unique consumer names (one per process) would otherwise pile up in the group. A
        consumer that still owns entries stays, so that XAUTOCLAIM can move them.
        """
        try:
            for info in await self._client.xinfo_consumers(self.stream, self.group):
                if info["name"].decode() == self.consumer and info["pending"] == 0:
                    await self._client.xgroup_delconsumer(self.stream, self.group, self.consumer)
        except ResponseError:
            pass  # best effort: a group Redis lost, or a bus agent's user may not do this

    async def _close(self) -> None:
        await asyncio.gather(self._reader_link.close(), self._acker_link.close())

    def _unreachable(self, exc: BaseException) -> bool:
        return isinstance(exc, (*RECOVERABLE, PublishError))


def _deliveries(reply: Any) -> list[Delivery]:
    """The entries of an XREADGROUP reply on one stream (a RESP2 list or a RESP3 map)."""
    if not reply:  # nil: nothing arrived while blocked
        return []
    entries = next(iter(reply.values())) if isinstance(reply, dict) else reply[0][1]
    return [Delivery(entry_id.decode(), _data(fields), 1) for entry_id, fields in entries]


def _data(fields: Any) -> bytes | None:
    """The ``data`` field of an entry's flat field list (None when it has none)."""
    if isinstance(fields, dict):
        return codec.entry_data(fields)
    for index in range(0, len(fields or ()) - 1, 2):
        if fields[index] == codec.DATA:
            data: bytes = fields[index + 1]
            return data
    return None


def _error(outcome: Any) -> bool:
    return isinstance(outcome, Exception)


def _fail(commit: _Commit, reason: str) -> None:
    if not commit.done.done():  # a cancelled waiter (stop) needs no answer
        commit.done.set_exception(PublishError(reason))
