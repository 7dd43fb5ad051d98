"""MCP cancellation for MODX's MCP server: a ``notifications/cancelled`` naming an in-flight
``tools/call`` cancels the run that call started.

The server is stateless (each POST its own SDK session), so the SDK, which looks for the
request among its session's own requests, never finds it. Here the process keeps its
in-flight calls by caller and JSON-RPC request id instead. Request ids are only unique within
a client's session and a stateless server sees no session, so a cancel acts only when exactly
one in-flight call of that caller has the id; an unknown, finished or ambiguous one is ignored,
as the specification asks of a cancel the receiver cannot match.

With several replicas (a Redis bus) the cancel may land on another replica than the call's:
``SharedCalls`` lists every replica's in-flight calls in Redis, so the replica the cancel
reaches counts them all, and tells the call's replica over the run notices' connection
(``services.orchestrator.watch.RunNotices.listen``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import mcp.types as types
from pydantic import ValidationError

from bus.redis_client import RedisClient
from bus.tasks import cancel_and_wait
from services.auth import Principal
from services.orchestrator.watch import RunNotices
from services.runtime import Runtime

log = logging.getLogger(__name__)

_Key = tuple[Principal, types.RequestId]


@dataclass
class Call:
    """One ``tools/call`` being answered: its run once started, and a cancel that came first."""

    run_id: str | None = None
    cancelled: str | None = None  # the reason of a cancel that came before the run existed
    id: str = field(default_factory=lambda: uuid.uuid4().hex)  # among every replica's calls

    async def started(self, runtime: Runtime, run_id: str) -> None:
        """The call started ``run_id``: cancel it at once if the client already asked."""
        self.run_id = run_id  # no await before the check: no cancel slips between
        if self.cancelled is not None:
            await runtime.orchestrator.cancel_run(run_id, self.cancelled)

    async def cancel(self, runtime: Runtime, reason: str) -> None:
        """Cancel the call's run, or have :meth:`started` cancel it."""
        if self.run_id is None:
            self.cancelled = reason
        else:
            await runtime.orchestrator.cancel_run(self.run_id, reason)


class InFlight:
    """The ``tools/call`` requests this process is answering, by caller and request id (and,
    with ``shared``, every replica's)."""

    def __init__(self) -> None:
        self._calls: dict[_Key, list[Call]] = {}
        self._by_id: dict[str, Call] = {}
        self.shared: SharedCalls | None = None

    @asynccontextmanager
    async def calling(
        self, principal: Principal, request_id: types.RequestId
    ) -> AsyncIterator[Call]:
        """While the caller's call ``request_id`` is answered."""
        key, call = (principal, request_id), Call()
        self._calls.setdefault(key, []).append(call)
        self._by_id[call.id] = call
        shared = self.shared
        try:
            if shared is not None:
                await shared.add(principal, request_id, call)
            yield call
        finally:
            left = self._calls[key]
            left.remove(call)
            if not left:
                del self._calls[key]
            del self._by_id[call.id]
            if shared is not None:
                await shared.remove(principal, request_id, call)

    def by_id(self, call_id: str) -> Call | None:
        return self._by_id.get(call_id)

    def all(self) -> list[tuple[Principal, types.RequestId, Call]]:
        return [(p, r, c) for (p, r), found in self._calls.items() for c in found]

    async def cancel(
        self, runtime: Runtime, principal: Principal, request_id: types.RequestId, reason: str
    ) -> None:
        """Cancel the caller's call ``request_id`` if exactly one is in flight: in this process
        or, with ``shared``, on any replica."""
        if self.shared is not None:
            try:
                await self.shared.cancel(principal, request_id, reason)
                return
            except Exception as exc:  # Redis unreachable: this process's calls at least
                log.warning("MCP cancel across replicas failed (%s); this replica's only", exc)
        call = self.find(principal, request_id)
        if call is not None:
            await call.cancel(runtime, reason)

    def find(self, principal: Principal, request_id: types.RequestId) -> Call | None:
        """The caller's call with this id, if exactly one is in flight."""
        found = self._calls.get((principal, request_id), [])
        if len(found) > 1:
            log.info(
                "MCP cancel of request %r ignored: %d calls have that id", request_id, len(found)
            )
        return found[0] if len(found) == 1 else None


CHANNEL = "modx:mcp:cancel"
"""Where a replica tells another to cancel one of its calls: ``{"call": id, "reason": …}``."""


class SharedCalls:
    """Every replica's in-flight calls in Redis, one sorted set per caller and request id
    whose members are the calls' ids, scored by when they lapse: a replica that dies leaves
    calls that lapse within ``lease_s`` (each replica renews its own every third of it), so
    they neither block a cancel nor make one ambiguous for longer."""

    def __init__(
        self,
        runtime: Runtime,
        client: RedisClient,
        notices: RunNotices,
        in_flight: InFlight,
        lease_s: float = 60.0,
    ) -> None:
        self.runtime = runtime
        self.client = client
        self.notices = notices
        self.in_flight = in_flight
        self.lease_s = lease_s
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self) -> None:
        self.in_flight.shared = self
        self.notices.listen(CHANNEL, self._told)
        self._spawn(self._renew_loop())

    async def stop(self) -> None:
        if self.in_flight.shared is self:
            self.in_flight.shared = None
        self.notices.unlisten(CHANNEL)
        await cancel_and_wait(self._tasks)

    @staticmethod
    def key(principal: Principal, request_id: types.RequestId) -> str:
        # json: the ids 1 and "1" are different requests
        who = json.dumps(
            [
                principal.tenant,
                principal.role,
                principal.name,
                principal.agent_id,
                principal.token_id,
                principal.system,
            ]
        )
        digest = hashlib.sha256(who.encode()).hexdigest()[:32]
        return f"modx:mcp:calls:{digest}:{json.dumps(request_id)}"

    async def add(self, principal: Principal, request_id: types.RequestId, call: Call) -> None:
        key, now = self.key(principal, request_id), time.time()
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.zremrangebyscore(key, "-inf", now)  # the lapsed calls of dead replicas
                pipe.zadd(key, {call.id: now + self.lease_s})
                pipe.expire(key, int(self.lease_s * 2))
                await pipe.execute()
        except Exception as exc:  # the call goes on; a cancel on another replica misses it
            log.warning(
                "could not list MCP call %r for cancels across replicas: %s", request_id, exc
            )

    async def remove(self, principal: Principal, request_id: types.RequestId, call: Call) -> None:
        try:
            await self.client.zrem(self.key(principal, request_id), call.id)
        except Exception as exc:  # it lapses within lease_s
            log.warning("could not unlist MCP call %r: %s", request_id, exc)

    async def cancel(self, principal: Principal, request_id: types.RequestId, reason: str) -> None:
        """Cancel the caller's one live call ``request_id``, on whichever replica it is."""
        live = await self.client.zrangebyscore(self.key(principal, request_id), time.time(), "+inf")
        if len(live) != 1:
            if live:
                log.info(
                    "MCP cancel of request %r ignored: %d calls have that id", request_id, len(live)
                )
            return
        call_id = live[0].decode() if isinstance(live[0], bytes) else str(live[0])
        call = self.in_flight.by_id(call_id)
        if call is not None:
            await call.cancel(self.runtime, reason)
        else:
            await self.client.publish(CHANNEL, json.dumps({"call": call_id, "reason": reason}))

    def _told(self, message: str) -> None:
        """Another replica's cancel of a call (ours if we have it)."""
        try:
            body = json.loads(message)
            call, reason = self.in_flight.by_id(body["call"]), str(body["reason"])
        except (ValueError, TypeError, KeyError):
            log.warning("ignored a malformed MCP cancel notice")
            return
        if call is not None:
            self._spawn(self._cancel(call, reason))

    async def _cancel(self, call: Call, reason: str) -> None:
        try:
            await call.cancel(self.runtime, reason)
        except Exception:  # the client may cancel again, or POST /v1/runs/{id}/cancel
            log.exception("could not cancel the run of an MCP call")

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work, name="mcp-cancels")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(self.lease_s / 3)
            calls = self.in_flight.all()
            if not calls:
                continue
            until = time.time() + self.lease_s
            try:
                async with self.client.pipeline(transaction=False) as pipe:
                    for principal, request_id, call in calls:
                        key = self.key(principal, request_id)
                        pipe.zadd(key, {call.id: until}, xx=True)
                        pipe.expire(key, int(self.lease_s * 2))
                    await pipe.execute()
            except Exception as exc:  # the next round tries again
                log.warning("could not renew this replica's MCP calls: %s", exc)


def cancellation(parsed: Any) -> types.CancelledNotificationParams | None:
    """The parameters of a well-formed ``notifications/cancelled`` (a body as parsed), else
    None (anything else, a malformed cancel included, is the SDK's to answer)."""
    if (
        not isinstance(parsed, dict)
        or parsed.get("method") != "notifications/cancelled"
        or "id" in parsed  # a request, not a notification
    ):
        return None
    try:
        types.JSONRPCNotification.model_validate(parsed)
        return types.CancelledNotification.model_validate(parsed).params
    except ValidationError:
        return None
