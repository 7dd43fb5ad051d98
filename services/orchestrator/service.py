"""The orchestrator process's loops: results in, time passing, agent leases, the outbox out.

Any number of replicas can run these loops against one database. Each unfinished run is owned
by one replica (``services.orchestrator.ownership``). A task names its run's partition stream
as ``reply_to``, and agents answer there, so only the owner reads the answer. Answers that
reach ``modx.results`` instead (agents that predate ``reply_to``) are shared through the
``orchestrator`` consumer group, and a replica that reads one for a run it does not own
forwards it to the run's partition stream.
Every write checks the run's version, so a replica that changes a run it does not own (an API
call, a membership change) is still right; ownership keeps that rare.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import socket
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Coroutine, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from asyncpg.exceptions import (
    ConnectionDoesNotExistError,
    InterfaceError,
    OperatorInterventionError,
    PostgresConnectionError,
)
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bus import streams
from bus.envelope import Envelope
from bus.ids import new_id
from bus.tasks import cancel_and_wait, cleanup, stop_within
from bus.transport import ConsumerOptions, Reply, Subscription, Transport, ack_of
from services import metrics
from services.db.clock import database_now
from services.db.models import DEFAULT_TENANT, RunRow, StepRow, utcnow
from services.orchestrator import holding, persist, runs, workflows
from services.orchestrator.aside import SetAside
from services.orchestrator.authenticity import Authenticator, Refusal, refuse
from services.orchestrator.cache import RunCache
from services.orchestrator.capacity import parse_holder
from services.orchestrator.context import ChildOrder, RunContext, remember_definition
from services.orchestrator.definitions import WorkflowDefinition
from services.orchestrator.engine import Engine, Signalled
from services.orchestrator.holding import Holding
from services.orchestrator.ownership import Ownership, PartitionMismatch
from services.orchestrator.records import Run, Step
from services.orchestrator.redelivery import Redelivery
from services.orchestrator.sqlite_writer import SqliteWriter
from services.orchestrator.states import ACTIVE_STEP, TERMINAL_RUN, RunState, StepState
from services.orchestrator.steps import ChildOutcome
from services.orchestrator.steps.wait import refusal
from services.orchestrator.watch import Commit, RunWatch
from services.outage import Outage, database_unreachable, dependency_of, log_failure
from services.outbox import OutboxRelay
from services.registry import store

log = logging.getLogger(__name__)

RunAction = Callable[[RunContext], Awaitable[object]]
Loaded = dict[str, tuple[Run, dict[str, Step]]]


class AnswerAhead(RuntimeError):
    """An answer to a task this process does not see sent yet; the bus delivers it again."""


class RunKeptChanging(RuntimeError):
    """Another replica changed the run at each of ``MAX_CONFLICTS`` tries (contention, not a
    fault of the run's)."""


class RunNotRetryable(ValueError):
    """A retry asked of a run that has not ended unsuccessfully."""


@dataclass(frozen=True)
class _Held:
    """The writer's connection, and its asyncpg connection (for the batch statement)."""

    conn: AsyncConnection
    driver: asyncpg.Connection[Any]


@dataclass(eq=False)
class _Job:
    run_id: str
    action: RunAction
    done: asyncio.Future[object | None]
    new: tuple[Run, dict[str, Any]] | None = None  # a run this job creates
    conflicts: int = 0


MAX_CONFLICTS = 50
READ_BLOCK_MS = 5000
"""How long a read of the results streams waits for an answer (it returns as soon as one
arrives; stopping cancels it): an idle replica's read loops, one per stream it reads, wake
once per 5 s each rather than every second (the bus's default)."""
BUS_PING_S = 2.0
"""How long the lease round waits for the bus to answer before it counts it down."""
ORPHAN_CHECK_S = 30.0
"""How often each replica looks for unfinished children of ended runs (``cancel_orphans``);
also once when it starts."""


class Orchestrator:
    """Runs the engine's loops in this process.

    Every change to a run goes through ``in_run``, which queues it for the writer: one task
    that takes whatever is queued (up to ``max_batch`` changes), applies it to the runs in one
    transaction and commits once (group commit). Alone, a change waits for nothing; under load,
    a step costs a share of one transaction instead of one of its own.

    Both work on the runs as this process last wrote them (``RunCache``). With ``writer`` an
    engine (PostgreSQL), a batch takes no locks and writes in one statement only the runs still
    at that version (``persist.save_if_current``); a run another replica changed is read again
    and its changes applied again. With a ``SqliteWriter``, a batch holds the database's write
    lock from reading the runs' versions to the commit.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transport: Transport,
        engine: Engine,
        relay: OutboxRelay,
        *,
        authenticator: Authenticator,
        consumer: str | None = None,
        scheduler_poll_s: float = 1.0,
        lease_poll_s: float = 1.0,
        consumer_options: ConsumerOptions | None = None,
        max_batch: int = 256,
        lease_s: float = 15.0,
        claim_timeout_s: float = 10.0,
        cache: RunCache | None = None,
        writer: AsyncEngine | SqliteWriter,
        readers: async_sessionmaker[AsyncSession] | None = None,
        ledger_key: Ed25519PrivateKey | None = None,
        partitions: int = 12,
        replica_lease_s: float = 10.0,
    ) -> None:
        self.sessions = sessions
        self.transport = transport
        self.engine = engine
        self.relay = relay
        self.authenticator = authenticator
        self.agents_removed: Callable[[list[str]], Awaitable[None]] | None = None
        self.consumer = consumer or f"{socket.gethostname()}-{new_id()[-12:]}"
        self.scheduler_poll_s = scheduler_poll_s
        self.lease_poll_s = lease_poll_s
        options = consumer_options or ConsumerOptions(
            concurrency=max_batch, batch_size=max_batch, block_ms=READ_BLOCK_MS
        )
        # A dead replica's unacknowledged results go to the others within one lease. A result
        # the database cannot take now waits for it, never for the dead letters.
        self.consumer_options = replace(
            options,
            visibility_timeout_s=min(options.visibility_timeout_s, replica_lease_s),
            outage=database_unreachable,
        )
        self.ownership = Ownership(
            sessions, self.consumer, partitions=partitions, lease_s=replica_lease_s
        )
        self.forwarded = 0  # results of runs another replica owns, sent on to it
        engine.partitions = partitions  # tasks name their run's partition stream as reply_to
        # Agents' deliveries are judged by their visibility timeout (not the replicas' above).
        engine.holding = Holding(transport, options.visibility_timeout_s)
        relay.sweeps = lambda: self.ownership.leads  # one replica sweeps the outbox's leftovers
        self.max_batch = max_batch
        self.lease_s = lease_s
        self.redelivery = Redelivery(self, claim_timeout_s=claim_timeout_s)
        self.cache = cache or RunCache()
        self.writer = writer
        self.readers = readers or sessions
        self.ledger_key = ledger_key  # signs every ledger entry this process writes
        self.conflicts = 0  # runs held in memory that another replica had changed meanwhile
        self.watch = RunWatch()
        self.aside = SetAside()  # runs whose due work keeps failing (``sweep``)
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[None]] = set()
        self._subscription: Subscription | None = None
        self._partitions: dict[int, Subscription] = {}
        self._following = asyncio.Lock()
        self._jobs: deque[_Job] = deque()
        self._queued = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._held: _Held | None = None  # the writer's connection, kept between batches
        self.sweep_outage = Outage("the database, for the orchestrator's sweep", log)
        self.lease_outage = Outage("the database, for agent leases", log)
        self._leases_swept_at: datetime | None = None  # the last lease sweep that committed
        # A lease round skipped since: the bus did not answer, or another replica led.
        self._unswept = False
        self._sweep_now = asyncio.Event()
        # The timer and when it fires: under uvloop, ``call_at`` with a time already past
        # returns a plain ``Handle``, which has no ``when()``.
        self._sweep_timer: asyncio.Handle | None = None
        self._sweep_timer_at = 0.0

    async def start(self) -> None:
        """Join the replicas, subscribe to results (all, and the partitions this replica owns),
        and start the sweeps and the relay.

        Raises:
            PartitionMismatch: Live replicas split runs into another number of partitions.
        """
        try:
            await self.ownership.renew()
        except PartitionMismatch:
            raise
        except Exception as exc:  # the database is down: own everything until it is back
            log_failure(self.ownership.outage, exc, log, "replica lease")
        await self._follow_partitions()
        self._subscription = await self.transport.subscribe(
            streams.RESULTS,
            streams.ORCHESTRATOR_GROUP,
            self.consumer,
            self.on_intake,
            self.consumer_options,
        )
        loops = (self.relay.run, self._scheduler_loop, self._lease_loop, self.redelivery.run)
        for loop in loops:
            self._tasks.append(asyncio.create_task(loop(), name=loop.__qualname__))
        self._tasks.append(
            asyncio.create_task(
                self.ownership.run(self._follow_partitions, self.transport.ping), name="ownership"
            )
        )
        self._tasks.append(
            asyncio.create_task(
                self.ownership.watch(self._leave_partitions), name="ownership-watch"
            )
        )

    async def stop(self) -> None:
        """Stop consuming (draining handlers in flight), give the partitions back, then stop
        the loops and the writer."""
        for task in self._tasks:
            if task.get_name().startswith("ownership"):
                task.cancel()
        async with self._following:
            # Together: with Redis unreachable each stop waits out its own I/O bound, and one
            # after the other that was minutes for a dozen partitions.
            subscriptions = [*self._partitions.values()]
            if self._subscription is not None:
                subscriptions.append(self._subscription)
            await asyncio.gather(*(s.stop(drain=True) for s in subscriptions))
            self._partitions.clear()
            metrics.PARTITIONS_OWNED.set(0)
        await cleanup(  # else the lease runs out by itself
            "orchestrator: giving the replica lease back",
            self.ownership.leave(),
            server="the database",
            unreachable=database_unreachable,
            logger=log,
        )
        await cancel_and_wait([*self._tasks, *self._background])
        self._tasks.clear()
        if self._writer is not None:
            await cancel_and_wait([self._writer])
            self._writer = None
        for job in self._jobs:
            job.done.cancel()
        self._jobs.clear()
        if self._held is not None:
            with contextlib.suppress(Exception):
                await self._held.conn.close()
            self._held = None

    async def _leave_partitions(self) -> None:
        """Stop reading the partitions of a lapsed lease. Their handlers get a stop's deadline
        (``STOP_TIMEOUT_S``), not as long as the database keeps them waiting (about 30 s on a
        silent link, their entries renewed meanwhile); those still running are interrupted
        and their entries released to the partitions' new owner at once."""
        with stop_within():
            await self._follow_partitions()

    async def _follow_partitions(self) -> None:
        """Read the partition streams this replica owns now, and no others."""
        async with self._following:
            wanted = self.ownership.mine
            for partition in [p for p in self._partitions if p not in wanted]:
                # Drained: its handlers finish here; what is left unread goes to the new owner.
                await self._partitions.pop(partition).stop(drain=True)
            for partition in sorted(wanted - self._partitions.keys()):
                self._partitions[partition] = await self.transport.subscribe(
                    streams.result_partition(partition),
                    streams.ORCHESTRATOR_GROUP,
                    self.consumer,
                    # An answer of another partition's run (sent to the wrong stream, or
                    # read while ownership moves) is passed on, as on ``modx.results``.
                    self.on_intake,
                    self.consumer_options,
                )
            metrics.PARTITIONS_OWNED.set(len(self._partitions))

    async def in_run(self, run_id: str, action: RunAction) -> object | None:
        """Run ``action`` on the run in one of the writer's transactions; publish what it
        queued once that commits.

        Returns None when the run does not exist, else what ``action`` returned. Raises what
        ``action`` raised (nothing it did is written then).
        """
        job = _Job(run_id, action, asyncio.get_running_loop().create_future())
        return await self._submit(job)

    async def create_run(
        self,
        definition: WorkflowDefinition,
        input_: Any,
        *,
        tenant: str = DEFAULT_TENANT,
        version: int | None = None,
        idempotency_key: str | None = None,
        goal: dict[str, Any] | None = None,
        retry_of: str | None = None,
        deadline_s: float | None = None,
        reuse: list[Step] | None = None,
        run_id: str | None = None,
        parent: tuple[str, str] | None = None,
        root: str | None = None,
    ) -> Run | None:
        """Store a new run and start it (pending -> running) in one of the writer's batches.

        ``reuse`` holds succeeded steps of an earlier run to carry over (``Engine.start``).
        ``parent`` (run id, step id) links a sub-workflow's child to the step that started it.
        Returns the run as committed, or None when ``idempotency_key`` is already taken.
        """
        run, on_file = runs.new_run(
            definition,
            input_,
            tenant=tenant,
            version=version,
            idempotency_key=idempotency_key,
            goal=goal,
            retry_of=retry_of,
            deadline_s=deadline_s,
            # A child keeps the id its parent chose (its order may be given again).
            run_id=run_id or self.ownership.new_run_id(),
            parent=parent,
            root=root,
        )

        async def start(ctx: RunContext) -> Run:
            ctx.event(
                "run.created",
                to_state=RunState.PENDING,
                data={
                    "workflow": definition.name,
                    "version": version,
                    "parent_run_id": ctx.run.parent_run_id,
                    "parent_step_id": ctx.run.parent_step_id,
                },
            )
            await self.engine.start(ctx, reuse)
            return ctx.run

        remember_definition(run.id, definition)
        loop = asyncio.get_running_loop()
        job = _Job(run.id, start, loop.create_future(), new=(run, on_file))
        created = await self._submit(job)
        if created is not None:
            metrics.RUNS_STARTED.labels(workflow=definition.name).inc()
        return created if isinstance(created, Run) else None

    async def _submit(self, job: _Job) -> object | None:
        self._jobs.append(job)
        self._queued.set()
        if self._writer is None or self._writer.done():
            # A context of its own: not that of the handler that happens to start it.
            self._writer = asyncio.create_task(
                self._write_loop(), name="orchestrator-writer", context=contextvars.Context()
            )
        return await asyncio.shield(job.done)

    async def committed(self, *contexts: RunContext) -> None:
        """After the transaction on ``contexts`` committed: send their envelopes, keep their
        runs in memory, tell the watchers."""
        sent = [item for ctx in contexts for item in ctx.sent]
        finished: dict[str, tuple[Run, dict[str, Step]]] = {}
        due = [ctx.next_due for ctx in contexts if ctx.next_due is not None]
        if due:
            self._sweep_at(min(due))
        for ctx in contexts:
            self.cache.keep(ctx.run, ctx.steps)
            ctx.sent = []
            for order in ctx.children:
                self._apart(self._carry_out(ctx.run.tenant, ctx.run.id, order))
            ctx.children = []
            if ctx.run.status != ctx.status_before and ctx.run.status in TERMINAL_RUN:
                metrics.RUNS_FINISHED.labels(status=ctx.run.status).inc()
                finished[ctx.run.id] = (ctx.run, ctx.steps)
                if ctx.run.parent_run_id is not None:
                    self._apart(self._wake_parent(ctx.run.parent_run_id, _outcome(ctx.run)))
        changed = [ctx.run.id for ctx in contexts]
        notices = self.watch.notices
        # The other replicas' notices ride with the tasks: one round trip after the commit.
        messages = notices.messages(changed, finished) if notices is not None and sent else []
        acks = [ack for ctx in contexts for ack in ctx.acks]
        told = await self.relay.publish_committed(sent, messages, acks)
        await self._withdraw(contexts)
        commits = {c.run.id: _commit(c) for c in contexts if c.run.version != c.version_before}
        await self.watch.notify(changed, list(finished), finished, commits, told=told)
        if self.engine.capacity is not None and any(ctx.released for ctx in contexts):
            # Not here: the wake-ups go through this writer, which waits for this call.
            released = list(contexts)
            task = asyncio.create_task(self._release(released), name="capacity-release")
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _withdraw(self, contexts: Sequence[RunContext]) -> None:
        """Take the tasks the committed ``contexts`` sent on back from their agents' inboxes
        (``Transport.withdraw``: those still unread, and only those), so that an agent that
        reads on does not run them too. A failure costs only that: such an agent may run a
        task twice (its late answer counts), and no task is lost, for the new one is out."""
        taken: dict[tuple[str, str], list[str]] = {}
        for ctx in contexts:
            for inbox, group, task_id in ctx.withdrawals:
                taken.setdefault((inbox, group), []).append(task_id)
            ctx.withdrawals = []
        for (inbox, group), task_ids in taken.items():
            try:
                withdrawn = await self.transport.withdraw(inbox, group, task_ids)
            except Exception as exc:
                log.warning("could not take %d task(s) back from %s: %s", len(task_ids), inbox, exc)
                continue
            if withdrawn:
                log.info("took %d unread task(s) back from %s", len(withdrawn), inbox)

    async def _release(self, contexts: list[RunContext]) -> None:
        """Free the places the committed ``contexts`` gave up, and wake who waits for them."""
        assert self.engine.capacity is not None
        try:
            wake = await self.engine.capacity.release(contexts)
        except Exception as exc:  # the waiters ask again by themselves (``recheck_s``)
            log.warning("could not release capacity: %s", exc)
            return
        await asyncio.gather(
            *(self._wake(*parse_holder(holder)) for holder in wake), return_exceptions=True
        )

    async def _wake(self, run_id: str, step_id: str) -> None:
        await self.in_run(run_id, lambda ctx: self.engine.wake(ctx, step_id))

    def _apart(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` apart from the writer (it submits jobs of its own to the writer)."""
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _wake_parent(self, parent_run_id: str, child: ChildOutcome) -> None:
        try:
            await self.in_run(parent_run_id, lambda ctx: self.engine.child_finished(ctx, child))
        except Exception:  # the parent's step timer finds the child's end later
            log.exception("could not tell run %s that its child %s ended", parent_run_id, child)

    async def _carry_out(self, tenant: str, parent_run_id: str, order: ChildOrder) -> None:
        """Start or cancel a child run, as a committed parent step asked (``ChildOrder``)."""
        try:
            if order.cancel:
                await self.cancel_run(order.child_run_id, f"parent run {parent_run_id} ended")
            else:
                await self._start_child(tenant, parent_run_id, order)
        except asyncio.CancelledError:
            raise
        except Exception:  # the parent's step timer gives the order again
            log.exception("child order of run %s failed: %s", parent_run_id, order)

    async def _start_child(self, tenant: str, parent_run_id: str, order: ChildOrder) -> None:
        async with self.readers() as session:
            existing = await runs.by_idempotency_key(session, tenant, order.key)
            if existing is not None:  # the order given again: started already
                if existing.status in TERMINAL_RUN:
                    await self._wake_parent(parent_run_id, _outcome(existing))
                return
            definition, problem = await _child_definition(session, tenant, order)
            limits = self.engine.limits
            most = limits.max_run_depth
            root = await _root(session, parent_run_id)
            if definition is not None and await _depth(session, parent_run_id, most) >= most:
                definition, problem = (
                    None,
                    {
                        "code": "too_deep",
                        "message": f"runs already nest {most} deep (MODX_MAX_RUN_DEPTH)",
                        "retryable": False,
                    },
                )
        if definition is not None and not await self._reserve(root, limits.max_tree_runs):
            definition, problem = (
                None,
                {
                    "code": "too_many_runs",
                    "message": f"run {root} already made {limits.max_tree_runs} runs "
                    "with its sub-workflows and loops (MODX_MAX_TREE_RUNS)",
                    "retryable": False,
                },
            )
        if definition is None:
            failed = ChildOutcome(order.child_run_id, RunState.FAILED, None, problem)
            await self._wake_parent(parent_run_id, failed)
            return
        await self.create_run(
            definition,
            order.input,
            tenant=tenant,
            version=definition.version if order.body is None else None,
            idempotency_key=order.key,
            run_id=order.child_run_id,
            parent=(parent_run_id, order.step_id),
            root=root,
        )

    async def _reserve(self, root: str, most: int) -> bool:
        """Count one more run in ``root``'s tree, unless it holds ``most`` already.

        One conditional UPDATE of the root's row: atomic on both databases, so children
        started at once (by any replica) cannot all pass a count read before any is stored.
        An order given again after a crash counts twice: the limit errs on the safe side.
        """
        made = func.coalesce(RunRow.tree_runs, 1)  # the root counts itself
        query = update(RunRow).where(RunRow.id == root, made < most).values(tree_runs=made + 1)
        async with self.sessions() as session, session.begin():
            result = await session.execute(query)
        return bool(getattr(result, "rowcount", 0) == 1)

    async def _write_loop(self) -> None:
        while True:
            if not self._jobs:
                self._queued.clear()
                await self._queued.wait()
                continue
            batch = [self._jobs.popleft() for _ in range(min(len(self._jobs), self.max_batch))]
            try:
                await self._write(batch)
            except asyncio.CancelledError:
                for job in batch:
                    job.done.cancel()
                raise
            except Exception as exc:  # a bug after the commit: fail the jobs, keep writing
                log.exception("orchestrator writer: a batch failed after its commit")
                for job in batch:
                    _settle(job, exc=exc)

    async def _write(self, batch: list[_Job], *, reconnected: bool = False) -> None:
        """Apply ``batch`` in one transaction; if that fails, each job in its own."""
        try:
            if isinstance(self.writer, SqliteWriter):
                contexts, results = await self._transact(self.writer, batch)
            else:
                contexts, results, batch = await self._write_current(self.writer, batch)
        except Exception as exc:
            self.cache.forget([job.run_id for job in batch])
            if _connection_lost(exc) and not reconnected:
                # The database restarted since this connection was last used (the writer's
                # pool does not ping): the next batch takes a fresh one, so this goes again.
                await self._write(batch, reconnected=True)
            elif len(batch) == 1:
                _settle(batch[0], exc=exc)
            else:  # one bad change must not fail the others: they go again one by one
                for job in batch:
                    await self._write([job], reconnected=reconnected)
            return
        if batch:
            metrics.WRITER_BATCHES.inc()
            metrics.WRITER_CHANGES.inc(len(batch))
        try:
            await self.committed(*contexts)
        finally:
            for job, result in zip(batch, results, strict=True):
                _settle(job, result)

    async def _transact(
        self, sqlite: SqliteWriter, batch: list[_Job]
    ) -> tuple[list[RunContext], list[object | None]]:
        """The locking batch (SQLite): take the write lock, apply the jobs, write, commit."""
        run_ids = list(dict.fromkeys(job.run_id for job in batch if job.new is None))
        held = {run_id: self.cache.peek(run_id) for run_id in run_ids}
        held_versions = {run_id: h[0].version for run_id, h in held.items() if h is not None}
        keys = [
            (job.new[0].tenant, job.new[1]["idempotency_key"])
            for job in batch
            if job.new is not None
        ]

        def begin(conn: Connection) -> tuple[dict[str, int], Loaded, set[tuple[str, str]]]:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return persist.read_for_update(conn, run_ids, held_versions, [k for k in keys if k[1]])

        published: list[str] = []
        try:
            # Inside the ``try``: a cancel while ``begin`` runs on the writer's thread (a stop)
            # does not stop it, and the lock it takes must be given back. The rollback is
            # queued behind it on that thread.
            versions, loaded, taken = await sqlite.run(begin)
            stale = sum(1 for run_id in loaded if held.get(run_id) is not None)
            self.conflicts += stale
            metrics.RUN_CONFLICTS.inc(stale)
            async with self.readers() as session:  # routing reads; SQLite readers never block
                # ``loaded`` has the runs not held at their current version.
                current: Loaded = {}
                for run_id in versions:
                    found = loaded.get(run_id) or held[run_id]
                    if found is not None:
                        current[run_id] = found
                contexts = self._contexts(session, batch, current)
                _refuse_taken_keys(contexts, taken)
                results = [await self._apply(job, contexts) for job in batch]
            published = self.relay.take_published()

            def commit(conn: Connection) -> None:
                persist.save(conn, list(contexts.values()), published)
                conn.exec_driver_sql("COMMIT")

            await sqlite.run(commit)
        except BaseException:
            self.relay.restore_published(published)
            await asyncio.shield(sqlite.run(_rollback))
            raise
        return list(contexts.values()), results

    async def _write_current(
        self, writer: AsyncEngine, batch: list[_Job]
    ) -> tuple[list[RunContext], list[object | None], list[_Job]]:
        """The lock-free batch (PostgreSQL); jobs of runs that changed meanwhile go again."""
        if self._held is None:
            # Held from batch to batch: a checkout and return per batch cost as much CPU as
            # the write itself. Any failure closes it; the next batch takes a fresh one.
            conn = await writer.connect()
            try:
                self._held = _Held(conn, await persist.driver_of(conn))
            except BaseException as exc:
                with contextlib.suppress(Exception):
                    await (conn.invalidate() if _connection_lost(exc) else conn.close())
                raise
        conn, driver = self._held.conn, self._held.driver
        published: list[str] = []
        try:
            session = AsyncSession(bind=conn)
            held = {job.run_id: self.cache.peek(job.run_id) for job in batch if job.new is None}
            loaded = await persist.load(conn, [run_id for run_id, h in held.items() if h is None])
            current = {run_id: h for run_id, h in held.items() if h is not None} | loaded
            contexts = self._contexts(session, batch, current)
            results = [await self._apply(job, contexts) for job in batch]
            published = self.relay.take_published()
            written = await persist.save_if_current(driver, list(contexts.values()), published)
        except BaseException as exc:
            self.relay.restore_published(published)
            self._held = None
            with contextlib.suppress(Exception):
                # A connection asyncpg lost goes back to no pool: the next one is fresh.
                await (conn.invalidate() if _connection_lost(exc) else conn.close())
            raise
        stale = {
            run_id
            for run_id, ctx in contexts.items()
            if run_id not in written
            and ctx.created is None
            and ctx.run.version != ctx.version_before
        }
        refused = {
            run_id for run_id, ctx in contexts.items() if ctx.created and run_id not in written
        }
        for run_id in refused:  # a new run whose idempotency key was taken meanwhile
            del contexts[run_id]
        results = [
            None if job.run_id in refused else r for job, r in zip(batch, results, strict=True)
        ]
        if not stale:
            return list(contexts.values()), results, batch
        self.cache.forget(list(stale))
        self.conflicts += len(stale)
        metrics.RUN_CONFLICTS.inc(len(stale))
        again = [job for job in batch if job.run_id in stale]
        for job in again:
            job.conflicts += 1
            if job.conflicts > MAX_CONFLICTS:
                _settle(job, exc=RunKeptChanging(f"run {job.run_id} kept changing; gave up"))
        self._jobs.extendleft(reversed([job for job in again if not job.done.done()]))
        self._queued.set()
        kept = [i for i, job in enumerate(batch) if job.run_id not in stale]
        return (
            [ctx for run_id, ctx in contexts.items() if run_id not in stale],
            [results[i] for i in kept],
            [batch[i] for i in kept],
        )

    def _contexts(
        self,
        session: AsyncSession,
        batch: list[_Job],
        current: dict[str, tuple[Run, dict[str, Step]]],
    ) -> dict[str, RunContext]:
        """A context per run of ``batch``: a new run, or as ``current`` holds it."""
        now = utcnow()
        contexts: dict[str, RunContext] = {}
        for job in batch:
            if job.run_id in contexts:
                continue
            if job.new is not None:
                # A copy: a batch that fails goes again, and must start from the run as it was
                # submitted, not as the failed try left it (running, with no steps).
                submitted, on_file = job.new
                run = type(submitted)(**submitted.values())
                contexts[job.run_id] = RunContext(
                    session=session,
                    run=run,
                    steps={},
                    now=now,
                    created=on_file,
                    ledger_key=self.ledger_key,
                )
            elif job.run_id in current:
                run, steps = current[job.run_id]
                contexts[job.run_id] = RunContext(
                    session=session,
                    run=run,
                    steps=steps,
                    now=now,
                    status_before=run.status,
                    ledger_key=self.ledger_key,
                )
        return contexts

    @staticmethod
    async def _apply(job: _Job, contexts: dict[str, RunContext]) -> object | None:
        ctx = contexts.get(job.run_id)
        return None if ctx is None else await job.action(ctx)

    async def on_intake(self, envelope: Envelope) -> Sequence[Reply] | None:
        """Handler of ``modx.results`` and of the partition streams: handle a result of a
        run this replica owns; forward any other to its run's partition stream, acknowledged
        in the same round trip.

        The owner checks the envelope (``on_result``): checking it here too would cost a
        signature check twice, and a forged one is dead-lettered on the partition's stream.
        """
        if self.ownership.owns(envelope.run_id):
            await self.on_result(envelope)
            return None
        self.forwarded += 1
        metrics.RESULTS_FORWARDED.inc()
        partition = self.ownership.partition(envelope.run_id or "")
        return [(streams.result_partition(partition), envelope)]

    async def on_result(self, envelope: Envelope) -> None:
        """Check who answers what, record it once, advance the run (results of the runs this
        replica owns, and of its partition streams).

        Raises:
            Refusal: The envelope is forged, stale, replayed or no answer to the step's
                current task; the bus dead-letters it (``services.orchestrator.authenticity``).
        """
        sender = await self.authenticator.check(envelope)
        run_id = envelope.run_id or ""
        ack = ack_of(envelope)

        async def record(ctx: RunContext) -> bool | Refusal:
            outcome = await self.engine.on_message(ctx, envelope, sender)
            if ack is not None and not isinstance(outcome, Refusal):
                # Recorded (or found recorded) by this transaction: its bus entry is
                # acknowledged with the publish after the commit, not in a round trip of its own.
                ctx.acks.append(ack)
            return outcome

        outcome = await self.in_run(run_id, record)
        if isinstance(outcome, Refusal):
            # A refusal writes nothing, so a copy of the run that another replica had changed
            # meanwhile would go unnoticed: judge it once more on the run as stored.
            self.cache.forget([run_id])
            outcome = await self.in_run(run_id, record)
        if outcome is None:
            raise refuse("unbound", f"no run {run_id!r}")
        if isinstance(outcome, Refusal) and outcome.code == "early":
            # Not refused: left pending, so the bus delivers it again after the visibility
            # timeout (and dead-letters it after max_deliveries if it never fits).
            raise AnswerAhead(outcome.message)
        if isinstance(outcome, Refusal):
            raise refuse(outcome.code, outcome.message)
        self.authenticator.accepted(envelope)
        if outcome is False and envelope.kind.value != "event":
            metrics.DUPLICATE_RESULTS.inc()

    async def start_run(self, run_id: str) -> None:
        """Start a freshly created run now (the scheduler would also find it)."""
        await self.in_run(run_id, self.engine.start)

    async def cancel_run(self, run_id: str, reason: str) -> bool:
        """Cancel a run; False when it was already finished."""
        return bool(await self.in_run(run_id, lambda ctx: _sync(self.engine.cancel(ctx, reason))))

    async def signal_run(self, run_id: str, name: str, body: Any, sender: str) -> Signalled | None:
        """Send signal ``name`` to a run: the steps that took it or keep it until they start,
        or None when there is no such run.

        Raises:
            NoWaiter: No step of the run waits or will wait for it.
            SignalRefused: The waiting step's schema refuses ``body`` (names the field).
        """
        took = await self.in_run(run_id, lambda ctx: self.engine.signal(ctx, name, body, sender))
        return took if isinstance(took, Signalled) else None

    async def retry_run(self, run_id: str) -> Run:
        """Start a new run of a failed, cancelled or timed-out run, resuming from its failed step.

        The steps that succeeded are carried over with their outputs (``step.reused`` events),
        and so are those skipped (a branch its switch did not take, a ``when`` that was false:
        each decided by the input and outputs carried over, so it would be skipped again, but
        a branch not taken is only skipped when its switch runs, and would run otherwise);
        the new run's ``retry_of`` names the old one.

        Raises:
            LookupError: No such run.
            RunNotRetryable: The run has not ended unsuccessfully.
        """
        async with self.sessions() as session:
            old = await runs.get_run(session, run_id)
            if old is None:
                raise LookupError(run_id)
            if old.status not in (RunState.FAILED, RunState.CANCELLED, RunState.TIMED_OUT):
                raise RunNotRetryable(
                    f"run {run_id} is {old.status}; only failed, cancelled or "
                    "timed-out runs can be retried"
                )
            steps = list(await runs.steps_of(session, run_id))
            ended = (StepState.SUCCEEDED, StepState.SKIPPED)
            whole = {s.step_id for s in steps if s.item_index is None and s.status in ended}
            reuse = [
                Step.from_row(s) for s in steps if s.status in ended and s.definition_id in whole
            ]
        definition = WorkflowDefinition.model_validate(old.definition)
        run = await self.create_run(
            definition,
            old.input,
            tenant=old.tenant,
            version=old.workflow_version,
            retry_of=old.id,
            reuse=reuse,
        )
        assert run is not None  # no idempotency key: nothing to refuse
        return run

    async def sweep(self) -> int:
        """Handle every run with something due now, but those set aside (``aside``); returns
        how many runs were handled.

        Raises:
            Exception: The database or the bus failed (an outage: nothing is counted against
                the runs).
        """
        skip = self.aside.skipped(asyncio.get_running_loop().time())
        async with self.readers() as session:
            run_ids = await runs.due(session, utcnow(), limit=runs.DUE_LIMIT, skip=skip)
        run_ids = {run_id for run_id in run_ids if self.ownership.owns(run_id)}
        handled = await asyncio.gather(*(self._on_due(run_id) for run_id in run_ids))
        return sum(handled)

    async def _on_due(self, run_id: str) -> bool:
        """Handle what is due in one run; False when that failed, and the run is set aside."""
        try:
            await self.in_run(run_id, self.engine.on_due)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if dependency_of(exc) is not None or isinstance(exc, RunKeptChanging):
                raise  # an outage or contention, not the run's fault: the next sweep tries again
            await self._due_failed(run_id, exc)
            return False
        self.aside.cleared(run_id)
        return True

    async def _due_failed(self, run_id: str, exc: Exception) -> None:
        """Set ``run_id`` aside after its due work failed; fail it after too many tries."""
        failures = self.aside.failed(run_id, asyncio.get_running_loop().time())
        most = self.aside.max_failures
        if failures < most:
            # The traceback once (a bug to find), not at every try.
            log.warning(
                "run %s: its due work failed (try %d of %d); set aside",
                run_id,
                failures,
                most,
                exc_info=exc if failures == 1 else None,
            )
            return
        error = {
            "code": "due_failed",
            "message": f"its due work failed {failures} times in a row: {_failure(exc)}",
            "retryable": False,
        }
        try:
            await self.in_run(run_id, lambda ctx: _sync(self.engine.give_up(ctx, error)))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("run %s: could not be failed either; tried again later", run_id)
            return
        self.aside.cleared(run_id)
        log.error("run %s failed: %s", run_id, error["message"])

    async def cancel_orphans(self) -> int:
        """Cancel the unfinished child runs (of this replica) whose parent run has ended: the
        parent's cancel of its children, carried out after its commit, was lost to a crash.
        Returns how many were cancelled."""
        async with self.readers() as session:
            found = [o for o in await runs.orphans(session) if self.ownership.owns(o[0])]
        done = await asyncio.gather(
            *(self.cancel_run(child, f"parent run {parent} ended") for child, parent in found)
        )
        if found:
            log.info("cancelled %d child runs whose parent had ended", sum(done))
        return sum(done)

    async def sweep_agents(self) -> list[str]:
        """Mark agents with expired leases offline and send their tasks to others; remove
        agents that left (``agents_removed`` takes their bus access back).

        Unless this replica swept them all along, the leases that ran out since its last sweep
        are renewed first, for one lease: its sweeps failed (the database was down), or were
        skipped (the bus was down: the API answers heartbeats 503 without Redis; another
        replica led), or this is its first, or the last was a lease ago. Only the sweeping
        replica notes an outage, and the one that leads after it did not see its start: after
        an outage every replica saw, the first to renew led and expired every agent.
        """
        async with self.sessions() as session, session.begin():
            now = await database_now(session)  # the clock leases are written in
            since = self._leases_swept_at
            # A lease and a poll: the gap between two sweeps of a leader that kept sweeping.
            watched = timedelta(seconds=self.lease_s + self.lease_poll_s)
            unseen = since is None or now - since > watched
            if unseen or self.lease_outage.down or self._unswept:
                renewed = await store.renew_expired_leases(
                    session, since, now + timedelta(seconds=self.lease_s)
                )
                if renewed:
                    log.info("leases renewed, unswept meanwhile: %d agents", renewed)
            offline, removed = await store.expire_leases(session, now)
            removed += await store.remove_drained(session)
            removed += await store.forget_offline(session, now - timedelta(days=1))
        self._leases_swept_at = now
        self._unswept = False
        self.lease_outage.recovered()
        if removed and self.agents_removed is not None:
            await self.agents_removed(removed)
        if offline:
            log.info("agents offline: %s", offline)
            await self.send_on(offline, holding.OFFLINE_WHY)
        return offline

    async def send_on(self, agent_ids: Collection[str], why: str) -> None:
        """Send the tasks in flight with agents that left (their lease ran out, or they
        deregistered: ``why``) to others, but for those the bus still holds for them
        (``Engine.redispatch``): one path for every way an agent leaves."""
        async with self.readers() as session:
            query = (
                select(StepRow.run_id)
                .where(StepRow.agent_id.in_(list(agent_ids)), StepRow.status.in_(list(ACTIVE_STEP)))
                .distinct()
            )
            run_ids = list((await session.execute(query)).scalars())
        self.engine.router.invalidate()  # routing must not pick them again
        gone = set(agent_ids)
        await asyncio.gather(
            *(self.in_run(r, lambda ctx: self.engine.redispatch(ctx, gone, why)) for r in run_ids)
        )

    def _sweep_at(self, when: datetime) -> None:
        """Sweep at ``when`` if that is before the next poll (a retry's backoff, a timeout)."""
        loop = asyncio.get_running_loop()
        at = loop.time() + max(0.0, (when - utcnow()).total_seconds())
        if self._sweep_timer is not None and self._sweep_timer_at <= at:
            return
        if self._sweep_timer is not None:
            self._sweep_timer.cancel()
        self._sweep_timer = loop.call_at(at, self._sweep_now.set)
        self._sweep_timer_at = at

    async def _scheduler_loop(self) -> None:
        orphans_due = 0.0  # at once on start, then every ORPHAN_CHECK_S
        while True:
            self._sweep_now.clear()
            self._sweep_timer = None
            try:
                await self.sweep()
                if asyncio.get_running_loop().time() >= orphans_due:
                    await self.cancel_orphans()
                    orphans_due = asyncio.get_running_loop().time() + ORPHAN_CHECK_S
                self.sweep_outage.recovered()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log_failure(self.sweep_outage, exc, log, "sweep")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._sweep_now.wait(), self.scheduler_poll_s)

    async def lease_round(self) -> None:
        """One turn of the lease loop: sweep the agents' leases, unless the bus is down.

        Heartbeats come through the API, which answers them 503 while it cannot reach Redis
        (tokens are checked there): a lease that runs out meanwhile says nothing about its
        agent. (A 30 s Redis freeze marked every agent offline and sent running tasks again.)
        A round that does not lead notes that it skipped too: ``sweep_agents`` renews what ran
        out unswept once this replica leads.
        """
        if not self.ownership.leads:  # agents' leases are shared: one replica sweeps them
            self._unswept = True
            return
        try:
            bus_ok = await asyncio.wait_for(self.transport.ping(), BUS_PING_S)
        except (TimeoutError, ConnectionError):
            bus_ok = False
        if not bus_ok:
            self._unswept = True
            return
        await self.sweep_agents()

    async def _lease_loop(self) -> None:
        while True:
            try:
                await self.lease_round()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log_failure(self.lease_outage, exc, log, "lease sweep")
            await asyncio.sleep(self.lease_poll_s)


def _commit(ctx: RunContext) -> Commit | None:
    """What the committed transaction wrote to the run, for the event streams of this process;
    None when an event has no id (the streams read the run instead)."""
    if any("id" not in e for e in ctx.written):
        return None
    return Commit(ctx.run.version, ctx.run.status, tuple(ctx.written))


def _outcome(run: Run | RunRow) -> ChildOutcome:
    return ChildOutcome(run.id, run.status, run.output, run.error)


async def _depth(session: AsyncSession, run_id: str, most: int) -> int:
    """How deep ``run_id`` nests: 1 for a run without a parent (counted up to ``most``)."""
    depth, run = 1, await session.get(RunRow, run_id)
    while run is not None and run.parent_run_id is not None and depth < most:
        depth, run = depth + 1, await session.get(RunRow, run.parent_run_id)
    return depth


async def _root(session: AsyncSession, parent_run_id: str) -> str:
    """The run at the top of ``parent_run_id``'s chain (itself when it has no parent)."""
    parent = await session.get(RunRow, parent_run_id)
    if parent is None or parent.root_run_id is None:
        return parent_run_id
    return parent.root_run_id


async def _child_definition(
    session: AsyncSession, tenant: str, order: ChildOrder
) -> tuple[WorkflowDefinition | None, dict[str, Any] | None]:
    """A child's definition (registered, or a loop's inline body), or the error that fails
    the step's attempt: an unknown workflow, or an input its ``input_schema`` refuses."""
    if order.body is not None:
        return WorkflowDefinition.model_validate(order.body), None
    assert order.workflow is not None
    found = await workflows.lookup(session, order.workflow, order.version, tenant=tenant)
    if found is None:
        named = order.workflow + (f"@{order.version}" if order.version is not None else "")
        message = f"workflow {named!r} is not registered"
        return None, {"code": "workflow_unknown", "message": message, "retryable": False}
    definition = found[0]
    if definition.input_schema is not None:
        problem = refusal(definition.input_schema, order.input)
        if problem is not None:
            message = f"the child's input at {problem.path}: {problem.message}"
            return None, {"code": "invalid_input", "message": message, "retryable": False}
    return definition, None


async def _sync(value: object) -> object:
    return value


def _failure(exc: Exception) -> str:
    """What failed, for the run's error: the driver's own first line, not SQLAlchemy's text
    (which carries the statement and its parameters)."""
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0][:300]}" if text else type(cause).__name__


def _settle(job: _Job, result: object | None = None, exc: BaseException | None = None) -> None:
    if job.done.done():
        return
    if exc is not None:
        job.done.set_exception(exc)
    else:
        job.done.set_result(result)


def _refuse_taken_keys(contexts: dict[str, RunContext], taken: set[tuple[str, str]]) -> None:
    """Drop new runs whose (tenant, idempotency key) is ``taken``, or used earlier in the batch
    (the locking path; on PostgreSQL the insert itself refuses them)."""
    seen: set[tuple[str, str]] = set()
    for run_id, ctx in list(contexts.items()):
        given = ctx.created.get("idempotency_key") if ctx.created else None
        if given is None:
            continue
        key = (ctx.run.tenant, given)
        if key in taken or key in seen:
            del contexts[run_id]
        seen.add(key)


def _connection_lost(exc: BaseException) -> bool:
    """True when ``exc`` says the writer's connection is gone (a restarted database): through
    SQLAlchemy (the pool invalidated it), or from the batch statement on asyncpg itself (the
    connection closed or reset, or the server shutting down: ``OperatorInterventionError``)."""
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated)
    return isinstance(
        exc,
        ConnectionDoesNotExistError
        | InterfaceError
        | PostgresConnectionError
        | OperatorInterventionError
        | ConnectionError,
    )


def _rollback(conn: Connection) -> None:
    with contextlib.suppress(Exception):  # none may be open if BEGIN itself failed
        conn.exec_driver_sql("ROLLBACK")
