"""A connection of its own for one consumer loop: one write and one wake-up per round trip.

A consumer's reader and its acknowledger each have at most one command (or one pipeline) on
the wire at a time, so each gets a dedicated connection instead of the client's pool. That
skips the client's per-command machinery (pool checkout and release, retry wrapper, event
hooks, and a task per socket write for its write timeout), which costs the process several
times the CPU of the round trip itself. The connection is made like the pool's (same URL,
credentials, TLS, database), on first use, and again after any error.

One timer bounds a whole round trip. It is a bare ``call_later`` that cancels the waiting
task, not ``asyncio.timeout``, whose bookkeeping costs more than the rest of the call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

Arg = bytes | str | int
"""A command argument: sent as is (bytes), UTF-8 (str) or in decimal (int)."""


def pack(command: Sequence[Arg]) -> bytes:
    """``command`` in the Redis protocol (RESP): an array of bulk strings.

    The client's own packer handles every argument type and memoryviews; ours need not, and
    costs a fraction as much.
    """
    parts = [b"*%d\r\n" % len(command)]
    for arg in command:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class Link:
    """One dedicated connection; never shared by two coroutines at once.

    Args:
        client: The client whose pool settings (URL, credentials, TLS, database) to copy.
        timeout_s: Longest wait for the replies of one ``call``, on top of its ``block_s``.
    """

    def __init__(self, client: Redis, timeout_s: float) -> None:
        pool = client.connection_pool
        # No socket timeout on the connection: ``call`` bounds the whole round trip with one
        # timer instead of the connection's timer per read and task per write.
        kwargs = {**pool.connection_kwargs, "socket_timeout": None}
        self._conn = pool.connection_class(**kwargs)
        self._timeout_s = timeout_s

    async def call(self, commands: Sequence[Sequence[Arg]], *, block_s: float = 0.0) -> list[Any]:
        """Send ``commands`` in one write and read their replies, in order.

        Args:
            commands: Commands with their arguments, e.g. ``[("XACK", stream, group, id)]``.
            block_s: How long the server may hold a reply back (``BLOCK``).

        Returns:
            One reply per command; an error reply is returned as its ``ResponseError``.

        Raises:
            redis.exceptions.ConnectionError: The connection failed (it is closed; the next
                call opens a new one).
            TimeoutError: No reply in time (likewise).
        """
        return await self.call_packed(b"".join(map(pack, commands)), len(commands), block_s)

    async def call_packed(self, data: bytes, replies: int, block_s: float = 0.0) -> list[Any]:
        """Like ``call``, for commands already packed (``pack``) into ``data``."""
        conn = self._conn
        guard = _Guard(self._timeout_s + block_s)
        try:
            await conn.send_packed_command(data)
            out: list[Any] = []
            for _ in range(replies):
                try:
                    out.append(await conn.read_response())
                except ResponseError as exc:  # read in full: the next reply follows
                    out.append(exc)
            return out
        except BaseException as exc:
            # Replies may still be on their way: never reuse a connection out of step.
            await conn.disconnect(nowait=True)
            if isinstance(exc, asyncio.CancelledError) and guard.expired():
                raise TimeoutError(f"no reply from Redis in {guard.delay_s:.1f}s") from None
            raise
        finally:
            guard.cancel()

    async def close(self) -> None:
        """Close the connection (a later ``call`` opens it again)."""
        await self._conn.disconnect()


class _Guard:
    """Cancels the current task after ``delay_s`` unless cancelled first (a lean timeout)."""

    __slots__ = ("_fired", "_handle", "_task", "delay_s")

    def __init__(self, delay_s: float) -> None:
        task = asyncio.current_task()
        assert task is not None, "a Link is used from a task"
        self._task = task
        self._fired = False
        self.delay_s = delay_s
        self._handle = asyncio.get_running_loop().call_later(delay_s, self._fire)

    def _fire(self) -> None:
        self._fired = True
        self._task.cancel()

    def expired(self) -> bool:
        """True when this guard's cancellation, and no other, is what stopped the task."""
        return self._fired and self._task.uncancel() == 0

    def cancel(self) -> None:
        """Disarm (when the call ended in time)."""
        self._handle.cancel()
