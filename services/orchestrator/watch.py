"""Wake-ups when runs change or finish, in this process and across replicas.

Long-polls (``/wait``), event streams and live views register interest in a run before they
read it, then sleep until the run changes: every waiter on one run shares one future, so a
thousand waiters cost nothing while nothing happens. The replica that commits a change tells
the others over a Redis channel (``RunNotices``); in embedded mode there is only this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from bus.redis_client import RedisClient

log = logging.getLogger(__name__)

CHANNEL = "modx:runs:changed"


class _Interest:
    """The waiters of one run: one future, resolved at its next change (or finish)."""

    __slots__ = ("count", "future")

    def __init__(self) -> None:
        self.future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.count = 0


class Wakeup:
    """Interest in one run, registered before the caller reads it (no change is missed)."""

    def __init__(self, future: asyncio.Future[None]) -> None:
        self._future = future

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
        self.version = 0
        self.notices: RunNotices | None = None  # tells the other replicas, when there are any

    async def notify(self, changed: Iterable[str] = (), finished: Iterable[str] = ()) -> None:
        """Runs changed here (``finished`` ones reached a final state): wake the waiters in
        this process and tell the other replicas."""
        changed, finished = list(changed), list(finished)
        await self.wake(changed, finished)
        if self.notices is not None and (changed or finished):
            self.notices.send(changed, finished)

    async def wake(self, changed: Iterable[str] = (), finished: Iterable[str] = ()) -> None:
        """Wake this process's waiters only (what a notice from another replica does)."""
        for run_id in finished:
            _resolve(self._on_finish.pop(run_id, None))
            _resolve(self._on_change.pop(run_id, None))
        for run_id in changed:
            _resolve(self._on_change.pop(run_id, None))
        async with self._changed:
            self.version += 1
            self._changed.notify_all()

    async def wake_all(self) -> None:
        """Every waiter re-reads once (after notices may have been lost, e.g. a reconnect)."""
        await self.wake(list(self._on_change), list(self._on_finish))

    async def wait(self, seconds: float) -> None:
        """Until the next change of any run, or ``seconds``."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), seconds)

    @contextlib.contextmanager
    def on_change(self, run_id: str) -> Iterator[Wakeup]:
        """Interest in the run's next change; enter before reading the run."""
        with _interest(self._on_change, run_id) as wakeup:
            yield wakeup

    @contextlib.contextmanager
    def on_finish(self, run_id: str) -> Iterator[Wakeup]:
        """Interest in the run reaching a final state; enter before reading the run."""
        with _interest(self._on_finish, run_id) as wakeup:
            yield wakeup

    async def wait_finished(self, run_id: str, seconds: float) -> None:
        """Until the run finishes, or ``seconds`` (callers re-read the run either way)."""
        with self.on_finish(run_id) as wakeup:
            await wakeup.wait(seconds)


def _resolve(interest: _Interest | None) -> None:
    if interest is not None and not interest.future.done():
        interest.future.set_result(None)


@contextlib.contextmanager
def _interest(table: dict[str, _Interest], run_id: str) -> Iterator[Wakeup]:
    interest = table.get(run_id)
    if interest is None:
        interest = table[run_id] = _Interest()
    interest.count += 1
    try:
        yield Wakeup(interest.future)
    finally:
        interest.count -= 1
        if interest.count == 0 and table.get(run_id) is interest:
            del table[run_id]


class RunNotices:
    """Carries ``RunWatch`` wake-ups between replicas over one Redis pub/sub channel.

    Sending never delays the writer: notices are queued and one task publishes whatever is
    queued as one message. Each replica holds one subscription, whatever its number of
    waiters. After the subscription is (re)established every local waiter re-reads once, so
    a notice lost while disconnected costs a read, not a stuck waiter.
    """

    def __init__(self, client: RedisClient, watch: RunWatch, channel: str = CHANNEL) -> None:
        self.client = client
        self.watch = watch
        self.channel = channel
        self.origin = uuid.uuid4().hex  # our own notices come back: skip them
        self._changed: set[str] = set()
        self._finished: set[str] = set()
        self._queued = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.subscribed = asyncio.Event()

    def start(self) -> None:
        self.watch.notices = self
        self._tasks = [
            asyncio.create_task(self._send_loop(), name="run-notices-send"),
            asyncio.create_task(self._listen_loop(), name="run-notices-listen"),
        ]

    async def stop(self) -> None:
        if self.watch.notices is self:
            self.watch.notices = None
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def send(self, changed: Iterable[str], finished: Iterable[str]) -> None:
        self._changed.update(changed)
        self._finished.update(finished)
        self._queued.set()

    async def _send_loop(self) -> None:
        while True:
            await self._queued.wait()
            self._queued.clear()
            changed, finished = list(self._changed), list(self._finished)
            self._changed.clear()
            self._finished.clear()
            # The origin first: a replica skips its own notices without parsing them.
            message = self.origin + json.dumps({"c": changed, "f": finished})
            try:
                await self.client.publish(self.channel, message)
            except Exception:  # the other replicas' waiters re-read after they reconnect
                log.warning("could not publish run notices; other replicas will re-read")

    async def _listen_loop(self) -> None:
        delay = 0.1
        while True:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.subscribed.set()
                delay = 0.1
                await self.watch.wake_all()
                async for message in pubsub.listen():
                    await self._receive(message)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("run notices: subscription lost; resubscribing in %.1fs", delay)
                self.subscribed.clear()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _receive(self, message: dict[str, Any]) -> None:
        if message.get("type") != "message":
            return
        data = message.get("data")
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
