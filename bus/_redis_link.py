"""A connection of its own for one consumer loop: one write and one wake-up per round trip.

A consumer's reader and its acknowledger each have at most one command (or one pipeline) on
the wire at a time, so each gets a dedicated connection instead of the client's pool. That
skips the client's per-command machinery (pool checkout and release, retry wrapper, event
hooks, and a task per socket write for its write timeout), which costs the process several
times the CPU of the round trip itself. The connection is made like the pool's (same URL,
credentials, TLS, database), on first use, and again after any error. On a Redis Cluster it
goes to the node that owns the link's key (the stream), and follows the key when its slot
moves (a ``MOVED`` reply) or its node fails over.

One timer bounds a whole round trip. It is a bare ``call_later`` that cancels the waiting
task, not ``asyncio.timeout``, whose bookkeeping costs more than the rest of the call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import AskError, ResponseError

from bus.redis_client import RedisClient

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
        client: The client whose connection settings (URL, credentials, TLS, database) to copy.
        timeout_s: Longest wait for the replies of one ``call``, on top of its ``block_s``.
        key: On a cluster, the key whose node to talk to (every command must be for a key
            of its slot).
    """

    def __init__(self, client: RedisClient, timeout_s: float, key: str | None = None) -> None:
        if isinstance(client, RedisCluster) and key is None:
            raise ValueError("a link to a Redis Cluster needs the key it serves")
        self._client = client
        self._key = key
        self._conn: AbstractConnection | None = None
        self._timeout_s = timeout_s
        self._refresh = False  # re-read the cluster's layout before the next connection

    async def _connection(self) -> AbstractConnection:
        if self._conn is not None:
            return self._conn
        client = self._client
        if isinstance(client, Redis):
            cls, kwargs = (
                client.connection_pool.connection_class,
                client.connection_pool.connection_kwargs,
            )
        else:
            assert self._key is not None
            await client.initialize()
            if self._refresh:
                await client.nodes_manager.initialize()
                self._refresh = False
            node = client.get_node_from_key(self._key)
            assert node is not None
            cls, kwargs = node.connection_class, node.connection_kwargs
        # No socket timeout on the connection: ``call`` bounds the whole round trip with one
        # timer instead of the connection's timer per read and task per write.
        self._conn = cls(**{**kwargs, "socket_timeout": None})
        return self._conn

    def _lost(self) -> None:
        """Forget the connection; on a cluster, look up the key's node again first."""
        self._conn = None
        self._refresh = isinstance(self._client, RedisCluster)

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
        guard = _Guard(self._timeout_s + block_s)
        conn: AbstractConnection | None = None
        try:
            conn = await self._connection()
            await conn.send_packed_command(data)
            out: list[Any] = []
            for _ in range(replies):
                try:
                    out.append(await conn.read_response())
                except ResponseError as exc:  # read in full: the next reply follows
                    out.append(exc)
                    if isinstance(exc, AskError):  # MOVED or ASK: the slot is elsewhere now
                        self._lost()
            if self._conn is None:  # the reply was read in full: the old node can go
                await conn.disconnect()
            return out
        except BaseException as exc:
            # Replies may still be on their way: never reuse a connection out of step.
            if conn is not None:
                await conn.disconnect(nowait=True)
            self._lost()
            if isinstance(exc, asyncio.CancelledError) and guard.expired():
                raise TimeoutError(f"no reply from Redis in {guard.delay_s:.1f}s") from None
            raise
        finally:
            guard.cancel()

    async def close(self) -> None:
        """Close the connection (a later ``call`` opens it again)."""
        if self._conn is not None:
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
