"""Whether Redis itself bounds what agents' own users may append, said once at start.

ACL rules cannot bound an ``XADD``'s size or count, and MODX removes oversized entries only
after it has read them (``MODX_BUS_MAX_ENTRY_BYTES``): Redis's ``maxmemory`` (with
``noeviction``: an evicting policy drops whole streams) and ``proto-max-bulk-len`` are the
bounds that hold before that. A managed Redis may refuse ``CONFIG GET``: that is said too.
"""

from __future__ import annotations

from typing import Any

from bus.redis_client import RedisClient, on_every_node

LOUD_BULK_LEN = 64 * 1024 * 1024
"""A ``proto-max-bulk-len`` above this is said: room for a task that gathers many answers
(docs/deploy.md), far under Redis's default of 512 MB."""


def _config(reply: Any) -> dict[str, str]:
    """A ``CONFIG GET`` reply (a dict from redis-py, or a flat list) as text."""
    if isinstance(reply, dict):
        pairs = list(reply.items())
    else:
        pairs = list(zip(reply[::2], reply[1::2], strict=True))
    text = {k.decode() if isinstance(k, bytes) else str(k): v for k, v in pairs}
    return {k: v.decode() if isinstance(v, bytes) else str(v) for k, v in text.items()}


async def memory_warnings(client: RedisClient, max_entry_bytes: int) -> list[str]:
    """What lets one agent's Redis user fill Redis's memory (empty when nothing does)."""
    names = ("maxmemory", "maxmemory-policy", "proto-max-bulk-len")
    try:
        nodes = [
            {name: _config(reply)[name] for name in names}
            for reply in await on_every_node(client, "CONFIG", "GET", *names)
        ]
    except Exception as exc:  # a managed Redis that refuses CONFIG, or an older one
        return [
            f"Redis's memory limits could not be read ({exc}): check maxmemory, "
            "maxmemory-policy noeviction and proto-max-bulk-len yourself"
        ]
    found: list[str] = []
    for node in nodes:
        if int(node["maxmemory"]) == 0:
            found.append("maxmemory is 0: one agent's user can append until the host's memory ends")
        if node["maxmemory-policy"] != "noeviction":
            found.append(
                f"maxmemory-policy is {node['maxmemory-policy']}: full, Redis evicts whole "
                "streams (tasks and answers); set noeviction"
            )
        bulk = int(node["proto-max-bulk-len"])
        if bulk > max(LOUD_BULK_LEN, max_entry_bytes):
            found.append(
                f"proto-max-bulk-len is {bulk} bytes: one XADD of an agent may carry that much "
                f"before MODX reads it and removes it (MODX_BUS_MAX_ENTRY_BYTES={max_entry_bytes})"
            )
    return list(dict.fromkeys(found))  # a cluster's nodes alike: said once
