"""One agent's gateway connection: the bus subscriptions it holds and the tasks in flight on it.

The session consumes the task streams the agent asks for, as the agent, with the bus's own
rules: a task handed to the agent stays pending until its ``ack`` arrives, and is then
acknowledged together with the answer (one round trip, as for a bus agent). A ``nack`` leaves
it pending for redelivery. When the connection ends, every subscription stops without
draining: the tasks in flight on it are released at once and go to another consumer of the
group (another agent, or this one once it has reconnected). Each is first announced released
(``task.released``, as the agent's own answer): the agent can no longer answer it, and the
orchestrator then accepts another agent's answers to it while this one's lease still holds.

The agent may only consume its own capabilities' task streams and its inbox, and may only
publish to ``modx.results`` answers about tasks it holds; ``services.gateway.stamp`` sets
their sender.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from bus import streams
from bus.envelope import Envelope, Kind
from bus.transport import ConsumerOptions, Subscription, Transport
from bus.transport import Reply as BusReply
from services import metrics
from services.gateway.messages import FRAME, Ack, Flow, Nack, Publish, Subscribe, Unsubscribe
from services.gateway.refusals import LogBudget
from services.quota import Quota, QuotaExceeded

log = logging.getLogger(__name__)
refusals = LogBudget(log)

Send = Callable[[str], Awaitable[None]]
Stamp = Callable[[Envelope], Envelope]

_ANSWER_KINDS = (Kind.RESULT, Kind.ERROR, Kind.EVENT)
_connections = itertools.count(1)


class ProtocolError(ValueError):
    """A frame the gateway refuses; the message names the field or rule at fault."""


class AgentNack(RuntimeError):
    """The agent gave a task back without an answer (the entry stays pending)."""


@dataclass(frozen=True)
class _Served:
    """One subscription of the connection and the stream it serves."""

    stream: str
    group: str
    subscription: Subscription


@dataclass
class _InFlight:
    task: Envelope
    answer: asyncio.Future[list[BusReply]]
    sub: int


class GatewaySession:
    """The server side of one agent's gateway connection.

    Args:
        transport: The server's bus.
        agent_id: The agent the connection's token belongs to.
        capabilities: The capabilities the agent registered (the streams it may consume).
        send: Sends one text frame to the agent.
        stamp: Turns an agent's envelope into the one the server publishes for it.
        options: Delivery settings (visibility timeout, max deliveries) of the subscriptions.
        admit: Asked before each task goes out: False (the agent's token no longer holds: it
            was removed) sends nothing, closes the session and calls ``refused``.
        refused: Ends the connection after ``admit`` said no.
        quota: Gateway subscriptions each tenant holds on this API process (every
            subscription is a consumer of the server's: two Redis connections when distributed).
        tenant: The agent's tenant, the quota's key.
    """

    def __init__(
        self,
        transport: Transport,
        agent_id: str,
        capabilities: Collection[str],
        send: Send,
        stamp: Stamp,
        options: ConsumerOptions,
        admit: Callable[[], Awaitable[bool]] | None = None,
        refused: Callable[[], Awaitable[None]] | None = None,
        quota: Quota | None = None,
        tenant: str = "",
    ) -> None:
        self.agent_id = agent_id
        self._quota = quota
        self._tenant = tenant
        self._admit = admit
        self._refused = refused
        self._transport = transport
        self._capabilities = frozenset(capabilities)
        self._send = send
        self._stamp = stamp
        self._options = options
        # Unique per connection: a reconnecting agent's old consumer may not have left yet.
        self._consumer = f"{agent_id}.gw{next(_connections)}"
        self._subs: dict[int, _Served] = {}
        self._in_flight: dict[int, _InFlight] = {}
        self._by_task: dict[str, int] = {}
        self._deliveries = itertools.count(1)
        self._closed = False

    @property
    def in_flight(self) -> int:
        """Tasks handed to the agent and not yet answered."""
        return len(self._in_flight)

    async def handle(self, text: str) -> None:
        """Process one frame from the agent; a refused frame is answered with ``error``."""
        ref: Any = None
        try:
            raw = json.loads(text)
            ref = raw.get("ref") if isinstance(raw, dict) else None
            frame = FRAME.validate_python(raw)
        except (ValueError, ValidationError) as exc:
            await self._error(ref, None, "invalid_frame", _describe(exc))
            return
        try:
            if isinstance(frame, Subscribe):
                await self._subscribe(frame)
            elif isinstance(frame, Unsubscribe):
                await self._unsubscribe(frame)
            elif isinstance(frame, Flow):
                self._flow(frame)
                return
            elif isinstance(frame, Ack):
                self._ack(frame)
                return
            elif isinstance(frame, Nack):
                self._nack(frame)
                return
            elif isinstance(frame, Publish):
                await self._publish(frame)
        except ProtocolError as exc:
            await self._error(ref, getattr(frame, "delivery", None), "refused", str(exc))
            return
        await self._send(json.dumps({"op": "ok", "ref": frame.ref}))

    async def close(self) -> None:
        """The connection ended: stop every subscription, releasing its tasks for redelivery."""
        self._closed = True
        await self._announce_released(
            self._in_flight.values(), "its agent's gateway connection ended"
        )
        subs, self._subs = list(self._subs.values()), {}
        self._release(len(subs))
        await asyncio.gather(
            *(s.subscription.stop(drain=False) for s in subs), return_exceptions=True
        )
        for flight in self._in_flight.values():
            if not flight.answer.done():
                flight.answer.cancel()

    async def _announce_released(self, flights: Collection[_InFlight], reason: str) -> None:
        """Publish ``task.released`` for each of ``flights``, before the bus hands it on."""
        notices = []
        for flight in flights:
            task = flight.task
            released = Envelope(
                kind=Kind.EVENT,
                topic=streams.TASK_RELEASED,
                sender=self.agent_id,
                run_id=task.run_id,
                step_id=task.step_id,
                attempt=task.attempt,
                correlation_id=task.correlation_id,
                causation_id=task.id,
                payload={"reason": reason},
            )
            notices.append((streams.reply_stream(task.reply_to), self._stamp(released)))
        if not notices:
            return
        try:
            await self._transport.publish_many(notices)
        except Exception:
            # The tasks are released all the same: a taker's answers are then refused until
            # this agent's lease runs out, and the step waits for its timeout.
            log.warning(
                "gateway: could not announce %d released tasks", len(notices), exc_info=True
            )

    # -- frames ------------------------------------------------------------------------------

    async def _subscribe(self, frame: Subscribe) -> None:
        if frame.sub in self._subs:
            raise ProtocolError(f"sub {frame.sub} is already in use on this connection")
        self._check_stream(frame.stream, frame.group)
        if any((s.stream, s.group) == (frame.stream, frame.group) for s in self._subs.values()):
            # Each subscription holds two Redis connections of the server's: one per stream
            # is all an agent needs, and more would let one token open them without end.
            raise ProtocolError(
                f"stream: {frame.stream!r} is already subscribed on this connection"
            )
        options = ConsumerOptions(
            visibility_timeout_s=self._options.visibility_timeout_s,
            max_deliveries=self._options.max_deliveries,
            verifier=self._options.verifier,
            concurrency=frame.concurrency,
            batch_size=min(frame.batch_size, frame.concurrency),
        )
        sub_id = frame.sub

        async def forward(task: Envelope) -> Sequence[BusReply] | None:
            return await self._forward(sub_id, task)

        self._take()
        try:
            subscription = await self._transport.subscribe(
                frame.stream, frame.group, self._consumer, forward, options
            )
        except BaseException:
            self._release(1)
            raise
        self._subs[sub_id] = _Served(frame.stream, frame.group, subscription)

    def _take(self) -> None:
        """Count one more subscription of the tenant's; refused at the tenant's quota."""
        if self._quota is None:
            return
        try:
            self._quota.take(self._tenant)
        except QuotaExceeded as exc:
            raise ProtocolError(
                f"stream: tenant {self._tenant!r} holds {exc.limit} gateway subscriptions on "
                f"this API process already ({exc.setting})"
            ) from exc

    def _release(self, count: int) -> None:
        if self._quota is not None and count:
            self._quota.give(self._tenant, count)

    async def _unsubscribe(self, frame: Unsubscribe) -> None:
        served = self._subs.pop(frame.sub, None)
        if served is None:
            raise ProtocolError(f"sub {frame.sub} is not a subscription of this connection")
        self._release(1)
        if not frame.drain:
            given_back = [f for f in self._in_flight.values() if f.sub == frame.sub]
            await self._announce_released(given_back, "its agent gave it back unanswered")
        await served.subscription.stop(drain=frame.drain)

    def _flow(self, frame: Flow) -> None:
        served = self._subs.get(frame.sub)
        if served is not None:
            sub = served.subscription
            sub.pause() if frame.op == "pause" else sub.resume()

    def _ack(self, frame: Ack) -> None:
        flight = self._in_flight.get(frame.delivery)
        if flight is None or flight.answer.done():
            return  # released already (e.g. answered after a reconnect): nothing to settle
        try:
            replies = [self._answer(r.stream, r.envelope, flight.task) for r in frame.replies]
        except ProtocolError as exc:
            flight.answer.set_exception(AgentNack(f"refused answer: {exc}"))
            raise
        flight.answer.set_result(replies)

    def _nack(self, frame: Nack) -> None:
        flight = self._in_flight.get(frame.delivery)
        if flight is not None and not flight.answer.done():
            flight.answer.set_exception(AgentNack(frame.reason or "the agent gave the task back"))

    async def _publish(self, frame: Publish) -> None:
        envelope = _envelope(frame.envelope)
        delivery = self._by_task.get(envelope.causation_id or "")
        if delivery is None:
            raise ProtocolError("envelope.causation_id: not a task in flight on this connection")
        stream, stamped = self._answer(frame.stream, frame.envelope, self._in_flight[delivery].task)
        await self._transport.publish(stream, stamped)

    # -- delivery ----------------------------------------------------------------------------

    async def _forward(self, sub_id: int, task: Envelope) -> Sequence[BusReply] | None:
        """The bus handler: hand ``task`` to the agent and wait for its answer."""
        if self._closed:
            raise ConnectionError("gateway connection closed")
        if self._admit is not None and not await self._admit():
            # Not one more task to an agent that was removed while connected.
            self._closed = True
            if self._refused is not None:
                await self._refused()
            raise ConnectionError("gateway connection closed: the agent's token no longer holds")
        delivery = next(self._deliveries)
        metrics.GATEWAY_TASKS.inc()
        flight = _InFlight(task, asyncio.get_running_loop().create_future(), sub_id)
        self._in_flight[delivery] = flight
        self._by_task[task.id] = delivery
        try:
            frame = f'{{"op":"task","sub":{sub_id},"delivery":{delivery},"envelope":'
            await self._send(frame + task.to_json().decode() + "}")
            return await flight.answer
        finally:
            del self._in_flight[delivery]
            if self._by_task.get(task.id) == delivery:
                del self._by_task[task.id]

    def _answer(self, stream: str, data: dict[str, Any], task: Envelope) -> BusReply:
        """Check an agent's answer to ``task`` and stamp it, for the task's reply stream;
        raises ``ProtocolError``.

        The agent names ``modx.results`` or the task's ``reply_to``; either way the answer goes
        where the signed task says (an agent that predates ``reply_to`` is routed too).
        """
        reply_to = streams.reply_stream(task.reply_to)
        if stream not in (streams.RESULTS, reply_to):
            raise ProtocolError(f"stream: answers go to {reply_to}, not {stream!r}")
        envelope = _envelope(data)
        if envelope.kind not in _ANSWER_KINDS:
            raise ProtocolError(f"envelope.kind: {envelope.kind.value!r} is not an answer")
        if envelope.causation_id != task.id:
            raise ProtocolError("envelope.causation_id: must be the id of the task it answers")
        for name in ("run_id", "step_id", "attempt"):
            if getattr(envelope, name) != getattr(task, name):
                raise ProtocolError(f"envelope.{name}: does not match the task's")
        return reply_to, self._stamp(envelope)

    def _check_stream(self, stream: str, group: str) -> None:
        own = (streams.inbox(self.agent_id), streams.control(self.agent_id))
        if stream in own and group == self.agent_id:
            return
        for capability in self._capabilities:
            if stream == streams.tasks(capability) and group == capability:
                return
        raise ProtocolError(
            f"stream: {stream!r} (group {group!r}) is neither a task stream of this agent's "
            f"capabilities ({', '.join(sorted(self._capabilities))}) nor its inbox or control "
            "stream"
        )

    async def _error(self, ref: Any, delivery: int | None, code: str, message: str) -> None:
        frame: dict[str, Any] = {"op": "error", "code": code, "message": message}
        if isinstance(ref, int):
            frame["ref"] = ref
        if delivery is not None:
            frame["delivery"] = delivery
        refusals.warning("gateway %s: %s: %s", self.agent_id, code, message)
        await self._send(json.dumps(frame))


def _envelope(data: dict[str, Any]) -> Envelope:
    try:
        return Envelope.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError(f"envelope: {_describe(exc)}") from exc


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "(root)"
        return f"{where}: {first['msg']}"
    return str(exc)
