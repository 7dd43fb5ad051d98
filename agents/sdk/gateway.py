"""``GatewayTransport``: the bus, reached through the server's WebSocket gateway.

An agent that cannot reach the bus (behind NAT, or against an embedded server whose bus lives
in its process) connects to ``/v1/agents/{agent_id}/gateway`` with its agent token. The server
consumes the agent's task streams on its behalf and hands each task over the connection; the
agent answers with ``ack`` (its replies, published with the acknowledgement) or ``nack``. This
class speaks that protocol (docs/protocol.md, "Gateway") behind the ``Transport`` interface, so
``TaskRuntime`` serves tasks the same way on either path.

A lost connection is opened again with back-off and every subscription is renewed; the tasks
that were in flight on it are released by the server and redelivered (maybe to another agent).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from agents.sdk.errors import RequestRejected, ServerUnavailable
from bus.envelope import Envelope
from bus.errors import TransportClosedError, UnsupportedTransportError
from bus.transport import (
    Ack,
    ConsumerOptions,
    DeadLetter,
    Handler,
    Incarnation,
    Subscription,
    Transport,
)

logger = logging.getLogger("agents.sdk")

REFUSED = {4401: 401, 4403: 403, 4404: 404}
"""Close codes meaning the server refuses these credentials, and the HTTP status they stand for."""


def gateway_url(base_url: str, agent_id: str) -> str:
    """The gateway's WebSocket URL for ``agent_id`` on the MODX API at ``base_url``."""
    base = base_url.rstrip("/")
    if base.startswith("https://"):
        base = "wss://" + base.removeprefix("https://")
    elif base.startswith("http://"):
        base = "ws://" + base.removeprefix("http://")
    return f"{base}/v1/agents/{agent_id}/gateway"


class GatewaySubscription(Subscription):
    """One task stream consumed through the gateway; handlers run here, in the agent."""

    def __init__(
        self,
        gateway: GatewayTransport,
        sub: int,
        stream: str,
        group: str,
        handler: Handler,
        options: ConsumerOptions,
    ) -> None:
        self.gateway, self.sub, self.stream, self.group = gateway, sub, stream, group
        self.options = options
        self._handler = handler
        self._running: dict[int, asyncio.Task[None]] = {}
        self._paused = False
        self._stopped = False

    def subscribe_frame(self) -> dict[str, Any]:
        """The ``subscribe`` frame (sent again after a reconnection)."""
        return {
            "op": "subscribe",
            "sub": self.sub,
            "stream": self.stream,
            "group": self.group,
            "concurrency": self.options.concurrency,
            "batch_size": self.options.batch_size,
        }

    @property
    def paused(self) -> bool:
        """True between ``pause`` and ``resume``."""
        return self._paused

    @property
    def in_flight(self) -> int:
        """Handlers running now."""
        return len(self._running)

    def pause(self) -> None:
        """Ask the server to stop handing tasks of this stream; running ones continue."""
        if not self._paused:
            self._paused = True
            self.gateway.send_soon({"op": "pause", "sub": self.sub})

    def resume(self) -> None:
        """Receive tasks again."""
        if self._paused and not self._stopped:
            self._paused = False
            self.gateway.send_soon({"op": "resume", "sub": self.sub})

    async def stop(self, drain: bool = True) -> None:
        """Stop; with ``drain``, answer the running tasks first, else give them back at once."""
        if self._stopped:
            return
        self._stopped = True
        running = list(self._running.values())
        if drain:
            await asyncio.gather(*running, return_exceptions=True)
        else:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
        self.gateway.forget(self)
        # The server acknowledges what was answered and releases the rest for redelivery.
        with contextlib.suppress(ServerUnavailable, RequestRejected, TransportClosedError):
            await self.gateway.request({"op": "unsubscribe", "sub": self.sub, "drain": drain})

    def deliver(self, delivery: int, envelope: Envelope) -> None:
        """Run the handler on a task the server handed over."""
        task = asyncio.create_task(self._run(delivery, envelope, self.gateway.generation))
        self._running[delivery] = task
        task.add_done_callback(lambda _: self._running.pop(delivery, None))

    async def _run(self, delivery: int, envelope: Envelope, generation: int) -> None:
        verifier = self.options.verifier
        reason = verifier(envelope) if verifier is not None else None
        if reason is not None:
            await self._settle(generation, {"op": "nack", "delivery": delivery, "reason": reason})
            return
        try:
            replies = await self._handler(envelope)
        except asyncio.CancelledError:
            raise  # not answered: the server releases it when we unsubscribe
        except Exception as exc:
            logger.warning("handler failed on task %s: %r", envelope.id, exc, exc_info=True)
            await self._settle(
                generation, {"op": "nack", "delivery": delivery, "reason": repr(exc)}
            )
            return
        replies_json = [
            {"stream": stream, "envelope": reply.model_dump(mode="json", by_alias=True)}
            for stream, reply in replies or ()
        ]
        await self._settle(generation, {"op": "ack", "delivery": delivery, "replies": replies_json})

    async def _settle(self, generation: int, frame: dict[str, Any]) -> None:
        if generation != self.gateway.generation:
            # Delivered on a connection that has since closed: the server gave the task back
            # to the group, and this delivery number now means nothing (or another task).
            logger.info("delivery %s settled after its connection closed; dropped", frame)
            return
        try:
            await self.gateway.send(frame)
        except ServerUnavailable:
            logger.info("connection lost before delivery %s was settled", frame["delivery"])


class GatewayTransport(Transport):
    """Streams of one agent, through the MODX API's WebSocket gateway.

    Args:
        base_url: The MODX API URL (``MODX_URL``).
        credentials: Returns the agent's current ``(agent_id, token)``; read at every
            (re)connection, so a new registration is picked up.
        backoff: Seconds to wait after ``n`` failed connection attempts.
        open_timeout_s: How long one connection attempt may take.
    """

    def __init__(
        self,
        base_url: str,
        credentials: Callable[[], tuple[str, str]],
        backoff: Callable[[int], float] = lambda n: min(5.0, 0.2 * 2**n),
        open_timeout_s: float = 10.0,
    ) -> None:
        self._base_url = base_url
        self._credentials = credentials
        self._backoff = backoff
        self._open_timeout_s = open_timeout_s
        self._ws: ClientConnection | None = None
        self._connected = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self._subs: dict[int, GatewaySubscription] = {}
        self._waiting: dict[int, asyncio.Future[None]] = {}
        self._refs = itertools.count(1)
        self._sub_ids = itertools.count(1)
        self._background: set[asyncio.Task[None]] = set()
        self._closed = False
        self._opened_with: tuple[str, str] | None = None
        self.generation = 0
        """Counts connections opened; a delivery belongs to the one it came on."""

    @property
    def connected(self) -> bool:
        """True while a connection is open."""
        return self._connected.is_set()

    async def connect(self) -> None:
        """Open the connection once.

        Raises:
            RequestRejected: The server refused the agent's token (a 44xx close).
            ServerUnavailable: The server could not be reached.
        """
        agent_id, token = self._credentials()
        url = gateway_url(self._base_url, agent_id)
        try:
            ws = await connect(
                url,
                additional_headers={"Authorization": f"Bearer {token}"},
                open_timeout=self._open_timeout_s,
                max_size=None,
            )
        except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
            raise ServerUnavailable(f"gateway {url}: {exc!r}") from exc
        # The server checks the token after the handshake: a refusal is a close frame, so one
        # round trip tells whether the connection is usable.
        try:
            await ws.send(json.dumps({"op": "ping", "ref": 0}))
            await asyncio.wait_for(ws.recv(), self._open_timeout_s)
        except (ConnectionClosed, TimeoutError) as exc:
            await ws.close()
            code = ws.close_code
            if code in REFUSED:
                raise RequestRejected(
                    f"gateway refused agent {agent_id}: {ws.close_reason}", status=REFUSED[code]
                ) from exc
            raise ServerUnavailable(f"gateway {url}: {exc!r}") from exc
        self._ws = ws
        self._opened_with = (agent_id, token)
        self.generation += 1
        self._connected.set()
        self._reader = asyncio.create_task(self._read(ws), name="gateway-reader")
        for sub in list(self._subs.values()):
            await self.request(sub.subscribe_frame())
            if sub.paused:
                await self.send({"op": "pause", "sub": sub.sub})

    async def subscribe(
        self,
        stream: str,
        group: str,
        consumer: str,
        handler: Handler,
        options: ConsumerOptions | None = None,
    ) -> Subscription:
        """Ask the server for the tasks of ``stream``; returns once it serves them.

        Raises:
            RequestRejected: The server refuses (not a stream of this agent's capabilities).
        """
        sub = GatewaySubscription(
            self, next(self._sub_ids), stream, group, handler, options or ConsumerOptions()
        )
        await self.request(sub.subscribe_frame())
        self._subs[sub.sub] = sub
        return sub

    def forget(self, sub: GatewaySubscription) -> None:
        """Do not renew ``sub`` after a reconnection (it stopped)."""
        self._subs.pop(sub.sub, None)

    async def publish(self, stream: str, envelope: Envelope) -> str:
        """Publish an envelope about a task in flight (``task.started``); the server stamps it."""
        body = envelope.model_dump(mode="json", by_alias=True)
        await self.request({"op": "publish", "stream": stream, "envelope": body})
        return envelope.id

    async def publish_many(self, items: Sequence[tuple[str, Envelope]]) -> list[str]:
        """Publish each envelope in turn."""
        return [await self.publish(stream, envelope) for stream, envelope in items]

    async def request(self, frame: dict[str, Any]) -> None:
        """Send a frame that the server answers with ``ok`` or ``error``; wait for the answer.

        Raises:
            RequestRejected: The server answered ``error``.
            ServerUnavailable: The connection is not open or closed before the answer.
        """
        ref = next(self._refs)
        answer: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[ref] = answer
        try:
            await self.send({**frame, "ref": ref})
            await answer
        finally:
            self._waiting.pop(ref, None)

    async def send(self, frame: dict[str, Any]) -> None:
        """Send one frame.

        Raises:
            ServerUnavailable: No connection is open.
        """
        ws = self._ws
        if ws is None or not self._connected.is_set():
            raise ServerUnavailable("the gateway connection is not open")
        try:
            await ws.send(json.dumps(frame))
        except ConnectionClosed as exc:
            raise ServerUnavailable(f"gateway connection closed: {exc}") from exc

    def send_soon(self, frame: dict[str, Any]) -> None:
        """Send a frame without waiting (pause and resume, from synchronous code)."""

        async def send() -> None:
            with contextlib.suppress(ServerUnavailable):
                await self.send(frame)

        task = asyncio.create_task(send())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for text in ws:
                self._on_frame(json.loads(text))
        except ConnectionClosed:
            pass
        finally:
            self._connected.clear()
            lost = ServerUnavailable(f"gateway connection closed ({_close_reason(ws)})")
            for waiter in self._waiting.values():
                if not waiter.done():
                    waiter.set_exception(lost)
            if not self._closed:
                logger.warning("gateway connection lost (%s); connecting again", _close_reason(ws))
                refused = self._opened_with if ws.close_code in REFUSED else None
                task = asyncio.create_task(self._reconnect(refused))
                self._background.add(task)
                task.add_done_callback(self._background.discard)

    def _on_frame(self, frame: dict[str, Any]) -> None:
        op = frame.get("op")
        if op == "task":
            sub = self._subs.get(frame["sub"])
            if sub is not None:
                sub.deliver(frame["delivery"], Envelope.model_validate(frame["envelope"]))
        elif op in ("ok", "error") and frame.get("ref") in self._waiting:
            waiter = self._waiting[frame["ref"]]
            if waiter.done():
                return
            if op == "ok":
                waiter.set_result(None)
            else:
                waiter.set_exception(
                    RequestRejected(f"gateway: {frame.get('message')}", status=400, body=frame)
                )
        elif op == "error":
            logger.warning("gateway refused a frame: %s", frame.get("message"))

    async def _reconnect(self, refused: tuple[str, str] | None) -> None:
        """Open the connection again, with back-off. Credentials the server refused are not
        tried again: each try would be a failed token check, and enough of them lock every
        client of this address out (the server's throttle). They are read again after each
        back-off, and the connection is opened once they change (the runner registers again
        when the server forgets the agent)."""
        failures = 0
        while not self._closed:
            await asyncio.sleep(self._backoff(failures))
            if refused is not None and self._credentials() == refused:
                continue
            attempt = self._credentials()
            try:
                await self.connect()
                logger.info("gateway connection open again")
                return
            except (ServerUnavailable, RequestRejected) as exc:
                failures += 1
                if isinstance(exc, RequestRejected):
                    refused = attempt
                    logger.warning("gateway: %s; waiting for new credentials", exc)
                else:
                    logger.warning("gateway: connecting again failed (%s)", exc)
                await self._drop()

    async def reconnect(self) -> None:
        """Close the connection and open a new one with the current credentials."""
        await self._drop()
        await self.connect()

    async def _drop(self) -> None:
        ws, self._ws = self._ws, None
        self._connected.clear()
        reader, self._reader = self._reader, None
        closing, self._closed = self._closed, True  # no automatic reconnection meanwhile
        try:
            if ws is not None:
                await ws.close()
            if reader is not None:
                await reader
        finally:
            self._closed = closing

    async def ping(self) -> bool:
        """True while the connection is open."""
        return self.connected

    async def close(self) -> None:
        """Close the connection (subscriptions should have been stopped first)."""
        self._closed = True
        await self._drop()
        self._closed = True
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    # -- what an agent does not do through the gateway -----------------------------------------

    async def publish_unique(
        self,
        items: Sequence[tuple[str, Envelope]],
        within_s: float,
        *,
        notices: Sequence[tuple[str, str]] = (),
        acks: Sequence[Ack] = (),
    ) -> list[str | None]:
        """Not available to agents."""
        raise UnsupportedTransportError("publish_unique is not available through the gateway")

    async def published(self, items: Sequence[tuple[str, str]]) -> list[bool]:
        """Not offered: the orchestrator's redelivery reads Redis itself."""
        raise UnsupportedTransportError("publish markers are not available through the gateway")

    async def incarnation(self) -> Incarnation:
        """Not offered: the orchestrator's redelivery reads Redis itself."""
        raise UnsupportedTransportError("the incarnation is not available through the gateway")

    async def publish_raw(self, stream: str, data: bytes) -> str:
        """Not available to agents."""
        raise UnsupportedTransportError("publish_raw is not available through the gateway")

    async def dead_letters(self, stream: str, limit: int = 100) -> list[DeadLetter]:
        """Not available to agents."""
        raise UnsupportedTransportError("dead letters are not available through the gateway")

    async def replay_dead_letter(self, stream: str, dead_letter_id: str) -> str:
        """Not available to agents."""
        raise UnsupportedTransportError("dead letters are not available through the gateway")

    async def discard_dead_letter(self, stream: str, dead_letter_id: str) -> bool:
        """Not available to agents."""
        raise UnsupportedTransportError("dead letters are not available through the gateway")

    async def dlq_streams(self) -> dict[str, int]:
        """Not available to agents."""
        raise UnsupportedTransportError("dead letters are not available through the gateway")


def _close_reason(ws: ClientConnection) -> str:
    if ws.close_code is None:
        return "no close frame"
    return f"{ws.close_code} {ws.close_reason or ''}".strip()


__all__ = ["GatewaySubscription", "GatewayTransport", "gateway_url"]
