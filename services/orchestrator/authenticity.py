"""Who may answer a task: signatures, freshness, replays, and the binding of an answer to its task.

An agent's answer (``result``, ``error``, or the ``task.started`` event) changes a run only when
all of these hold (docs/protocol.md, "Signatures"):

- it is fresh: its ``created_at`` is within ``clock_skew_s`` of the server's clock;
- it is signed: by the key on its sender's card; or, for an agent that holds no bus key (an
  HTTP agent, an agent on the gateway: any transport but ``bus``), by the orchestrator's key,
  which the server uses to stamp the answers it relays for them; or, from ``orchestrator``
  itself (e.g. "the HTTP agent is gone"), by the orchestrator's key;
- it answers the step's current task: ``causation_id`` is that task's id, and the run, step
  and attempt are the task's;
- its sender is the agent the task was dispatched to or, for a capability's shared task
  stream, an agent serving the capability that claimed the task first; or another such agent
  once the bus handed it the delivery and the first one is gone (``handed_over``);
- it was not accepted before (a replay).

``Authenticator.check`` does what needs no run (the first two), ``binding`` what needs the
step. Anything refused goes to the dead-letter stream with the reason, is counted in
``modx_rejected_messages_total{reason}``, and changes nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bus import streams
from bus.envelope import Envelope, Kind, utcnow
from bus.errors import RejectEnvelope
from bus.signing import Ed25519PrivateKey, Ed25519PublicKey, load_public_key, sign, verify
from services import metrics
from services.db.clock import database_now
from services.db.models import AgentRow, CapabilityRow
from services.orchestrator.in_flight import SHARED_STREAM, SUPERSEDED
from services.orchestrator.records import Step
from services.orchestrator.states import StepState

ORCHESTRATOR = "orchestrator"
ACCEPTED = "accepted"
"""``Step.meta`` key: ids of the envelopes accepted for the step."""


@dataclass(frozen=True)
class Identity:
    """What the registry says about an envelope's sender."""

    agent_id: str
    transport: str
    public_key: Ed25519PublicKey | None
    capabilities: frozenset[str]


SERVER = Identity(ORCHESTRATOR, "server", None, frozenset())
"""The orchestrator itself, as the sender of answers it makes (e.g. a dispatch failure)."""


class Refusal(RejectEnvelope):
    """Why an envelope is refused: ``code`` (the metric's label) and a message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def refuse(code: str, message: str) -> Refusal:
    """Count a refusal and return it, to be raised (or returned by a run action)."""
    metrics.REJECTED_MESSAGES.labels(reason=code).inc()
    return Refusal(code, message)


class Authenticator:
    """Checks agents' envelopes, and stamps the ones the server sends or relays.

    Args:
        sessions: Where the registry is read (each sender once per ``ttl_s``).
        key: The orchestrator's private key.
        insecure: Development only: agents without a key on their card are believed.
        clock_skew_s: How far ``created_at`` may be from now, either way.
        ttl_s: How long a sender's identity is cached.
        remember: How many envelope ids the in-memory replay guard holds at most.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        key: Ed25519PrivateKey,
        *,
        insecure: bool = False,
        clock_skew_s: float = 300.0,
        ttl_s: float = 5.0,
        remember: int = 200_000,
    ) -> None:
        self.sessions = sessions
        self.key = key
        self.public_key = key.public_key()
        self.insecure = insecure
        self.clock_skew_s = clock_skew_s
        self.ttl_s = ttl_s
        self._identities: dict[str, tuple[float, Identity | None]] = {}
        self._loading: dict[str, asyncio.Future[Identity | None]] = {}
        self._forgets = 0  # a read that began before a ``forget`` is not cached
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._remember = remember

    # -- stamping ------------------------------------------------------------------------------

    def stamp(self, envelope: Envelope) -> Envelope:
        """``envelope`` signed with the orchestrator's key (tasks, and the answers the server
        relays for agents without a bus key: their ``sender`` stays the agent's id)."""
        return sign(envelope, self.key)

    # -- identities ----------------------------------------------------------------------------

    def forget(self, agent_id: str | None = None) -> None:
        """Drop cached identities (one agent's, or all): it registered again or left."""
        self._forgets += 1
        if agent_id is None:
            self._identities.clear()
            self._loading.clear()
        else:
            self._identities.pop(agent_id, None)
            self._loading.pop(agent_id, None)

    async def identity(self, agent_id: str) -> Identity | None:
        """The sender's identity from the registry (cached), or None when it is unknown.

        One read per sender at a time: when the cached copy runs out under load, the hundreds
        of results in flight from that sender wait for the same read (each reading on its own
        took a connection each, and opened new ones past the pool).
        """
        cached = self._identities.get(agent_id)
        now = time.monotonic()
        if cached is not None and now - cached[0] < self.ttl_s:
            return cached[1]
        loading = self._loading.get(agent_id)
        if loading is None:
            loading = asyncio.ensure_future(self._load(agent_id, now, self._forgets))
            self._loading[agent_id] = loading
            loading.add_done_callback(lambda done: self._loaded(agent_id, done))
        # Shielded: one waiter cancelled (its handler stopped) leaves the read to the others.
        return await asyncio.shield(loading)

    async def _load(self, agent_id: str, now: float, forgets: int) -> Identity | None:
        async with self.sessions() as session:
            found = await load_identity(session, agent_id)
        if forgets == self._forgets:
            self._identities[agent_id] = (now, found)
            if len(self._identities) > 10_000:
                self._identities.pop(next(iter(self._identities)))
        return found

    def _loaded(self, agent_id: str, done: asyncio.Future[Identity | None]) -> None:
        if self._loading.get(agent_id) is done:
            del self._loading[agent_id]
        if not done.cancelled():
            done.exception()  # retrieved: every waiter has it raised already

    # -- checks --------------------------------------------------------------------------------

    async def check(self, envelope: Envelope, now: datetime | None = None) -> Identity:
        """The sender of an agent's envelope on ``modx.results``, once it is fresh and signed.

        Raises:
            Refusal: Why the envelope is refused (counted already).
        """
        if envelope.kind == Kind.TASK or (
            envelope.kind == Kind.EVENT and envelope.topic not in streams.AGENT_EVENTS
        ):
            raise refuse("unexpected", f"a {envelope.kind.value} envelope is no answer")
        if envelope.run_id is None or envelope.step_id is None or envelope.causation_id is None:
            raise refuse("unbound", "an answer names its run, step and task (causation_id)")
        skew = abs(((now or utcnow()) - envelope.created_at).total_seconds())
        if skew > self.clock_skew_s:
            raise refuse(
                "stale",
                f"created_at {envelope.created_at.isoformat()} is {skew:.0f}s from the "
                f"server's clock (at most {self.clock_skew_s:.0f}s)",
            )
        if envelope.id in self._seen:
            raise refuse("replay", f"envelope {envelope.id} was accepted before")
        if envelope.sender == ORCHESTRATOR:
            if not verify(envelope, self.public_key):
                raise refuse("forged", "claims to come from the orchestrator; not its signature")
            return SERVER
        sender = await self.identity(envelope.sender)
        if sender is None:
            raise refuse("unknown_sender", f"no agent {envelope.sender!r} is registered")
        if sender.public_key is not None and verify(envelope, sender.public_key):
            return sender
        if sender.transport != "bus" and verify(envelope, self.public_key):
            return sender  # stamped by the server, which relays for this agent
        if sender.public_key is None and self.insecure:
            return sender  # MODX_INSECURE_AGENTS: development only
        what = "unsigned" if not envelope.signature else "not signed with the key on its card"
        raise refuse("bad_signature", f"envelope from {envelope.sender!r} is {what}")

    def accepted(self, envelope: Envelope) -> None:
        """Remember an accepted envelope's id for the replay window (this process's guard;
        the step's record is the durable one)."""
        deadline = time.monotonic() + 2 * self.clock_skew_s
        self._seen[envelope.id] = deadline
        now = time.monotonic()
        while self._seen:
            oldest, until = next(iter(self._seen.items()))
            if until > now and len(self._seen) <= self._remember:
                break
            del self._seen[oldest]


def binding(row: Step | None, envelope: Envelope, sender: Identity) -> Refusal | None:
    """Why ``envelope`` is no answer to ``row``'s current task, or None (not counted yet: the
    caller counts it once it is sure that ``row`` was current).

    The step's current task is the last one sent, or one sent for the same attempt before it
    and superseded because its agent went offline (a late answer from that agent counts).
    A late duplicate (the right agent answering once more, after the step was settled) is not
    refused here: the engine ignores and counts it.
    """
    if row is None:
        return Refusal("unbound", f"run {envelope.run_id} has no step {envelope.step_id!r}")
    if envelope.id in row.meta.get(ACCEPTED, ()):
        return Refusal("replay", f"envelope {envelope.id} was accepted before")
    if row.task_id is None or (
        row.status == StepState.RETRYING and envelope.attempt == row.attempt + 1
    ):
        # Ahead of this copy of the run: another replica sent that task and its commit is not
        # visible here yet. The bus delivers it again later (``on_result``).
        return Refusal("early", f"step {row.step_id} has not sent attempt {envelope.attempt}")
    superseded: dict[str, str | None] = row.meta.get(SUPERSEDED, {})
    if envelope.attempt != row.attempt or (
        envelope.causation_id != row.task_id and envelope.causation_id not in superseded
    ):
        return Refusal(
            "unbound",
            f"answers task {envelope.causation_id} (attempt {envelope.attempt}); step "
            f"{row.step_id} waits for task {row.task_id} (attempt {row.attempt})",
        )
    if sender is SERVER:
        return None
    holder = (
        row.agent_id
        if envelope.causation_id == row.task_id
        else superseded[envelope.causation_id or ""]
    )
    if holder is not None:
        if sender.agent_id != holder:
            return Refusal(
                "wrong_agent",
                f"task {envelope.causation_id} is out with agent {holder}, not {sender.agent_id}",
            )
        return None
    if row.capability not in sender.capabilities:
        return Refusal("wrong_agent", f"agent {sender.agent_id} does not serve {row.capability!r}")
    return None


async def handed_over(
    session: AsyncSession, row: Step, envelope: Envelope, sender: Identity
) -> bool:
    """Whether ``sender``, refused as not the holder of ``row``'s current task, took it over:
    the task is on its capability's shared stream, ``sender`` serves the capability, and the
    holder is gone (its lease ran out, or it left). The bus hands a delivery to another
    consumer of the group only once its consumer stopped renewing it (dead, or paused for the
    visibility timeout), or released it; while the holder's lease holds, a rival's answer is
    refused."""
    holder = row.agent_id
    if (
        not row.meta.get(SHARED_STREAM)
        or holder is None
        or sender is SERVER
        or holder == sender.agent_id
        or envelope.causation_id != row.task_id
        or row.capability not in sender.capabilities
    ):
        return False
    lease = (
        await session.execute(
            select(AgentRow.status, AgentRow.lease_expires_at).where(AgentRow.id == holder)
        )
    ).one_or_none()
    if lease is None:
        return True  # removed: it left, or its lease ran out while it was draining
    expires: datetime = lease.lease_expires_at
    return lease.status != "online" or expires < await database_now(session)


def supersede(row: Step) -> None:
    """Remember the task out with ``row`` and its holder before the task is sent again."""
    if row.task_id is not None:
        superseded = {**row.meta.get(SUPERSEDED, {}), row.task_id: row.agent_id}
        row.meta = {**row.meta, SUPERSEDED: superseded}


def remember(row: Step, envelope: Envelope) -> None:
    """Record on the step that ``envelope`` was accepted (a replay of it is refused for as
    long as the run is kept; a step has a few such ids per attempt)."""
    row.meta = {**row.meta, ACCEPTED: [*row.meta.get(ACCEPTED, ()), envelope.id]}


async def load_identity(session: AsyncSession, agent_id: str) -> Identity | None:
    """An agent's transport, key and capabilities, or None when it is not registered."""
    agent = (
        await session.execute(
            select(AgentRow.transport, AgentRow.public_key).where(AgentRow.id == agent_id)
        )
    ).one_or_none()
    if agent is None:
        return None
    names = (
        await session.execute(select(CapabilityRow.name).where(CapabilityRow.agent_id == agent_id))
    ).scalars()
    key = load_public_key(agent.public_key) if agent.public_key else None
    return Identity(agent_id, agent.transport, key, frozenset(names))
