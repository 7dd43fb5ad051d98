"""What a registered agent may do on the bus: its own Redis ACL user, never the server's.

On Redis, registering a bus agent creates the user ``modx-agent-<agent id>`` with a random
password, and the registration's ``bus_url`` carries that user. It may:

- consume its capabilities' task streams and its own pinned-task stream (read with its consumer
  group, acknowledge, reclaim);
- append to ``modx.results``, to its partition streams ``modx.results.<n>`` (where a task's
  ``reply_to`` sends its answers: the same checks apply there), and to those task streams'
  dead-letter streams, and to nothing else (not to ``modx.results.dlq``).

It cannot read another capability's stream, write a task, or touch any other key. It can pick
the id of what it appends and trim while appending (ACL rules never look at arguments): the
orchestrators' audit of the results streams undoes both (``bus.audit``), and so does the
leader's of its capabilities' dead-letter streams (``audit``), where trimmed dead letters are
counted but cannot come back. Nor can ACL rules bound an entry's size: the server removes
entries over ``MODX_BUS_MAX_ENTRY_BYTES`` where it reads them (the results consumers, the
same audit), and says at start when Redis's own limits let one agent fill its memory
(``services.redis_limits``). It runs no code of its own: no ``EVAL``, whose Lua may loop
for ever and block Redis for everyone, only ``FCALL`` of the server's functions
(``bus.functions``: append the result, acknowledge the task), whose commands Redis checks
against its rules too. The user is deleted when the agent is removed.

Redis keeps ACL users in memory only: a restart (empty or from its AOF) forgets them. Each
agent's password is therefore derived from a server secret (an HMAC of its id), so that any
replica can make a lost user again, with the same password, without storing passwords:
``restore`` does it for the live agents, and their clients' reconnect loops log in again.

On a Redis Cluster each node keeps its own users (``ACL SETUSER`` is not replicated), so a
user is made on every node, replicas included; ``restore`` makes again a user that any node
lost. The user may also ask any node for the cluster's layout (``CLUSTER SLOTS``, ``COMMAND``),
which a cluster client needs before it can route a command.

In the embedded mode the bus is in-process: there is nothing to hand out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit, urlunsplit

from redis.asyncio import Redis, RedisCluster

from bus import functions, streams
from bus.audit import Audit
from bus.redis_client import RedisClient, on_every_node
from bus.transport import Transport
from services import metrics

log = logging.getLogger(__name__)

USER_PREFIX = "modx-agent-"

# Connection housekeeping every client needs (redis-py sends HELLO/SETINFO/SELECT itself);
# SELECT of the server's database only (``agent_rules``).
_CONNECTION = ("+ping", "+hello", "+auth", "+client|setname")
# Consuming a stream with a group: read, acknowledge, reclaim, inspect the pending list.
_CONSUME = (
    "+xreadgroup",
    "+xack",
    "+xautoclaim",
    "+xclaim",
    "+xpending",
    "+xgroup|create",
)
# What a cluster client asks before its first command: the slots' owners, the command table.
_CLUSTER_LAYOUT = ("+cluster|slots", "+cluster|shards", "+cluster|nodes", "+command")


def audience(tenant: str, shared: bool) -> str:
    """Whom a capability's tasks belong to: every tenant's (``shared``), or one tenant's."""
    return "shared" if shared else f"tenant:{tenant}"


@dataclass(frozen=True)
class Granted:
    """A bus agent's access: its ``bus_url``, and the capabilities whose task stream it may
    not read (another audience's), whose tasks come to its inbox instead."""

    bus_url: str
    inbox_only: list[str]


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def user_name(agent_id: str) -> str:
    """The Redis user of an agent."""
    return USER_PREFIX + agent_id


def agent_rules(
    agent_id: str,
    capabilities: Iterable[str],
    password: str,
    *,
    cluster: bool = False,
    partitions: int = 0,
    database: int = 0,
) -> list[str]:
    """The ``ACL SETUSER`` rules of an agent's user (one selector per kind of access); on a
    cluster (``cluster``), with the commands that learn its layout. ``partitions``: how many
    partition streams of results there are (each named, never a pattern). ``database``: the
    one database it may ``SELECT`` (key patterns hold in every database of the server, so
    another database's streams of the same names, another deployment's, would be its too)."""
    readable = [streams.tasks(name) for name in sorted(set(capabilities))]
    readable += [streams.inbox(agent_id), streams.control(agent_id)]
    replies = [streams.RESULTS, *(streams.result_partition(p) for p in range(partitions))]
    writable = [*replies, *(streams.dlq(stream, cluster) for stream in readable)]
    consume = [*_CONSUME, *(f"~{stream}" for stream in readable)]
    append = ["+xadd", *(f"~{stream}" for stream in writable)]
    # The server's functions only (``bus.functions``): never EVAL, whose Lua runs as long as
    # it likes while Redis serves no one else.
    call = ["+fcall", *(f"~{stream}" for stream in [*readable, *writable])]
    return [
        "reset",
        "on",
        f">{password}",
        "resetchannels",
        *_CONNECTION,
        f"+select|{database}",
        *(_CLUSTER_LAYOUT if cluster else ()),
        *consume,
        f"({' '.join(append)})",
        f"({' '.join(call)})",
    ]


def database_of(url: str) -> int:
    """The database number a Redis URL names, as redis-py reads it (``?db=``, else the path of
    a ``redis://`` URL; 0 when none, and on a cluster)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query).get("db")
    found = query[0] if query else parts.path.strip("/") if parts.scheme != "unix" else ""
    return int(found) if found.isascii() and found.isdigit() else 0


def with_user(url: str, user: str, password: str) -> str:
    """``url`` with its credentials replaced by ``user:password``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class BusAccess:
    """Hands each bus agent the bus URL it may use, and takes it back.

    Args:
        transport: The server's bus.
        bus_url: The server's bus URL (with the server's credentials).
        per_agent: Create an ACL user per agent (Redis only; ``MODX_AGENT_ACL``).
        secret: What agents' passwords are derived from (the same on every replica); without
            one, passwords are random and a user lost with Redis cannot be made again.
        partitions: How many partition streams of results agents may answer on
            (``MODX_RESULT_PARTITIONS``).
        clock_skew_s: How far ahead of the Redis server's clock an entry's id may be before
            the audit takes it for forged (``MODX_CLOCK_SKEW_S``).
        max_entry_bytes: The largest dead letter the audit keeps (``MODX_BUS_MAX_ENTRY_BYTES``);
            larger ones are removed and told without their data.
    """

    def __init__(
        self,
        transport: Transport,
        bus_url: str,
        *,
        per_agent: bool = True,
        secret: bytes | None = None,
        partitions: int = 0,
        clock_skew_s: float = 300.0,
        max_entry_bytes: int | None = None,
    ) -> None:
        self.bus_url = bus_url
        self.max_entry_bytes = max_entry_bytes
        self.database = database_of(bus_url)
        self.partitions = partitions
        self.clock_skew_s = clock_skew_s
        self._transport = transport
        # What the audits found lately, for operators and tests (bounded: an agent may repeat).
        self.tampered: deque[Audit] = deque(maxlen=1000)
        # The first ``restore`` sets every live agent's rules again, lost or not: users made
        # by an older server (or with another partition count) get today's rules.
        self._refreshed = False
        client = getattr(transport, "client", None)
        redis = client if isinstance(client, Redis | RedisCluster) else None
        self._redis: RedisClient | None = redis if per_agent else None
        self._secret = secret
        # Whose tasks each task stream carried (``claim``): in Redis beside the stream, or in
        # this process for the in-memory bus (one process serves all of it).
        self._claims_in: RedisClient | None = redis
        self._claims: dict[str, str] = {}

    def _password(self, agent_id: str) -> str:
        if self._secret is None:
            return secrets.token_urlsafe(24)
        digest = hmac.new(self._secret, b"modx-agent-redis:" + agent_id.encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")

    @property
    def per_agent(self) -> bool:
        """True when agents get users of their own."""
        return self._redis is not None

    async def grant(self, agent_id: str, audiences: Mapping[str, str]) -> Granted:
        """The bus URL for a newly registered agent (its own user, created now), given whom
        each of its capabilities serves (capability -> ``audience``).

        A capability's task stream keeps what it carried (until trimmed), and a consumer of
        it can make a group of its own from the stream's start: so the stream is read only
        by agents of the audience it was first granted to (``streams.audience``). An agent
        of another audience (another tenant's capability of the same name) gets that
        capability's tasks in its inbox only (``inbox_only``; routing sends them there)."""
        if self._redis is None:
            return Granted(self.bus_url, [])
        inbox_only = await self.claim(audiences)
        readable = [name for name in audiences if name not in inbox_only]
        password = self._password(agent_id)
        await self._make_user(self._redis, agent_id, readable, password)
        return Granted(with_user(self.bus_url, user_name(agent_id), password), inbox_only)

    async def claim(self, audiences: Mapping[str, str]) -> list[str]:
        """Claim each capability's task stream for its audience (capability -> ``audience``)
        where none holds it yet; returns the capabilities whose stream another audience holds:
        the agent may not read those, their tasks come to its inbox (``inbox_only``). Bus
        agents' users are made from it (``grant``); the gateway reads for its agents by it."""
        taken: list[str] = []
        for name, audience in sorted(audiences.items()):
            if self._claims_in is None:
                held = self._claims.setdefault(name, audience)
            else:
                # SET NX GET: the audience already claimed (None when this claims it).
                key = streams.audience(name)
                before = await self._claims_in.set(key, audience, nx=True, get=True)
                held = audience if before is None else _text(before)
            if held != audience:
                taken.append(name)
        return taken

    async def restore(self, agents: Mapping[str, Mapping[str, str]]) -> int:
        """Make again the users of live agents (id -> the capabilities whose streams they
        read -> their audience) that Redis lost; returns how many. A no-op without a secret
        to derive their passwords from."""
        if self._redis is None or self._secret is None or not agents:
            return 0
        # A user is known when every node has it (on one server: when that server has it).
        per_node = [
            {name.decode() if isinstance(name, bytes) else str(name) for name in names}
            for names in await on_every_node(self._redis, "ACL", "USERS")
        ]
        known = set.intersection(*per_node)
        lost = [agent_id for agent_id in agents if user_name(agent_id) not in known]
        refresh = [] if self._refreshed else [a for a in agents if user_name(a) in known]
        for agent_id in [*lost, *refresh]:
            for name, claimed in agents[agent_id].items():  # lost with the data: claimed again
                await self._redis.set(streams.audience(name), claimed, nx=True)
            await self._make_user(
                self._redis, agent_id, list(agents[agent_id]), self._password(agent_id)
            )
        self._refreshed = True
        if lost:
            log.warning("the bus had lost the Redis users of %d live agents: made again", len(lost))
        return len(lost)

    async def audit(self, agents: Mapping[str, Mapping[str, str]]) -> list[Audit]:
        """Audit the dead-letter streams of the task streams that live agents (as ``restore``
        takes them) may append to (``bus.audit``): a forged id is undone at once; dead letters
        removed by an agent are gone, and are logged and counted. A capability's stream is
        shared by its agents, of every tenant when the capability is: one agent's sabotage
        would stop the others' dead letters, or erase them. Returns what was found.

        Raises:
            PublishError: Redis is unreachable or cannot run the audit (older than 7.0).
        """
        if self._redis is None:
            return []
        names = sorted({streams.tasks(name) for readable in agents.values() for name in readable})
        found = await self._transport.audit_dead_letters(
            names, self.clock_skew_s, self.max_entry_bytes
        )
        tampered = [a for a in found if not a.clean]
        if tampered:
            self.tampered.extend(tampered)
            metrics.count_tampering("dead_letters", tampered)
            log.warning(
                "dead-letter streams tampered with by an agent's Redis user (%s)",
                "; ".join(
                    f"{a.stream}: {a.forged} with a forged id (set back, moved to "
                    f"{streams.dlq(a.stream)}), {a.lost} removed (gone), {a.oversized} "
                    "too large (removed, told without their data)"
                    for a in tampered
                ),
            )
        return tampered

    async def _make_user(
        self, redis: RedisClient, agent_id: str, names: list[str], password: str
    ) -> None:
        cluster = isinstance(redis, RedisCluster)
        await functions.load(redis)  # what the user may call (Redis may have restarted empty)
        rules = agent_rules(
            agent_id,
            names,
            password,
            cluster=cluster,
            partitions=self.partitions,
            database=self.database,
        )
        await on_every_node(redis, "ACL", "SETUSER", user_name(agent_id), *rules)
        # The groups exist before the agent reads: it need not create streams.
        for stream, group in [(streams.tasks(n), n) for n in names] + [
            (streams.inbox(agent_id), agent_id),
            (streams.control(agent_id), agent_id),
        ]:
            try:
                await redis.xgroup_create(stream, group, id="0", mkstream=True)
            except Exception as exc:  # BUSYGROUP: it exists
                if "BUSYGROUP" not in str(exc):
                    raise

    async def revoke(self, agent_ids: Iterable[str]) -> None:
        """Delete the users of removed agents (and disconnect their clients); never raises."""
        if self._redis is None:
            return
        users = [user_name(agent_id) for agent_id in agent_ids]
        if not users:
            return
        try:
            await on_every_node(self._redis, "ACL", "DELUSER", *users)
        except Exception:
            log.warning("could not delete the Redis users of %s", users, exc_info=True)
