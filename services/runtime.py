"""Runtime: everything a MODX process holds open, built from Settings and closed in order."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bus.factory import create_transport
from bus.redis_streams import RedisStreamsTransport
from bus.signing import Ed25519PrivateKey
from bus.tasks import cancel_and_wait, cleanup, stop_within, time_left
from bus.transport import ConsumerOptions, Transport
from services.auth import Principal, PrincipalCache, token_hash
from services.config import Settings, visibility_problem
from services.db import migrate
from services.db.engine import create_engine, is_sqlite, readonly, session_factory, sever
from services.db.models import DEFAULT_TENANT
from services.db.partitions import PartitionKeeper
from services.egress import EgressPolicy
from services.keys import load_key
from services.ledger import keys as ledger_keys
from services.ledger.checkpoints import Checkpointer
from services.orchestrator import persist
from services.orchestrator.authenticity import Authenticator
from services.orchestrator.capacity import Capacity, MemoryCapacity
from services.orchestrator.capacity_redis import RedisCapacity
from services.orchestrator.engine import Engine
from services.orchestrator.remote import RemoteDispatcher
from services.orchestrator.remote.a2a import A2aDelivery
from services.orchestrator.remote.http import HttpDelivery
from services.orchestrator.remote.mcp import McpDelivery
from services.orchestrator.routing import Router
from services.orchestrator.service import READ_BLOCK_MS, Orchestrator
from services.orchestrator.sqlite_writer import SqliteWriter
from services.orchestrator.watch import RunNotices
from services.orchestrator.workflows import SharedLookups
from services.outage import database_unreachable
from services.outbox import OutboxRelay
from services.redis_limits import memory_warnings
from services.registry import store
from services.registry.bus_access import BusAccess
from services.throttle import AuthThrottle, Limits, MemoryCounters, RedisCounters
from services.tokens import LastUsed

log = logging.getLogger(__name__)

INSECURE_WARNING = (
    "MODX_INSECURE_AGENTS=1: bus agents may register without a key and their results are "
    "believed unsigned. Anyone who can write to the bus can answer any step. Development only."
)


@dataclass
class Runtime:
    """The database, the bus, and (optionally) the orchestrator's loops of one process."""

    settings: Settings
    db: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    readers: async_sessionmaker[AsyncSession]
    transport: Transport
    orchestrator: Orchestrator
    remote: RemoteDispatcher
    """Hands tasks to the agents MODX calls (HTTP, MCP, A2A)."""
    checkpointer: Checkpointer
    egress: EgressPolicy = field(default_factory=EgressPolicy)
    static_tokens: dict[str, Principal] = field(default_factory=dict)
    orchestrating: bool = False
    _checkpoints: asyncio.Task[None] | None = None
    _partitions: asyncio.Task[None] | None = None
    throttle: AuthThrottle = field(default_factory=lambda: AuthThrottle(MemoryCounters(), Limits()))
    bus_access: BusAccess | None = None
    """Hands each bus agent its own bus user (``services.registry.bus_access``)."""
    last_used: LastUsed = field(default_factory=LastUsed)
    principals: PrincipalCache = field(default_factory=lambda: PrincipalCache(0.0))
    """Issued tokens' principals (``services.auth``); off unless ``open`` sizes it."""
    _flusher: asyncio.Task[None] | None = None
    _bus_users: asyncio.Task[None] | None = None
    notices: RunNotices | None = None  # run wake-ups between replicas (Redis bus only)

    @classmethod
    async def open(
        cls, settings: Settings, *, migrate_db: bool = True, orchestrate: bool = True
    ) -> Runtime:
        """Connect, migrate (under a lock on PostgreSQL), and start the orchestrator's loops."""
        url = settings.resolved_database_url
        ledger_key = ledger_keys.load(settings)  # before anything opens: a clear error first
        if migrate_db:
            await _migrate(url)
        pool = {
            "pool_size": settings.database_pool_size,
            "max_overflow": settings.database_max_overflow,
            "pool_timeout": settings.database_pool_timeout_s,
        }
        db = create_engine(url, **({} if is_sqlite(url) else pool))
        sessions = session_factory(db)
        transport = create_transport(settings.bus_url)
        readers = session_factory(readonly(db))
        signing_key = orchestrator_key(settings)
        authenticator = Authenticator(
            readers,
            signing_key,
            insecure=settings.insecure_agents,
            clock_skew_s=settings.clock_skew_s,
        )
        egress = EgressPolicy(settings.egress_allow)
        remote = RemoteDispatcher(
            sessions,
            transport,
            authenticator,
            {
                "http": HttpDelivery(
                    signing_key,
                    timeout_s=settings.http_dispatch_timeout_s,
                    egress=egress,
                    max_reply_bytes=settings.http_reply_max_bytes,
                    connections=settings.http_dispatch_total,
                ),
                "mcp": McpDelivery(egress, timeout_s=settings.mcp_start_timeout_s),
                "a2a": A2aDelivery(
                    egress,
                    secret=signing_key.private_bytes_raw(),
                    timeout_s=settings.a2a_timeout_s,
                ),
            },
            per_agent=settings.http_dispatch_per_agent,
            per_tenant=settings.http_dispatch_per_tenant,
            total=settings.http_dispatch_total,
        )
        relay = OutboxRelay(sessions, transport, remote.submit, poll_s=settings.outbox_poll_s)
        engine = Engine(
            Router(),
            default_timeout_s=settings.default_step_timeout_s,
            heartbeat_defaults={"a2a": settings.a2a_heartbeat_timeout_s}
            if settings.a2a_heartbeat_timeout_s
            else None,
            limits=settings.limits,
            sign_task=authenticator.stamp,
            # Shared by every replica through Redis; in this process when embedded.
            capacity=Capacity(
                RedisCapacity(settings.redis_url) if settings.redis_url else MemoryCapacity()
            ),
        )
        # PostgreSQL: the orchestrator writes each batch in one autocommit statement, on a pool
        # of its own without pings (a dead connection fails one batch, which is retried).
        # That statement is planned once per connection, by keys only (persist.WRITER_SETTINGS).
        writer = (
            SqliteWriter(url)
            if is_sqlite(url)
            else create_engine(
                url,
                pool_size=2,
                max_overflow=2,
                ping_idle_s=None,
                connect_args={"server_settings": dict(persist.WRITER_SETTINGS)},
            ).execution_options(isolation_level="AUTOCOMMIT")
        )
        orchestrator = Orchestrator(
            sessions,
            transport,
            engine,
            relay,
            authenticator=authenticator,
            consumer=settings.orchestrator_id,
            scheduler_poll_s=settings.scheduler_poll_s,
            max_batch=settings.writer_max_batch,
            lease_s=settings.agent_lease_s,
            claim_timeout_s=settings.claim_timeout_s,
            # Handlers only queue results for the writer: many in flight make big batches.
            consumer_options=ConsumerOptions(
                concurrency=256,
                batch_size=256,
                visibility_timeout_s=settings.visibility_timeout_s,
                max_deliveries=settings.max_deliveries,
                block_ms=READ_BLOCK_MS,
                max_entry_bytes=settings.bus_max_entry_bytes,
            ),
            writer=writer,
            readers=readers,
            ledger_key=ledger_key,
            partitions=settings.result_partitions,
            replica_lease_s=settings.replica_lease_s,
        )
        checkpointer = Checkpointer(
            sessions,
            ledger_key,
            settings.resolved_checkpoint_file,
            url=settings.ledger_checkpoint_url,
            interval_s=settings.ledger_checkpoint_interval_s,
        )
        static = {}
        if settings.api_token:
            static[token_hash(settings.api_token)] = Principal(
                tenant=DEFAULT_TENANT, role="operator", name="MODX_API_TOKEN"
            )
        if settings.admin_token:
            static[token_hash(settings.admin_token)] = Principal(
                tenant=DEFAULT_TENANT, role="admin", name="MODX_ADMIN_TOKEN", system=True
            )
        limits = Limits(
            per_address=settings.auth_fail_per_address,
            overall=settings.auth_fail_overall,
            window_s=settings.auth_fail_window_s,
        )
        counters = RedisCounters(settings.redis_url) if settings.redis_url else MemoryCounters()
        runtime = cls(
            settings,
            db,
            sessions,
            readers,
            transport,
            orchestrator,
            remote,
            checkpointer,
            egress,
            static,
            throttle=AuthThrottle(counters, limits),
            principals=PrincipalCache(settings.auth_cache_s),
            bus_access=BusAccess(
                transport,
                settings.bus_url,
                per_agent=settings.agent_acl,
                # Shared by the replicas: any of them can make an agent's lost user again.
                secret=signing_key.private_bytes_raw(),
                partitions=settings.result_partitions,
                clock_skew_s=settings.clock_skew_s,
                max_entry_bytes=settings.bus_max_entry_bytes,
            ),
        )
        orchestrator.agents_removed = runtime.access.revoke
        if settings.insecure_agents:
            log.warning(INSECURE_WARNING)
        short = visibility_problem(settings.visibility_timeout_s, settings.agent_lease_s)
        if short is not None:  # only allow_short_visibility_timeout lets Settings through so
            log.warning("MODX_ALLOW_SHORT_VISIBILITY_TIMEOUT=1: %s. Development only.", short)
        try:
            await runtime._start(orchestrate)
        except BaseException:
            # A start refused (replicas splitting runs otherwise) or cancelled: close what was
            # opened, or a process that goes on (a test, an embedding) keeps its connections,
            # the SQLite ones each with a worker thread, until collected.
            await runtime.close()
            raise
        return runtime

    async def _start(self, orchestrate: bool) -> None:
        """Start the loops (and the orchestrator's, when ``orchestrate``)."""
        settings, orchestrator = self.settings, self.orchestrator
        self._flusher = asyncio.create_task(self._flush_last_used(), name="last-used")
        if self.access.per_agent:
            self._bus_users = asyncio.create_task(self._keep_bus_users(), name="bus-users")
            await self._say_memory_limits()
        if isinstance(self.transport, RedisStreamsTransport):
            # Any replica may finish a run another one's client waits on.
            self.notices = RunNotices(
                self.transport.client, orchestrator.watch, partitions=settings.result_partitions
            )
            self.notices.start()
        if not orchestrate:
            return
        await orchestrator.start()
        self.orchestrating = True
        mcp = self.remote.deliveries["mcp"]
        if isinstance(mcp, McpDelivery):  # supervises MCP servers and keeps their leases
            mcp.start(self.sessions, settings.agent_lease_s, settings.heartbeat_interval_s)
        a2a = self.remote.deliveries["a2a"]
        if isinstance(a2a, A2aDelivery):  # polls A2A agents' cards and keeps their leases
            a2a.start(self.sessions, settings.agent_lease_s, settings.heartbeat_interval_s)
        self._checkpoints = asyncio.create_task(self.checkpointer.run(), name="ledger-checkpoints")
        if not is_sqlite(settings.resolved_database_url):  # the history's months ahead
            keeper = PartitionKeeper(self.db)  # (services.db.partitions)
            try:
                await keeper.keep()
            except Exception as exc:  # inserts still land, in the default partition
                log.warning("could not create the history partitions ahead: %s", exc)
            self._partitions = asyncio.create_task(keeper.run(), name="partitions")

    async def _flush_last_used(self) -> None:
        while True:
            await asyncio.sleep(self.settings.token_last_used_flush_s)
            try:
                await self.last_used.flush(self.sessions)
            except Exception:
                log.exception("could not record when tokens were last used; will try again")

    async def _say_memory_limits(self) -> None:
        """One loud line when Redis lets a single agent's user fill its memory (agents get
        users of their own, whose appends ACL rules cannot bound)."""
        if not isinstance(self.transport, RedisStreamsTransport):
            return
        found = await memory_warnings(self.transport.client, self.settings.bus_max_entry_bytes)
        if found:
            log.warning(
                "Redis does not bound what agents' own Redis users may append: %s "
                "(docs/deploy.md, 'Memory: what agents may append')",
                "; ".join(found),
            )

    async def _keep_bus_users(self, every_s: float = 1.0) -> None:
        """Make again the Redis users of live bus agents after Redis forgot them (a restart),
        and audit the dead-letter streams those users may append to."""
        while True:
            await asyncio.sleep(every_s)
            if not self.orchestrator.ownership.leads:
                continue  # the users are shared: one replica looks after them
            try:
                async with self.readers() as session:
                    agents = await store.live_bus_agents(session)
                await self.access.restore(agents)
                await self.access.audit(agents)
            except Exception as exc:  # an outage: the next round tries again
                log.debug("could not check the agents' Redis users: %s", exc)

    @cached_property
    def reading(self) -> AsyncEngine:
        """The engine of ``readers``, for Core reads without a Session (the API's hot reads)."""
        return readonly(self.db)

    @cached_property
    def registered(self) -> SharedLookups:
        """Registered definitions by name, for the runs the API starts (``SharedLookups``)."""
        return SharedLookups(self.reading, self.settings.definition_cache_s)

    @property
    def access(self) -> BusAccess:
        """The bus access of agents (always set by ``open``)."""
        assert self.bus_access is not None
        return self.bus_access

    async def close(self) -> None:
        """Stop the loops, then close the bus, the remote agents' transports and the database.

        Every step that needs a server shares one deadline (``bus.tasks.STOP_TIMEOUT_S``):
        with Redis or the database unreachable, the process still stops then, and each step
        that could not finish says so in one line. What it left unsettled is not lost: bus
        entries stay pending and are redelivered, outbox rows stay in the database.
        """
        with stop_within(at_deadline=self._sever_database):
            await cancel_and_wait(loop for loop in (self._checkpoints, self._partitions) if loop)
            await self.orchestrator.stop()  # also when not orchestrating: the writer may have run
            if self.notices is not None:
                await self.notices.stop()
            await cancel_and_wait(task for task in (self._flusher, self._bus_users) if task)
            await cleanup(
                "recording when tokens were last used",
                self.last_used.flush(self.sessions),
                server="the database",
                unreachable=database_unreachable,
                logger=log,
            )
            await self.throttle.close()
            await self.remote.close()
            if self.orchestrator.engine.capacity is not None:
                await self.orchestrator.engine.capacity.store.close()
            await self.transport.close()
            writer = self.orchestrator.writer
            await (writer.close() if isinstance(writer, SqliteWriter) else _dispose(writer))
            await _dispose(self.db)

    def _sever_database(self) -> None:
        """At the stop's deadline: cut the database connections still in use (``sever``)."""
        writer = self.orchestrator.writer
        engines = [self.db] + ([writer] if isinstance(writer, AsyncEngine) else [])
        cut = sum(sever(engine) for engine in engines)
        if cut:
            log.warning(
                "stop: %d database connection(s) still in use at the stop's deadline: cut "
                "(the database unreachable)",
                cut,
            )

    async def database_ok(self) -> bool:
        """True when the database answers a query."""
        try:
            async with self.readers() as session:
                await asyncio.wait_for(session.execute(text("SELECT 1")), 2.0)
            return True
        except Exception:
            return False

    async def bus_ok(self) -> bool:
        """True when the bus answers a ping."""
        try:
            return await asyncio.wait_for(self.transport.ping(), 2.0)
        except Exception:
            return False


def orchestrator_key(settings: Settings) -> Ed25519PrivateKey:
    """The orchestrator's key (``services.keys``): configured, or ``<data_dir>/orchestrator.key``,
    created on first start. A distributed deployment configures it: every replica signs with
    it, and agents check tasks against it."""
    default = settings.data_dir / "orchestrator.key"
    if not settings.embedded and not (
        settings.orchestrator_key or settings.orchestrator_key_file or default.exists()
    ):
        log.warning(
            "no MODX_ORCHESTRATOR_KEY(_FILE): creating %s; every replica must use the same key",
            default,
        )
    return load_key(
        "orchestrator",
        value=settings.orchestrator_key.get_secret_value() if settings.orchestrator_key else None,
        path=settings.orchestrator_key_file,
        default_path=default,
        create=True,
    )


async def _dispose(engine: AsyncEngine) -> None:
    """Close ``engine``'s pooled connections; past the stop's deadline, drop them instead.

    Closing one tells the database and waits for its answer: for ever from a database that
    does not answer, and a close cut short is logged as an error with its traceback. A dropped
    connection's socket is closed when the connection is collected, without a word to the
    database.
    """
    await engine.dispose(close=time_left() != 0.0)


async def _migrate(url: str) -> None:
    if is_sqlite(url):
        await migrate.upgrade_async(url)
        return
    # Replicas starting together must not run the migration concurrently.
    db = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with db.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(727274)"))
            try:
                await migrate.upgrade_async(url)
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(727274)"))
    finally:
        await db.dispose()
