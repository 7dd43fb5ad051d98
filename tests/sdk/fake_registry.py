"""A fake MODX registry answering per docs/protocol.md, served by uvicorn on a free port."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from bus.signing import load_public_key, registration_bytes, verify_bytes

CLIENT_TOKEN = "client-token-0123456789"


@dataclass
class Call:
    method: str
    path: str
    token: str | None
    body: Any


@dataclass
class FakeRegistry:
    """Records every call; knobs make it refuse, fail or forget agents."""

    heartbeat_interval_s: float = 0.05
    bus_url: str = "memory://"
    fail_registrations: int = 0  # answer 503 to this many registrations first
    refuse_registrations: int = 0  # then 401 to this many (as to a name another key holds)
    calls: list[Call] = field(default_factory=list)
    agents: dict[str, str] = field(default_factory=dict)  # agent_id -> token
    on_deregister: Callable[[str], Awaitable[None]] | None = None
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def of(self, method: str, suffix: str = "") -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path.endswith(suffix)]

    def forget(self, agent_id: str) -> None:
        """Drop an agent, as a server that lost its state would."""
        self.agents.pop(agent_id, None)

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        async with asyncio.timeout(10), self.changed:
            await self.changed.wait_for(predicate)

    def app(self) -> FastAPI:
        app = FastAPI()

        async def record(request: Request) -> Call:
            raw = await request.body()
            auth = request.headers.get("authorization", "")
            call = Call(
                request.method,
                request.url.path,
                auth.removeprefix("Bearer ") or None,
                await request.json() if raw else None,
            )
            async with self.changed:
                self.calls.append(call)
                self.changed.notify_all()
            return call

        def error(status: int, code: str) -> JSONResponse:
            body = {"error": {"code": code, "message": code.replace("_", " "), "details": {}}}
            return JSONResponse(body, status_code=status)

        @app.post("/v1/agents")
        async def register(request: Request) -> Response:
            call = await record(request)
            if call.token != CLIENT_TOKEN:
                return error(401, "unauthorized")
            if self.fail_registrations > 0:
                self.fail_registrations -= 1
                return error(503, "unavailable")
            if self.refuse_registrations > 0:
                self.refuse_registrations -= 1
                return error(401, "unauthorized")
            agent_id, token = str(uuid.uuid4()), uuid.uuid4().hex
            self.agents[agent_id] = token
            body = {
                "agent_id": agent_id,
                "token": token,
                "heartbeat_interval_s": self.heartbeat_interval_s,
                "lease_s": self.heartbeat_interval_s * 3,
                "bus_url": self.bus_url,
            }
            return JSONResponse(body, status_code=201)

        @app.post("/v1/agents/{agent_id}/heartbeat")
        async def heartbeat(agent_id: str, request: Request) -> Response:
            call = await record(request)
            if agent_id not in self.agents:
                return error(404, "agent_unknown")
            if call.token != self.agents[agent_id]:
                return error(403, "forbidden")
            return JSONResponse({"status": "online", "lease_expires_at": "2030-01-01T00:00:00Z"})

        @app.delete("/v1/agents/{agent_id}")
        async def deregister(agent_id: str, request: Request) -> Response:
            call = await record(request)
            if self.agents.get(agent_id) != call.token:
                return error(404, "agent_unknown")
            if self.on_deregister is not None:
                await self.on_deregister(agent_id)
            return Response(status_code=202)

        @app.post("/v1/tasks/{task_id}/result")
        async def task_result(task_id: str, request: Request) -> Response:
            call = await record(request)
            if call.token not in self.agents.values():
                return error(401, "unauthorized")
            if task_id == "unknown":
                return error(404, "task_unknown")
            return JSONResponse({"accepted": True, "task_id": task_id})

        return app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the test process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serve(app: FastAPI, port: int) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1:``port`` in this event loop; yields its base URL."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_config=None,
        timeout_graceful_shutdown=2,  # a test that failed may leave an agent connected
    )
    server = QuietServer(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(10):
        while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
            await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def background(coro: Coroutine[Any, Any, None]) -> AsyncIterator[asyncio.Task[None]]:
    """Run ``coro`` as a task; cancel it on exit if the test did not see it finish."""
    task = asyncio.create_task(coro)
    try:
        yield task
    finally:
        if not task.done():
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def proven(card: dict[str, Any]) -> dict[str, Any]:
    """``card`` without its proof, once the proof is checked: signed by the card's key over
    its name, key and time (as the registry checks it)."""
    proof = card["proof"]
    signed = registration_bytes(card["name"], card["public_key"], proof["signed_at"])
    assert verify_bytes(signed, proof["signature"], load_public_key(card["public_key"]))
    return {k: v for k, v in card.items() if k != "proof"}
