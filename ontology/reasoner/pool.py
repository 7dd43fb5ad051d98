"""``ReasonerPool``: N SWI-Prolog worker processes behind a bounded asyncio queue.

Each worker loads the rules once and answers one query at a time, so a query that loops, blows
the stack or crashes Prolog takes down only its own process. Limits are enforced twice: by
Prolog (``call_with_time_limit``, inference limit, ``--stack-limit``), which leaves the worker
usable, and by a hard deadline here (time limit + grace), after which the process is killed. A
worker that timed out, ran out of resources or died is replaced before the next query, because
its state (tables, memory) can no longer be trusted.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ontology.errors import (
    PoolBusy,
    PoolClosed,
    QueryTimeout,
    ReasonerError,
    WorkerCrashed,
    WorkerStartError,
    reasoner_error,
)
from ontology.reasoner.models import Answer, PoolStats, ProofNode
from ontology.reasoner.process import WorkerProcess, address_space_mb, worker_command

if TYPE_CHECKING:
    from ontology.tax_facts import Facts

_RECYCLE = frozenset({"timeout", "resource"})


@dataclass
class _Job:
    payload: dict[str, Any]
    future: asyncio.Future[dict[str, Any]]
    deadline_s: float


class ReasonerPool:
    """Answer Prolog goals over a set of facts with a pool of SWI-Prolog workers.

    Args:
        rules: Prolog files every worker loads once (e.g. ``ontology/statutes/statutes.pl``).
        size: Number of worker processes.
        queue_size: Queries that may wait; beyond that ``query`` raises ``PoolBusy``.
        default_timeout_s: Time limit of a query when the call gives none.
        inference_limit: Inference limit per query (``None``: only the time limit applies).
        stack_limit_mb: Prolog stack limit of each worker.
        swipl: The ``swipl`` executable (found on PATH by default).
        prove: Name of the ``Prove(Goal, Proof)`` predicate the rules define.
        startup_timeout_s: How long a worker may take to load the rules.
        grace_s: Extra time past the Prolog time limit before the process is killed.
    """

    def __init__(
        self,
        rules: Sequence[str | Path],
        *,
        size: int = 2,
        queue_size: int = 64,
        default_timeout_s: float = 10.0,
        inference_limit: int | None = None,
        stack_limit_mb: int = 512,
        swipl: str | None = None,
        prove: str = "prove",
        startup_timeout_s: float = 60.0,
        grace_s: float = 2.0,
    ) -> None:
        if size < 1 or queue_size < 1:
            raise ValueError("size and queue_size must be at least 1")
        self._command = worker_command(
            swipl or shutil.which("swipl") or "swipl",
            [Path(r).resolve() for r in rules],
            prove=prove,
            stack_limit_mb=stack_limit_mb,
        )
        self._memory_mb = address_space_mb(stack_limit_mb)
        self._size = size
        self._queue: asyncio.Queue[_Job | None] = asyncio.Queue(maxsize=queue_size)
        self._default_timeout_s = default_timeout_s
        self._inference_limit = inference_limit
        self._startup_timeout_s = startup_timeout_s
        self._grace_s = grace_s
        self._workers: list[WorkerProcess | None] = [None] * size
        self._tasks: list[asyncio.Task[None]] = []
        self._ids = itertools.count(1)
        self._stats = PoolStats(size=size)
        self._start_lock = asyncio.Lock()
        self._started = False
        self._closed = False

    async def __aenter__(self) -> ReasonerPool:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def stats(self) -> PoolStats:
        """Counters and the pids of the live workers."""
        return self._stats.model_copy(
            update={
                "queued": self._queue.qsize(),
                "pids": [w.pid for w in self._workers if w is not None and w.alive and w.pid],
            }
        )

    async def start(self) -> None:
        """Start every worker (they load the rules in parallel).

        Raises:
            WorkerStartError: A worker could not start; the others are stopped.
        """
        async with self._start_lock:
            if self._closed:
                raise PoolClosed("the pool is closed")
            if self._started:
                return
            results = await asyncio.gather(
                *(self._spawn() for _ in range(self._size)), return_exceptions=True
            )
            failure = next((r for r in results if isinstance(r, BaseException)), None)
            if failure is not None:
                for r in results:
                    if isinstance(r, WorkerProcess):
                        await r.stop()
                raise failure
            self._workers = [r for r in results if isinstance(r, WorkerProcess)]
            self._tasks = [
                asyncio.create_task(self._serve(i), name=f"reasoner-worker-{i}")
                for i in range(self._size)
            ]
            self._started = True

    async def _spawn(self) -> WorkerProcess:
        worker = WorkerProcess(self._command, memory_mb=self._memory_mb)
        await worker.start(self._startup_timeout_s)
        self._stats.started += 1
        return worker

    async def query(
        self,
        facts: Facts | Sequence[str],
        goal: str,
        timeout_s: float | None = None,
        *,
        inference_limit: int | None = None,
    ) -> Answer:
        """Prove ``goal`` from the rules plus ``facts``; return the first proof.

        Args:
            facts: Ontology ``Facts`` (converted with ``facts_to_prolog``) or Prolog fact terms.
            goal: One call to a rule predicate, e.g. ``tax(alice, 2019, Amount)``; build it with
                ``reasoner.terms.goal`` when any argument comes from input.
            timeout_s: Time limit (the pool default when omitted).
            inference_limit: Inference limit (the pool default when omitted).

        Returns:
            The bindings of the goal's variables, the proof tree and the elapsed time.

        Raises:
            ReasonerError: A subclass per ``code``: ``QueryTimeout``, ``ResourceExhausted``,
                ``UnknownPredicate``, ``PrologSyntaxError``, ``InvalidFact``, ``InvalidGoal``,
                ``NoProof``, ``WorkerCrashed``, ``PoolBusy``, ``PoolClosed``.
        """
        if self._closed:
            raise PoolClosed("the pool is closed")
        await self.start()
        terms = _fact_terms(facts)
        limit = timeout_s if timeout_s is not None else self._default_timeout_s
        inferences = inference_limit if inference_limit is not None else self._inference_limit
        payload = {
            "id": next(self._ids),
            "facts": terms,
            "query": goal,
            "limits": {"time_s": limit, "inferences": inferences},
        }
        loop = asyncio.get_running_loop()
        job = _Job(payload, loop.create_future(), limit + self._grace_s)
        try:
            self._queue.put_nowait(job)
        except asyncio.QueueFull:
            raise PoolBusy(f"{self._queue.maxsize} queries already waiting") from None
        t0 = loop.time()
        response = await job.future
        try:
            proof = ProofNode.model_validate(response.get("proof"))
            return Answer(
                bindings=response.get("bindings") or {},
                proof=proof,
                elapsed_s=loop.time() - t0,
                inferences=response.get("inferences"),
            )
        except ValidationError as exc:
            raise ReasonerError(
                f"the rules returned a proof of unexpected shape: {exc}", code="bad_proof"
            ) from exc

    async def _serve(self, index: int) -> None:
        while (job := await self._queue.get()) is not None:
            if job.future.done():  # the caller gave up while the job waited
                continue
            try:
                response = await self._run(index, job)
            except asyncio.CancelledError:  # close() gave up waiting for this query
                if not job.future.done():
                    job.future.set_exception(PoolClosed("the pool closed while this query ran"))
                raise
            except Exception as exc:  # any failure must reach the caller, not kill the slot
                self._stats.failed += 1
                if not isinstance(exc, ReasonerError):
                    exc = ReasonerError(f"internal error: {exc!r}", code="internal")
                if not job.future.done():
                    job.future.set_exception(exc)
                continue
            if response.get("ok"):
                self._stats.completed += 1
                if not job.future.done():
                    job.future.set_result(response)
                continue
            self._stats.failed += 1
            err = response.get("error") or {}
            code = str(err.get("code", "prolog_error"))
            if code in _RECYCLE:
                await self._replace(index)
            if not job.future.done():
                job.future.set_exception(reasoner_error(code, str(err.get("message", code))))

    async def _run(self, index: int, job: _Job) -> dict[str, Any]:
        worker = self._workers[index]
        if worker is None or not worker.alive:
            self._workers[index] = None
            worker = await self._spawn()
            self._workers[index] = worker
            self._stats.restarts += 1
        try:
            return await worker.request(job.payload, job.deadline_s)
        except TimeoutError:
            await self._replace(index)
            raise QueryTimeout(f"no answer within {job.deadline_s:.1f}s; worker killed") from None
        except WorkerCrashed:
            await self._replace(index)
            raise

    async def _replace(self, index: int) -> None:
        """Kill the worker in slot ``index``; the next job in that slot starts a new one."""
        worker, self._workers[index] = self._workers[index], None
        if worker is not None:
            await worker.kill()
        if not self._closed:
            try:
                self._workers[index] = await self._spawn()
                self._stats.restarts += 1
            except WorkerStartError:
                self._workers[index] = None  # retried on the next job of this slot

    async def close(self, timeout_s: float = 5.0) -> None:
        """Refuse new queries, fail the waiting ones, let running ones finish, stop workers."""
        if self._closed:
            return
        self._closed = True
        while not self._queue.empty():
            job = self._queue.get_nowait()
            if job is not None and not job.future.done():
                job.future.set_exception(PoolClosed("the pool closed before this query ran"))
        for _ in self._tasks:
            await self._queue.put(None)
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=timeout_s)
            for task in pending:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        for i, worker in enumerate(self._workers):
            self._workers[i] = None
            if worker is not None:
                await worker.stop(timeout_s)


def _fact_terms(facts: Facts | Sequence[str]) -> list[str]:
    if isinstance(facts, str):
        raise TypeError("facts must be a sequence of terms, not one string")
    if hasattr(facts, "individuals"):
        # here: tax_facts imports this package
        from ontology.places import gazetteer_facts
        from ontology.tax_facts import facts_to_prolog

        # Case facts as Prolog, plus what the gazetteer says of their places and employers.
        terms = facts_to_prolog(facts)  # type: ignore[arg-type]
        return terms + gazetteer_facts(terms)
    return list(facts)
