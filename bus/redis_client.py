"""Redis clients from a URL: one server, or a Redis Cluster.

``redis://``, ``rediss://`` and ``unix://`` name one server. ``redis+cluster://`` and
``rediss+cluster://`` name a Redis Cluster by any of its nodes (a managed service's
configuration endpoint): the client learns the others and each slot's owner from it, and
follows the cluster when slots move. Everything else in the URL (credentials, TLS, query
options) means what it means for one server; a cluster has no database number.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, TypeAlias
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import Redis, RedisCluster
from redis.exceptions import (
    ClusterError,
    OutOfMemoryError,
    RedisClusterUnreachableError,
    ResponseError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

CLUSTER_SUFFIX = "+cluster"
SINGLE_SCHEMES = frozenset({"redis", "rediss", "unix"})
CLUSTER_SCHEMES = frozenset({"redis" + CLUSTER_SUFFIX, "rediss" + CLUSTER_SUFFIX})
SCHEMES = SINGLE_SCHEMES | CLUSTER_SCHEMES

RedisClient: TypeAlias = Redis | RedisCluster
"""A client of one server or of a cluster; both take the same data commands."""

CLUSTER_UNREACHABLE = (
    ClusterError,  # CLUSTERDOWN, MASTERDOWN: a failover under way
    TryAgainError,  # a slot is migrating
    RedisClusterUnreachableError,  # no node answers
    SlotNotCoveredError,  # a slot has no owner, for now
)
"""A Redis Cluster's ways of saying that it cannot serve a key now."""

FULL = (OutOfMemoryError,)
"""A Redis at ``maxmemory`` with nothing it may evict (``noeviction``, the setting streams
need): it answers, and refuses writes until memory is freed. (``LOADING``, a Redis reading its
data after a restart, is already a ``ConnectionError`` in redis-py.)"""


class StreamBlocked(ResponseError):
    """A stream refuses every append: its last id is the last possible one, which only an
    agent forging an id can set. The orchestrators' audit sets it back (``bus.audit``), so
    the append is worth retrying, like one to a Redis that is down."""


class FunctionsMissing(ResponseError):
    """Redis lacks the bus's functions (restarted empty) and this user may not load them (an
    agent's): the leader's next round loads them again (``bus.functions``), so the call is
    worth retrying, like one to a Redis that is down."""


UNREACHABLE = (
    RedisConnectionError,
    RedisTimeoutError,
    OSError,
    *CLUSTER_UNREACHABLE,
    *FULL,
    StreamBlocked,
    FunctionsMissing,
)
"""Errors after which the same command may succeed later (Redis down, restarting, slow, full,
a cluster failing over, or a stream blocked by a forged id until the audit sets it back)."""


def is_cluster(url: str) -> bool:
    """True when ``url`` names a Redis Cluster."""
    return urlsplit(url).scheme.lower() in CLUSTER_SCHEMES


def server_url(url: str) -> str:
    """``url`` with the cluster marker taken off its scheme (what redis-py reads)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in CLUSTER_SCHEMES:
        scheme = scheme.removesuffix(CLUSTER_SUFFIX)
    return urlunsplit((scheme, parts.netloc, parts.path, parts.query, parts.fragment))


def connect(url: str, **options: Any) -> RedisClient:
    """A client for the server or cluster that ``url`` names (no connection is made yet).

    Args:
        url: A Redis URL; see the module's docstring for the schemes.
        **options: Client options, e.g. ``socket_timeout`` or ``decode_responses``.
    """
    if is_cluster(url):
        # Like one server's pool, a node's has no ceiling unless asked (redis-py's cluster
        # default, 100, would fail a burst of waiters instead of opening connections).
        options.setdefault("max_connections", 2**31)
        return RedisCluster.from_url(server_url(url), **options)
    return Redis.from_url(url, **options)


async def on_every_node(client: RedisClient, *command: Any) -> list[Any]:
    """Run a server command (``ACL SETUSER``, ``SCRIPT LOAD``) on one server, or on each node
    of a cluster, replicas included: a replica keeps its own users and scripts, and becomes
    the owner of its slots when its primary fails."""
    if isinstance(client, RedisCluster):
        await client.initialize()
        # One node at a time: each reply as the node gave it, not folded by redis-py.
        return [
            await client.execute_command(*command, target_nodes=node) for node in client.get_nodes()
        ]
    return [await client.execute_command(*command)]  # type: ignore[no-untyped-call]


async def publish_all(client: RedisClient, messages: Sequence[tuple[str, str]]) -> None:
    """PUBLISH each (channel, message): in one pipeline to one server; to a cluster, whose
    redis-py client refuses PUBLISH in a pipeline, as single commands sent together."""
    if isinstance(client, RedisCluster):
        await asyncio.gather(*(client.publish(channel, message) for channel, message in messages))
        return
    pipe = client.pipeline(transaction=False)
    for channel, message in messages:
        pipe.publish(channel, message)
    await pipe.execute()


def retryable(reply: object) -> BaseException | None:
    """``reply`` (a command's outcome) when it is an error worth retrying (``UNREACHABLE``;
    a blocked stream's refusal as ``StreamBlocked``), else None."""
    if isinstance(reply, ResponseError) and "exhausted the last possible ID" in str(reply):
        return reply if isinstance(reply, StreamBlocked) else StreamBlocked(str(reply))
    return reply if isinstance(reply, UNREACHABLE) else None
