"""The Redis functions a consumer commits with (``FCALL``), so that agents need no ``EVAL``.

A user that may ``EVAL`` runs any Lua it likes. ACL rules check the commands and keys a
script touches, never how long it runs: ``while true do end`` blocks Redis for every tenant,
and after one write first even ``SCRIPT KILL`` is refused (``UNKILLABLE``): only
``SHUTDOWN NOSAVE`` ends it. So agents' users may ``FCALL`` these functions, which the server
loads (``load``; an agent's user may not ``FUNCTION LOAD``), and run no code of their own.

Each function is the script it replaces, with the same arguments (``KEYS``, ``ARGV``): an
error stops it before its ``XACK`` (MULTI/EXEC would run the ``XACK`` after a failed
``XADD``), and Redis checks each command it runs against the caller's user, as in a script.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import RedisCluster
from redis.exceptions import ResponseError

from bus.redis_client import FunctionsMissing, RedisClient

LIBRARY = "modx_bus"

COMMIT = "modx_commit"
"""KEYS[1]: the consumed stream; KEYS[2..]: one reply stream per reply. ARGV[1]: the group;
ARGV[2]: k, the number of entry ids; ARGV[3..2+k]: the ids; then one data per reply."""

DEAD_LETTER = "modx_dead_letter"
"""KEYS[1]: the consumed stream; KEYS[2]: its dead-letter stream. ARGV[1]: the group;
ARGV[2]: the entry id; ARGV[3..]: the dead letter's fields and values."""

CODE = f"""#!lua name={LIBRARY}
redis.register_function('{COMMIT}', function(KEYS, ARGV)
  local k = tonumber(ARGV[2])
  for i = 2, #KEYS do
    redis.call('XADD', KEYS[i], '*', 'data', ARGV[k + i + 1])
  end
  return redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, 3, k + 2))
end)
redis.register_function('{DEAD_LETTER}', function(KEYS, ARGV)
  redis.call('XADD', KEYS[2], '*', unpack(ARGV, 3))
  return redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
end)
"""


def missing(reply: object) -> bool:
    """True when ``reply`` is Redis's answer to an ``FCALL`` of a function it does not have."""
    return isinstance(reply, ResponseError) and "Function not found" in str(reply)


async def load(client: RedisClient) -> None:
    """Load (or replace) the library: on one server, or on every primary of a cluster
    (replicas get it from their primary, and refuse it themselves).

    Raises:
        FunctionsMissing: This user may not load functions (an agent's).
    """
    command: tuple[Any, ...] = ("FUNCTION", "LOAD", "REPLACE", CODE)
    try:
        if isinstance(client, RedisCluster):
            await client.execute_command(*command, target_nodes=RedisCluster.PRIMARIES)
        else:
            await client.execute_command(*command)  # type: ignore[no-untyped-call]
    except ResponseError as exc:
        if "no permissions" in str(exc):
            raise FunctionsMissing(f"the bus's functions are not loaded yet: {exc}") from exc
        raise
