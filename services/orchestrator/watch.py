"""Wake-ups when runs change or finish, in this process and across replicas.

Long-polls (``/wait``), event streams and live views register interest in a run before they
read it, then sleep until the run changes: every waiter on one run shares one future, so a
thousand waiters cost nothing while nothing happens. The replica that commits a change tells
the replicas where someone waits on the run, over its partition's Redis channel (``RunNotices``);
in embedded mode there is only this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from redis.asyncio.client import PubSub

from bus.redis_client import RedisClient, publish_all
from bus.tasks import cancel_and_wait
from services.orchestrator.ownership import partition_of
from services.orchestrator.records import Run, Step

log = logging.getLogger(__name__)

CHANNEL = "modx:runs:changed"
FINISHES = ".finished"
"""The suffix of a partition's channel of finishes only (``RunNotices.channel_of``)."""

Final = tuple[Run, dict[str, Step]]
"""A run as the transaction that finished it committed it, with its steps."""


@dataclass(frozen=True, slots=True)
class Commit:
    """What one transaction of this process wrote to a run: the run's version and status
    after it, and its events as committed (each with its ``id``), in order."""

    version: int
    status: str
    events: tuple[dict[str, Any], ...]


class Feed:
    """An event stream's view of one run while the stream is open: this process's commits of
    the run (``Commit``) in the order they came, or a flag that the run changed in a way only
    a read shows (another replica wrote it, notices may have been lost, too many queued)."""

    MAX_QUEUED = 256  # a stream that does not keep up reads the run again instead

    __slots__ = ("_commits", "_ready", "_reread")

    def __init__(self) -> None:
        self._commits: list[Commit] = []
        self._reread = False
        self._ready = asyncio.Event()

    def push(self, commit: Commit | None) -> None:
        if commit is None or self._reread or len(self._commits) >= self.MAX_QUEUED:
            self._reread = True
            self._commits = []
        else:
            self._commits.append(commit)
        self._ready.set()

    def take(self) -> tuple[list[Commit], bool]:
        """The commits queued since the last ``take`` and whether the run must be read."""
        commits, reread = self._commits, self._reread
        self._commits, self._reread = [], False
        self._ready.clear()
        return commits, reread

    async def wait(self, seconds: float) -> bool:
        """True when something came since the last ``take``; False after ``seconds``."""
        if not self._ready.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):  # no task per wait, unlike wait_for
                    await self._ready.wait()
        return self._ready.is_set()


class _Interest:
    """The waiters of one run: one future, resolved at its next change (or finish), with the
    run as finished when this process finished it."""

    __slots__ = ("count", "future")

    def __init__(self) -> None:
        self.future: asyncio.Future[Final | None] = asyncio.get_running_loop().create_future()
        self.count = 0


class Wakeup:
    """Interest in one run, registered before the caller reads it (no change is missed)."""

    def __init__(self, future: asyncio.Future[Final | None]) -> None:
        self._future = future

    @property
    def final(self) -> Final | None:
        """The run and its steps as committed when this process finished it, after a wake-up
        by that commit; None otherwise (another replica finished it, or it only changed): the
        caller reads it."""
        if self._future.done() and not self._future.cancelled():
            return self._future.result()
        return None

    async def wait(self, seconds: float) -> bool:
        """True when the run changed (or finished) since registration; False after ``seconds``."""
        if self._future.done():
            return True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._future), seconds)
        return self._future.done()


class RunWatch:
    """Wakes long-polls and live views in this process when runs change or finish."""

    def __init__(self) -> None:
        self._changed = asyncio.Condition()
        self._on_change: dict[str, _Interest] = {}
        self._on_finish: dict[str, _Interest] = {}
        self._feeds: dict[str, set[Feed]] = {}
        self.version = 0
        self.notices: RunNotices | None = None  # tells the other replicas, when there are any

    async def notify(
        self,
        changed: Iterable[str] = (),
        finished: Iterable[str] = (),
        final: dict[str, Final] | None = None,
        commits: dict[str, Commit | None] | None = None,
        *,
        told: bool = False,
    ) -> None:
        """Runs changed here (``finished`` ones reached a final state): wake the waiters in
        this process and tell the other replicas (unless ``told``: the caller sent
        ``notices.messages`` for them already). ``final`` holds finished runs as committed:
        their waiters here answer without reading them again; ``commits`` what the transaction
        wrote to each run it gave a new version (None: read it): the event streams here send
        it without a read."""
        changed, finished = list(changed), list(finished)
        await self.wake(changed, finished, final, commits)
        if self.notices is not None and (changed or finished) and not told:
            self.notices.send(changed, finished)

    async def wake(
        self,
        changed: Iterable[str] = (),
        finished: Iterable[str] = (),
        final: dict[str, Final] | None = None,
        commits: dict[str, Commit | None] | None = None,
    ) -> None:
        """Wake this process's waiters only (what a notice from another replica does, with
        no ``commits``: its streams read the run)."""
        for run_id in finished:
            found = final.get(run_id) if final is not None else None
            self._resolve(self._on_finish, run_id, found)
            self._resolve(self._on_change, run_id)
        for run_id in changed:
            self._resolve(self._on_change, run_id)
        if self._feeds:
            for run_id in {*changed, *finished} & self._feeds.keys():
                if commits is not None and run_id not in commits:
                    continue  # this process's transaction wrote nothing to it
                commit = commits.get(run_id) if commits is not None else None
                for feed in self._feeds[run_id]:
                    feed.push(commit)
        async with self._changed:
            self.version += 1
            self._changed.notify_all()

    async def wake_all(self, which: Callable[[str], bool] | None = None) -> None:
        """Every waiter (on the runs ``which`` picks) re-reads once: notices about them may
        have been lost (a reconnect, a subscription that was not confirmed yet)."""
        changed = [r for r in {*self._on_change, *self._feeds} if which is None or which(r)]
        await self.wake(changed, [r for r in self._on_finish if which is None or which(r)])

    @staticmethod
    def _resolve(table: dict[str, _Interest], run_id: str, final: Final | None = None) -> None:
        interest = table.pop(run_id, None)
        if interest is not None and not interest.future.done():
            interest.future.set_result(final)

    async def wait(self, seconds: float) -> None:
        """Until the next change of any run, or ``seconds``."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), seconds)

    @contextlib.contextmanager
    def on_change(self, run_id: str) -> Iterator[Wakeup]:
        """Interest in the run's next change; enter before reading the run."""
        with self._interest(self._on_change, run_id, finishes=False) as wakeup:
            yield wakeup

    @contextlib.contextmanager
    def on_finish(self, run_id: str) -> Iterator[Wakeup]:
        """Interest in the run reaching a final state; enter before reading the run."""
        with self._interest(self._on_finish, run_id, finishes=True) as wakeup:
            yield wakeup

    @contextlib.contextmanager
    def _interest(
        self, table: dict[str, _Interest], run_id: str, *, finishes: bool
    ) -> Iterator[Wakeup]:
        interest = table.get(run_id)
        if interest is None:
            interest = table[run_id] = _Interest()
        interest.count += 1
        notices = self.notices  # the other replicas' notices reach this waiter until it leaves
        if notices is not None:
            notices.watch_run(run_id, finishes=finishes)
        try:
            yield Wakeup(interest.future)
        finally:
            interest.count -= 1
            if interest.count == 0 and table.get(run_id) is interest:
                del table[run_id]
            if notices is not None:
                notices.unwatch(run_id, finishes=finishes)

    @contextlib.contextmanager
    def follow(self, run_id: str) -> Iterator[Feed]:
        """Every change of the run from now until the caller leaves (an event stream); enter
        before reading the run."""
        feed = Feed()
        self._feeds.setdefault(run_id, set()).add(feed)
        notices = self.notices
        if notices is not None:
            notices.watch_run(run_id, finishes=False)
        try:
            yield feed
        finally:
            feeds = self._feeds.get(run_id)
            if feeds is not None:
                feeds.discard(feed)
                if not feeds:
                    del self._feeds[run_id]
            if notices is not None:
                notices.unwatch(run_id, finishes=False)

    async def wait_finished(self, run_id: str, seconds: float) -> None:
        """Until the run finishes, or ``seconds`` (callers re-read the run either way)."""
        with self.on_finish(run_id) as wakeup:
            await wakeup.wait(seconds)


class RunNotices:
    """Carries ``RunWatch`` wake-ups between replicas over Redis pub/sub, two channels per
    partition of the runs (``services.orchestrator.ownership.partition_of``): every change,
    and finishes only.

    A replica listens only on the channels of the partitions whose runs someone waits on here
    (and for ``linger_s`` after), so a change costs nothing to a replica where nobody waits
    for it (before, every replica received and parsed every other replica's notices); a
    long-poll (``on_finish``) listens to finishes only, so the steps of the run it waits on
    do not wake its replica (the one that commits them included: its own notices came back).
    Sending never delays the writer: the writer sends a commit's notices with the tasks it
    publishes anyway (``messages``); others are queued and one task publishes whatever is
    queued, one message per channel, in one round trip. Each replica holds one subscription
    connection, whatever its number of waiters. When a channel's subscription is confirmed (or
    re-established), the waiters of its partition re-read once: a change made while it was not
    confirmed costs a read, not a stuck waiter.
    """

    def __init__(
        self,
        client: RedisClient,
        watch: RunWatch,
        channel: str = CHANNEL,
        partitions: int = 12,
        linger_s: float = 30.0,
    ) -> None:
        self.client = client
        self.watch = watch
        self.channel = channel
        self.partitions = partitions
        self.origin = uuid.uuid4().hex  # our own notices come back: skip them
        self._changed: dict[int, set[str]] = {}
        self._finished: dict[int, set[str]] = {}
        self._queued = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._waiters: Counter[str] = Counter()  # runs waited on here, per channel
        # A channel stays subscribed ``linger_s`` after its last waiter left: the next waiter
        # (a client polling /wait again) finds it confirmed, with no re-read to make.
        self.linger_s = linger_s
        self._left_at: dict[str, float] = {}
        self._wanted = asyncio.Event()  # the partitions to listen on changed
        self._listening: set[str] = set()
        self._readable = asyncio.Event()  # a channel was subscribed: there is something to read
        self.subscribed = asyncio.Event()  # listening (its channels follow what is waited on)
        self._topics: dict[str, Callable[[str], None]] = {}  # channels listened to for good

    def channel_of(self, partition: int, *, finishes: bool = False) -> str:
        """The channel of one partition's notices: every change (finishes included), or
        (``finishes``) only the runs that finished."""
        return f"{self.channel}.{partition}" + (FINISHES if finishes else "")

    def start(self) -> None:
        self.watch.notices = self
        self._tasks = [
            asyncio.create_task(self._send_loop(), name="run-notices-send"),
            asyncio.create_task(self._listen_loop(), name="run-notices-listen"),
        ]

    async def stop(self) -> None:
        if self.watch.notices is self:
            self.watch.notices = None
        await cancel_and_wait(self._tasks)
        self._tasks.clear()

    def listen(self, channel: str, handler: Callable[[str], None]) -> None:
        """Listen on ``channel`` until ``unlisten``, whoever waits here, on this replica's one
        subscription connection: each message goes to ``handler``, which must not block (the
        notices wait for it). Other replicas' notices of another kind, over the same means."""
        self._topics[channel] = handler
        self._wanted.set()

    def unlisten(self, channel: str) -> None:
        self._topics.pop(channel, None)
        self._wanted.set()

    def watch_run(self, run_id: str, *, finishes: bool = False) -> None:
        """Someone here waits on ``run_id`` now (for its finish only, or every change):
        listen on its partition's channel of those."""
        channel = self.channel_of(partition_of(run_id, self.partitions), finishes=finishes)
        self._waiters[channel] += 1
        if self._waiters[channel] == 1:
            self._wanted.set()

    def unwatch(self, run_id: str, *, finishes: bool = False) -> None:
        """One waiter here no longer waits on ``run_id`` (as ``watch_run`` registered it)."""
        channel = self.channel_of(partition_of(run_id, self.partitions), finishes=finishes)
        self._waiters[channel] -= 1
        if self._waiters[channel] <= 0:
            del self._waiters[channel]
            self._left_at[channel] = time.monotonic()
            self._wanted.set()

    def send(self, changed: Iterable[str], finished: Iterable[str]) -> None:
        for run_id in changed:
            self._changed.setdefault(partition_of(run_id, self.partitions), set()).add(run_id)
        for run_id in finished:
            self._finished.setdefault(partition_of(run_id, self.partitions), set()).add(run_id)
        self._queued.set()

    def messages(self, changed: Iterable[str], finished: Iterable[str]) -> list[tuple[str, str]]:
        """The (channel, message) pairs that tell the other replicas of these runs, for a
        caller that sends them itself, in a round trip it makes anyway (the writer's publish
        of the tasks its commit queued): one write and one wake-up less than ``send``."""
        by_changed: dict[int, set[str]] = {}
        by_finished: dict[int, set[str]] = {}
        for run_id in changed:
            by_changed.setdefault(partition_of(run_id, self.partitions), set()).add(run_id)
        for run_id in finished:
            by_finished.setdefault(partition_of(run_id, self.partitions), set()).add(run_id)
        return self._messages(by_changed, by_finished)

    def _messages(
        self, changed: dict[int, set[str]], finished: dict[int, set[str]]
    ) -> list[tuple[str, str]]:
        # The origin first: a replica skips its own notices without parsing them. Finishes go
        # to both channels: a long-poll waits on the finishes' channel only, and so is not
        # woken (nor its replica) by every step of the run it waits on.
        every = [
            (
                self.channel_of(partition),
                {"c": list(changed.get(partition, ())), "f": list(finished.get(partition, ()))},
            )
            for partition in changed.keys() | finished.keys()
        ]
        ends = [
            (self.channel_of(partition, finishes=True), {"c": [], "f": list(runs)})
            for partition, runs in finished.items()
        ]
        return [(channel, self.origin + json.dumps(body)) for channel, body in every + ends]

    async def _send_loop(self) -> None:
        while True:
            await self._queued.wait()
            self._queued.clear()
            changed, finished = self._changed, self._finished
            self._changed, self._finished = {}, {}
            try:
                await publish_all(self.client, self._messages(changed, finished))
            except Exception:  # the other replicas' waiters re-read after they reconnect
                log.warning("could not publish run notices; other replicas will re-read")

    async def _listen_loop(self) -> None:
        delay = 0.1
        while True:
            pubsub = self.client.pubsub()
            self._listening = set()  # a new connection: every wanted channel again
            self.subscribed.set()
            tasks = [
                asyncio.create_task(self._follow(pubsub), name="run-notices-follow"),
                asyncio.create_task(self._read(pubsub), name="run-notices-read"),
            ]
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
                for task in done:
                    task.result()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("run notices: subscription lost; resubscribing in %.1fs", delay)
                self.subscribed.clear()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            else:
                delay = 0.1
            finally:
                await cancel_and_wait(tasks)
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _follow(self, pubsub: PubSub) -> None:
        """Subscribe to the channels of the partitions waited on here, and to no others."""
        while True:
            self._wanted.clear()
            now = time.monotonic()
            for channel, left_at in list(self._left_at.items()):
                if channel in self._waiters or left_at + self.linger_s <= now:
                    del self._left_at[channel]
            wanted = set(self._waiters) | self._left_at.keys() | self._topics.keys()
            more, fewer = wanted - self._listening, self._listening - wanted
            if more:
                await pubsub.subscribe(*sorted(more))
                self._readable.set()
            if fewer:
                await pubsub.unsubscribe(*sorted(fewer))
            self._listening = wanted
            expiry = min(self._left_at.values(), default=None)
            timeout = None if expiry is None else max(0.0, expiry + self.linger_s - now)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wanted.wait(), timeout)

    async def _read(self, pubsub: PubSub) -> None:
        while True:
            self._readable.clear()
            if not pubsub.subscribed:  # nothing to read (and no connection) until a subscribe
                await self._readable.wait()
                continue
            message = await pubsub.get_message(timeout=None)
            if message is not None:
                await self._receive(message)

    async def _receive(self, message: dict[str, Any]) -> None:
        kind, channel = message.get("type"), message.get("channel")
        if kind == "subscribe":
            # Confirmed: from now on no change of the partition is missed; what changed
            # before is read again.
            partition = self._partition(channel)
            if partition is not None:
                await self.watch.wake_all(
                    lambda run_id: partition_of(run_id, self.partitions) == partition
                )
            return
        if kind != "message":
            return
        data = message.get("data")
        topic = self._topics.get(channel.decode() if isinstance(channel, bytes) else str(channel))
        if topic is not None:
            topic(data.decode(errors="replace") if isinstance(data, bytes) else str(data))
            return
        if not isinstance(data, bytes | str) or data[:32] in (self.origin, self.origin.encode()):
            return
        try:
            body = json.loads(data[32:])
            changed, finished = list(body.get("c", ())), list(body.get("f", ()))
        except (ValueError, TypeError, AttributeError):
            log.warning("run notices: ignored a malformed notice")
            return
        await self.watch.wake(
            [r for r in changed if isinstance(r, str)], [r for r in finished if isinstance(r, str)]
        )

    def _partition(self, channel: Any) -> int | None:
        name = channel.decode() if isinstance(channel, bytes) else str(channel)
        prefix = self.channel + "."
        index = name[len(prefix) :] if name.startswith(prefix) else ""
        index = index.removesuffix(FINISHES)
        return int(index) if index.isascii() and index.isdigit() else None
