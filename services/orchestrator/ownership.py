"""Ownership: each unfinished run is handled by one orchestrator replica.

A run belongs to one of ``partitions`` partitions, by a hash of its id. Each replica holds a
membership lease (a row of ``orchestrator_replicas``, renewed every third of ``lease_s``), and
the live replicas split the partitions between them: in the order of their ids, the i-th of n
takes the partitions p with p mod n = i. The owner of a run sees every change to it, so its
in-memory copy (``RunCache``) stays current: a step reads nothing and conflicts with no one.

A replica that stops gives its lease back, and the others take its partitions at their next
renewal; a replica that dies loses them when its lease runs out. So does a replica that cannot
reach the bus: it renews only while the bus answers, since without it it can neither read its
partitions' answers nor send their tasks (cut from Redis alone, it kept renewing in PostgreSQL,
and its runs waited for the link to come back). And a replica that has not renewed for a
whole lease (the database out of its reach, a query waiting on a link gone silent) stops
reading its partitions: the others own them by now, and answers it held, waiting on the
database, kept them from the new owner until the link came back. Ownership only decides who
does the work, never whether it is right: every write still checks the run's version, so a
change made by a replica that does not own the run (an API call, a replica that has not seen a
new member yet) costs a conflict and a read, not a wrong state.
"""

from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bus import streams
from bus.ids import new_id
from services.db.clock import database_now
from services.db.models import ReplicaRow
from services.outage import Outage, log_failure

log = logging.getLogger(__name__)


class PartitionMismatch(RuntimeError):
    """Live replicas split runs into different numbers of partitions (MODX_RESULT_PARTITIONS)."""


def partition_of(run_id: str, partitions: int) -> int:
    """The partition of a run: stable across processes and restarts (not Python's ``hash``)."""
    return zlib.crc32(run_id.encode()) % partitions


def reply_stream(run_id: str, partitions: int | None) -> str | None:
    """Where the answers to a run's tasks go (their ``reply_to``): the run's partition stream,
    which only its owner reads, so no replica reads an answer only to pass it on. None
    without partitions (answers go to ``modx.results``)."""
    if partitions is None:
        return None
    return streams.result_partition(partition_of(run_id, partitions))


class Ownership:
    """This replica's membership lease and the partitions it owns.

    Args:
        sessions: The database that holds the leases.
        replica_id: This replica's name (its consumer name on the bus); unique among replicas.
        partitions: How many partitions runs are split into; the same on every replica.
        lease_s: How long a replica that stops renewing keeps its partitions.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        replica_id: str,
        *,
        partitions: int = 12,
        lease_s: float = 10.0,
    ) -> None:
        self.sessions = sessions
        self.replica_id = replica_id
        self.partitions = partitions
        self.lease_s = lease_s
        self.members: tuple[str, ...] = ()
        # None until the first renewal: a replica alone (or one that cannot reach the database
        # yet) does all the work rather than none of it.
        self._mine: frozenset[int] | None = None
        self.outage = Outage("the database, for replica leases", log)
        self.bus_outage = Outage("the bus, for replica leases", log)
        self._renewed_at: float | None = None  # time.monotonic(), a renewal's clock read

    def partition(self, run_id: str) -> int:
        """The partition of ``run_id``."""
        return partition_of(run_id, self.partitions)

    def owns(self, run_id: str | None) -> bool:
        """True when this replica handles ``run_id`` (and anything that names no run)."""
        return self._mine is None or run_id is None or self.partition(run_id) in self._mine

    def new_run_id(self) -> str:
        """A fresh run id in a partition this replica owns (a UUIDv7 like any other: about
        one try per live replica). A run created here is then owned here from its first
        step: its owner holds it in memory as created, rather than reading it back when its
        first answer arrives, which a run made on another replica costs."""
        mine = self.mine
        while True:
            candidate = new_id()
            if not mine or self.partition(candidate) in mine:
                return candidate

    @property
    def leads(self) -> bool:
        """True for the one replica that runs the sweeps of shared state (agents' leases, the
        outbox's leftovers, agents' bus users): the first live member. Every replica running
        them cost each sweep once per replica; a dead leader's successor takes over at its
        next renewal. True when alone, or before the first renewal; False once it left."""
        return self._mine is None or self.members[:1] == (self.replica_id,)

    @property
    def mine(self) -> frozenset[int]:
        """The partitions this replica owns."""
        return frozenset(range(self.partitions)) if self._mine is None else self._mine

    async def renew(self) -> bool:
        """Renew this replica's lease and read the live members; True when ``mine`` changed.

        Raises:
            PartitionMismatch: A live replica uses another partition count.
        """
        async with self.sessions() as session, session.begin():
            now = await database_now(session)  # not this machine's clock: see db/clock.py
            # When the lease's start was read (a round trip late at most): a renewal that
            # waited on a silent link to get there, timed from before, looked lapsed at once.
            read_at = time.monotonic()
            until = now + timedelta(seconds=self.lease_s)
            row = await session.get(ReplicaRow, self.replica_id)
            if row is None:
                session.add(
                    ReplicaRow(
                        id=self.replica_id,
                        partitions=self.partitions,
                        started_at=now,
                        expires_at=until,
                    )
                )
            else:
                row.expires_at = until
                row.partitions = self.partitions
            # Rows of replicas gone for a whole lease more (not one renewing late right now).
            stale = now - timedelta(seconds=self.lease_s)
            await session.execute(delete(ReplicaRow).where(ReplicaRow.expires_at < stale))
            live = (
                await session.execute(
                    select(ReplicaRow.id, ReplicaRow.partitions)
                    .where(ReplicaRow.expires_at >= now)
                    .order_by(ReplicaRow.id)
                )
            ).all()
        others = {count for replica, count in live if replica != self.replica_id}
        if others - {self.partitions}:
            raise PartitionMismatch(
                f"this replica splits runs into {self.partitions} partitions, live replicas "
                f"into {sorted(others)}: give every replica the same MODX_RESULT_PARTITIONS"
            )
        members = tuple(sorted({replica for replica, _ in live} | {self.replica_id}))
        index = members.index(self.replica_id)
        mine = frozenset(p for p in range(self.partitions) if p % len(members) == index)
        changed = mine != self._mine
        if members != self.members:
            log.info("replicas %s; this one owns partitions %s", members, sorted(mine))
        self.members, self._mine = members, mine
        self._renewed_at = read_at
        return changed

    async def run(
        self,
        follow: Callable[[], Awaitable[None]],
        bus_answers: Callable[[], Awaitable[bool]] | None = None,
    ) -> None:
        """Renew forever (every third of the lease), then ``follow`` what ``mine`` is now.

        ``follow`` runs after every renewal, not only after a change: one that failed (the bus
        was down) is made good at the next. While ``bus_answers`` says no (or does not answer
        within a third of the lease), the lease is not renewed: the others take this replica's
        partitions when it runs out, and it joins again at the first renewal once the bus is
        back. Its own view of ``mine`` stays meanwhile (every write checks the run's version).
        """
        while True:
            await asyncio.sleep(self.lease_s / 3)
            try:
                if bus_answers is not None and not await self._answers(bus_answers):
                    refused = ConnectionError("no answer: the replica lease is left to run out")
                    self.bus_outage.failed(refused)
                    continue
                self.bus_outage.recovered()
                await self.renew()
                await follow()
                self.outage.recovered()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep the partitions held: the others cannot renew either
                log_failure(self.outage, exc, log, "replica lease")

    async def watch(self, follow: Callable[[], Awaitable[None]]) -> None:
        """Forever, every third of the lease: once no renewal has succeeded for a whole lease
        (by this machine's monotonic clock, from when the last one read the database's
        clock), own nothing and lead nothing, and ``follow`` that. A renewal that waits on
        the database cannot say so itself; the next one that succeeds takes this replica's
        share again."""
        while True:
            await asyncio.sleep(self.lease_s / 3)
            renewed_at = self._renewed_at
            # Alone at its last renewal, there is nobody to hand them to: a lone replica (the
            # embedded mode's) keeps its partitions through an outage, as before.
            if renewed_at is None or not self._mine or len(self.members) < 2:
                continue
            if time.monotonic() - renewed_at <= self.lease_s:
                continue
            log.warning(
                "replica lease not renewed for %.1f s: its partitions go to the others",
                time.monotonic() - renewed_at,
            )
            self.members, self._mine = (), frozenset()
            try:
                await follow()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log_failure(self.bus_outage, exc, log, "leaving partitions")

    async def _answers(self, bus_answers: Callable[[], Awaitable[bool]]) -> bool:
        # A silent link makes a ping wait for the client's socket timeout: past the lease.
        try:
            return await asyncio.wait_for(bus_answers(), self.lease_s / 3)
        except (TimeoutError, ConnectionError):
            return False

    async def leave(self) -> None:
        """Give the lease back, so that the others take this replica's partitions at once."""
        async with self.sessions() as session, session.begin():
            await session.execute(delete(ReplicaRow).where(ReplicaRow.id == self.replica_id))
        self._mine = frozenset()
        self.members = ()
