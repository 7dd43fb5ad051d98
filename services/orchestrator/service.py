"""The orchestrator process's loops: results in, time passing, agent leases, the outbox out.

Any number of replicas can run these loops against one database: results are shared through
the ``orchestrator`` consumer group, each run is changed under its row lock, and the sweeps
claim rows with ``FOR UPDATE SKIP LOCKED`` so two replicas never handle the same thing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bus import streams
from bus.envelope import Envelope
from bus.ids import new_id
from bus.transport import ConsumerOptions, Subscription, Transport
from services import metrics
from services.db.models import RunRow, StepRow, utcnow
from services.orchestrator import runs
from services.orchestrator.context import RunContext
from services.orchestrator.definitions import WorkflowDefinition
from services.orchestrator.engine import Engine
from services.orchestrator.states import ACTIVE_STEP, TERMINAL_RUN, RunState, StepState
from services.outbox import OutboxRelay
from services.registry import store

log = logging.getLogger(__name__)

RunAction = Callable[[RunContext], Awaitable[object]]


class RunNotRetryable(ValueError):
    """A retry asked of a run that has not ended unsuccessfully."""


class RunWatch:
    """Wakes long-polls and live views in this process when a run changes."""

    def __init__(self) -> None:
        self._changed = asyncio.Condition()
        self.version = 0

    async def notify(self) -> None:
        """Something changed."""
        async with self._changed:
            self.version += 1
            self._changed.notify_all()

    async def wait(self, seconds: float) -> None:
        """Until the next change or ``seconds`` (other replicas' changes arrive by polling)."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), seconds)


class Orchestrator:
    """Runs the engine's loops in this process."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        transport: Transport,
        engine: Engine,
        relay: OutboxRelay,
        *,
        consumer: str | None = None,
        scheduler_poll_s: float = 0.2,
        lease_poll_s: float = 1.0,
        consumer_options: ConsumerOptions | None = None,
    ) -> None:
        self.sessions = sessions
        self.transport = transport
        self.engine = engine
        self.relay = relay
        self.consumer = consumer or f"{socket.gethostname()}-{new_id()[-12:]}"
        self.scheduler_poll_s = scheduler_poll_s
        self.lease_poll_s = lease_poll_s
        self.consumer_options = consumer_options or ConsumerOptions(concurrency=16, batch_size=256)
        self.watch = RunWatch()
        self._tasks: list[asyncio.Task[None]] = []
        self._subscription: Subscription | None = None

    async def start(self) -> None:
        """Subscribe to results and start the sweeps and the relay."""
        self._subscription = await self.transport.subscribe(
            streams.RESULTS,
            streams.ORCHESTRATOR_GROUP,
            self.consumer,
            self.on_result,
            self.consumer_options,
        )
        for loop in (self.relay.run, self._scheduler_loop, self._lease_loop):
            self._tasks.append(asyncio.create_task(loop(), name=loop.__qualname__))

    async def stop(self) -> None:
        """Stop consuming (draining handlers in flight), then stop the loops."""
        if self._subscription is not None:
            await self._subscription.stop(drain=True)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def in_run(
        self, run_id: str, action: RunAction, *, skip_locked: bool = False
    ) -> object | None:
        """Run ``action`` on a locked run in one transaction; publish what it queued.

        Returns None when the run does not exist (or is locked by another replica with
        ``skip_locked``), else what ``action`` returned.
        """
        async with self.sessions() as session, session.begin():
            ctx = await RunContext.load(session, run_id, skip_locked=skip_locked)
            if ctx is None:
                return None
            before = ctx.run.status
            result = await action(ctx)
        await self.committed(ctx, before)
        return result

    async def committed(self, ctx: RunContext, status_before: str | None = None) -> None:
        """After the transaction on ``ctx`` committed: send its envelopes, tell the watchers."""
        await self.relay.publish_committed(ctx.sent)
        if ctx.run.status != status_before and ctx.run.status in TERMINAL_RUN:
            metrics.RUNS_FINISHED.labels(status=ctx.run.status).inc()
        await self.watch.notify()

    async def on_result(self, envelope: Envelope) -> None:
        """Handler of ``modx.results``: record the answer once, then advance the run."""
        if envelope.run_id is None:
            log.warning("result without run_id from %s dropped", envelope.sender)
            return
        accepted = await self.in_run(
            envelope.run_id, lambda ctx: self.engine.on_message(ctx, envelope)
        )
        if accepted is False and envelope.kind.value != "event":
            metrics.DUPLICATE_RESULTS.inc()

    async def start_run(self, run_id: str) -> None:
        """Start a freshly created run now (the scheduler would also find it)."""
        await self.in_run(run_id, self.engine.start)

    async def cancel_run(self, run_id: str, reason: str) -> bool:
        """Cancel a run; False when it was already finished."""
        return bool(await self.in_run(run_id, lambda ctx: _sync(self.engine.cancel(ctx, reason))))

    async def retry_run(self, run_id: str) -> RunRow:
        """Start a new run of a failed, cancelled or timed-out run, resuming from its failed step.

        The steps that succeeded are carried over with their outputs (``step.reused`` events);
        the new run's ``retry_of`` names the old one.

        Raises:
            LookupError: No such run.
            RunNotRetryable: The run has not ended unsuccessfully.
        """
        async with self.sessions() as session, session.begin():
            old = await runs.get_run(session, run_id)
            if old is None:
                raise LookupError(run_id)
            if old.status not in (RunState.FAILED, RunState.CANCELLED, RunState.TIMED_OUT):
                raise RunNotRetryable(
                    f"run {run_id} is {old.status}; only failed, cancelled or "
                    "timed-out runs can be retried"
                )
            steps = list(await runs.steps_of(session, run_id))
            whole = {
                s.step_id for s in steps if s.item_index is None and s.status == StepState.SUCCEEDED
            }
            reuse = [
                s for s in steps if s.status == StepState.SUCCEEDED and s.definition_id in whole
            ]
            definition = WorkflowDefinition.model_validate(old.definition)
            run, _ = await runs.create_run(
                session, definition, old.input, version=old.workflow_version, retry_of=old.id
            )
            ctx = RunContext(session=session, run=run, steps={})
            await self.engine.start(ctx, reuse)
        metrics.RUNS_STARTED.labels(workflow=definition.name).inc()
        await self.committed(ctx)
        return run

    async def sweep(self) -> int:
        """Handle every run with something due now; returns how many runs were handled."""
        now = utcnow()
        async with self.sessions() as session:
            due_steps = select(StepRow.run_id).where(StepRow.due_at <= now).distinct().limit(500)
            due_runs = (
                select(RunRow.id)
                .where(
                    or_(
                        RunRow.status == RunState.PENDING,
                        (RunRow.status == RunState.RUNNING) & (RunRow.deadline_at <= now),
                    )
                )
                .limit(500)
            )
            run_ids = set((await session.execute(due_steps)).scalars()) | set(
                (await session.execute(due_runs)).scalars()
            )
        handled = 0
        for run_id in run_ids:
            if await self.in_run(run_id, self.engine.on_due, skip_locked=True) is not None:
                handled += 1
        return handled

    async def sweep_agents(self) -> list[str]:
        """Mark agents with expired leases offline and send their tasks to others."""
        async with self.sessions() as session, session.begin():
            offline = await store.expire_leases(session, utcnow())
            await store.remove_drained(session)
            await store.forget_offline(session, utcnow() - timedelta(days=1))
            run_ids: list[str] = []
            if offline:
                query = (
                    select(StepRow.run_id)
                    .where(StepRow.agent_id.in_(offline), StepRow.status.in_(list(ACTIVE_STEP)))
                    .distinct()
                )
                run_ids = list((await session.execute(query)).scalars())
        if offline:
            log.info("agents offline: %s", offline)
            self.engine.router.invalidate()
            gone = set(offline)
            for run_id in run_ids:
                await self.in_run(run_id, lambda ctx: self.engine.redispatch(ctx, gone))
        return offline

    async def _scheduler_loop(self) -> None:
        await self._forever(self.sweep, self.scheduler_poll_s)

    async def _lease_loop(self) -> None:
        await self._forever(self.sweep_agents, self.lease_poll_s)

    async def _forever(self, work: Callable[[], Awaitable[object]], every: float) -> None:
        while True:
            try:
                await work()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed; retrying", getattr(work, "__name__", work))
            await asyncio.sleep(every)


async def _sync(value: object) -> object:
    return value
