"""Throttling of failed token checks and logins, per client address and across all of them.

Failures are counted in fixed windows of ``window_s`` seconds. Once an address has failed
``per_address`` times in the current window, every token check from it answers 429 until the
window ends, a right token included, so that guessing stops rather than only failing. Once all
addresses together have failed ``overall`` times, checks answer 429 for every address that has
not authenticated successfully within the last window: a spread-out guesser is stopped while
clients already working keep working.

With Redis (distributed mode) the counters live there, so replicas agree; embedded, they live
in this process. A check costs one Redis round trip (``MGET``; the checks asked while one is
on its way share the next); a success writes at most once per address and half-window per
process. On a Redis Cluster every counter has the same hash tag, so that one ``MGET`` still
reads them from one node.

The same ``MGET`` reads the *token epoch*, a number that changes whenever an issued token is
revoked or rotated (``tokens_changed``, after the commit): the principals of issued tokens are
cached under the epoch they were read in (``services.auth.PrincipalCache``), so a change is
seen by every replica on its next request at no extra round trip. It reads the *definitions
epoch* too, changed whenever a workflow definition is registered (``definitions_changed``, after
the commit, before the answer): the latest version of each workflow is cached under it
(``services.orchestrator.workflows.SharedLookups``), so a run started after a registration was
answered gets the new version on every replica. Each epoch starts at a random value (``seed``),
and a change of a key that is gone (Redis lost its data) starts it again at a random value, so
that an old epoch never comes back.
"""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from bus.tasks import cancel_and_wait

PREFIX = "{modx:auth}"  # the hash tag: all counters in one slot (one MGET on a cluster)
EPOCH = f"{PREFIX}:epoch"  # changes at each revoked or rotated token (see the module)
DEFINITIONS = f"{PREFIX}:definitions"  # changes at each workflow registration (see the module)


def random_epoch() -> int:
    """A fresh epoch: far from any earlier one (63 random bits), never 0 (no epoch)."""
    return secrets.randbits(62) + 1


@dataclass(frozen=True)
class Limits:
    """How many failures a window allows, per address and overall."""

    per_address: int = 10
    overall: int = 300
    window_s: float = 60.0


class Checked(NamedTuple):
    """What a token check may go on with: seconds to wait when it may not (else None), and the
    epochs read with the counters (0 when not set yet: set then, for the next check)."""

    retry_after: int | None
    epoch: int
    definitions: int


class Counters(Protocol):
    """Where failures and recent successes are kept."""

    async def read(self, keys: list[str]) -> list[int]:
        """The counts of ``keys`` (0 when absent or expired)."""

    async def add(self, keys: list[str], ttl_s: float) -> list[int]:
        """Add one to each key (expiring after ``ttl_s``); returns the new counts."""

    async def mark(self, key: str, ttl_s: float) -> None:
        """Set ``key`` to 1 for ``ttl_s`` seconds."""

    async def seed(self, key: str) -> None:
        """Set ``key`` (no expiry) to a random epoch unless it is set."""

    async def bump(self, key: str) -> None:
        """Add one to ``key`` (no expiry), seeding it first when it is not set."""

    async def close(self) -> None:
        """Release connections."""


class MemoryCounters:
    """Counters of this process (embedded mode)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._values: dict[str, tuple[int, float]] = {}

    def _get(self, key: str, now: float) -> int:
        value = self._values.get(key)
        if value is None or value[1] <= now:
            return 0
        return value[0]

    async def read(self, keys: list[str]) -> list[int]:
        now = self._clock()
        return [self._get(key, now) for key in keys]

    async def add(self, keys: list[str], ttl_s: float) -> list[int]:
        now = self._clock()
        if len(self._values) > 100_000:  # keys of past windows
            self._values = {k: v for k, v in self._values.items() if v[1] > now}
        counts = []
        for key in keys:
            count = self._get(key, now) + 1
            expires = self._values[key][1] if count > 1 else now + ttl_s
            self._values[key] = (count, expires)
            counts.append(count)
        return counts

    async def mark(self, key: str, ttl_s: float) -> None:
        self._values[key] = (1, self._clock() + ttl_s)

    async def seed(self, key: str) -> None:
        if not self._get(key, self._clock()):
            self._values[key] = (random_epoch(), math.inf)

    async def bump(self, key: str) -> None:
        await self.seed(key)
        self._values[key] = (self._values[key][0] + 1, math.inf)

    async def close(self) -> None:
        self._values.clear()


POOL_SIZE = 32


class RedisCounters:
    """Counters in Redis, shared by every replica."""

    def __init__(self, url: str) -> None:
        from bus.redis_client import connect

        self._client = connect(url)
        # Every request reads the counters: a burst of requests waits for one of a bounded
        # set of connections (past its ceiling a pool fails, which would answer 503 to a
        # burst of clients).
        self._slots = asyncio.Semaphore(POOL_SIZE)
        self._asked: list[tuple[list[str], asyncio.Future[list[int]]]] = []
        self._reader: asyncio.Task[None] | None = None

    async def read(self, keys: list[str]) -> list[int]:
        """The counts, by one ``MGET`` shared with the reads asked meanwhile.

        Every request reads the counters, and a burst of requests asks for them at once:
        the reads asked while one ``MGET`` is on its way go out together in the next one,
        sent after each of them was asked (so none gets a count older than its request).
        """
        asked: asyncio.Future[list[int]] = asyncio.get_running_loop().create_future()
        self._asked.append((keys, asked))
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read_asked(), name="auth-counters")
        return await asked

    async def _read_asked(self) -> None:
        while self._asked:
            asked, self._asked = self._asked, []
            keys = list(dict.fromkeys(key for wanted, _ in asked for key in wanted))
            try:
                async with self._slots:
                    values = await self._client.mget(keys)
            except BaseException as exc:
                for _, future in asked:
                    if future.done():  # its request went away
                        continue
                    if isinstance(exc, Exception):
                        future.set_exception(exc)
                    else:
                        future.cancel()
                if not isinstance(exc, Exception):
                    raise
                continue
            found = zip(keys, values, strict=True)
            counts = {key: int(value) if value is not None else 0 for key, value in found}
            for wanted, future in asked:
                if not future.done():
                    future.set_result([counts[key] for key in wanted])

    async def add(self, keys: list[str], ttl_s: float) -> list[int]:
        async with self._slots, self._client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.incr(key)
                pipe.expire(key, math.ceil(ttl_s), nx=True)
            results = await pipe.execute()
        return [int(r) for r in results[::2]]

    async def mark(self, key: str, ttl_s: float) -> None:
        async with self._slots:
            await self._client.set(key, 1, ex=math.ceil(ttl_s))

    async def seed(self, key: str) -> None:
        async with self._slots:
            await self._client.set(key, random_epoch(), nx=True)

    async def bump(self, key: str) -> None:
        async with self._slots, self._client.pipeline(transaction=False) as pipe:
            pipe.set(key, random_epoch(), nx=True)
            pipe.incr(key)
            await pipe.execute()

    async def close(self) -> None:
        if self._reader is not None:
            await cancel_and_wait([self._reader])
        await self._client.aclose()


class AuthThrottle:
    """Decides whether a token check may happen, and counts the ones that fail."""

    def __init__(
        self, counters: Counters, limits: Limits, clock: Callable[[], float] = time.time
    ) -> None:
        self.counters = counters
        self.limits = limits
        self._clock = clock
        self._marked: dict[str, float] = {}

    def _window(self) -> tuple[int, float]:
        now = self._clock()
        window = int(now // self.limits.window_s)
        return window, (window + 1) * self.limits.window_s - now

    def _keys(self, address: str, window: int) -> list[str]:
        return [f"{PREFIX}:fail:{address}:{window}", f"{PREFIX}:fail:*:{window}"]

    async def blocked(self, address: str) -> int | None:
        """Seconds to wait (for ``Retry-After``) when ``address`` may not try now, else None."""
        return (await self.check(address))[0]

    async def check(self, address: str) -> Checked:
        """What ``blocked`` answers, with the token and definitions epochs."""
        window, left = self._window()
        mine, everyone, trusted, epoch, definitions = await self.counters.read(
            [*self._keys(address, window), f"{PREFIX}:ok:{address}", EPOCH, DEFINITIONS]
        )
        for key, value in ((EPOCH, epoch), (DEFINITIONS, definitions)):
            if not value:
                await self.counters.seed(key)
        if mine >= self.limits.per_address or (everyone >= self.limits.overall and not trusted):
            return Checked(max(1, math.ceil(left)), epoch, definitions)
        return Checked(None, epoch, definitions)

    async def tokens_changed(self) -> None:
        """An issued token was revoked or rotated (and committed): every cached principal is
        stale from the next check on, on every replica."""
        await self.counters.bump(EPOCH)

    async def definitions_changed(self) -> None:
        """A workflow definition was registered (and committed): every cached latest version is
        stale from the next check on, on every replica."""
        await self.counters.bump(DEFINITIONS)

    async def failed(self, address: str) -> int | None:
        """Count a failure; seconds to wait when that used up the address's allowance."""
        window, left = self._window()
        mine, everyone = await self.counters.add(
            self._keys(address, window), 2 * self.limits.window_s
        )
        if mine >= self.limits.per_address or everyone >= self.limits.overall:
            return max(1, math.ceil(left))
        return None

    async def succeeded(self, address: str) -> None:
        """``address`` authenticated: it stays trusted through a global lock-down."""
        now = time.monotonic()
        if now - self._marked.get(address, -math.inf) < self.limits.window_s / 2:
            return
        if len(self._marked) > 10_000:
            self._marked.clear()
        self._marked[address] = now
        await self.counters.mark(f"{PREFIX}:ok:{address}", self.limits.window_s)

    async def close(self) -> None:
        """Release the counters' connections."""
        await self.counters.close()
