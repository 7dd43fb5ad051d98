"""A request must arrive whole within ``MODX_HTTP_REQUEST_READ_TIMEOUT_S`` (slowloris).

uvicorn closes a connection idle between requests, never one still sending its request: a
connection that sent nothing, a head sent a byte at a time, or a body shorter than its
``Content-Length``, was held open for ever (seen for 40 s and counting, before any token was
checked). Each costs the server a file descriptor; enough of them and no one else connects.
Answers that take long (waits, streams) and WebSockets must not be cut by the deadline."""

from __future__ import annotations

import asyncio
import functools
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
import websockets
from starlette.types import Receive, Scope, Send

from agents.sdk.http_protocol import http_protocol
from services.embedded import embedded_service
from tests.fixtures.serve import healthy, serve
from tests.fixtures.services import free_port, wait_until

DEADLINE_S = 1.0
MAX_HEAD = 4096

# What a slow client holds a connection with: nothing, part of a head, part of a body; and a
# second request started on a kept-alive connection after a first one answered.
SLOW = {
    "nothing": b"",
    "head": b"GET /healthz HTTP/1.1\r\nHost: x\r\n",
    "body": b'POST /v1/runs HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"work',
    "next request": b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\n",
}


async def _closed(reader: asyncio.StreamReader) -> bool:
    """True once the server closed the connection (whatever it answered before)."""
    try:
        while await asyncio.wait_for(reader.read(65536), 0.05):
            pass
    except TimeoutError:
        return False
    except ConnectionError:
        return True
    return True


async def _slow_clients_are_closed(port: int) -> None:
    opened = []
    for sent in SLOW.values():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(sent)
        await writer.drain()
        opened.append((reader, writer))
    # Without the deadline, none of them was closed (the first wait failed after 60 s).
    for reader, writer in opened:
        await wait_until(functools.partial(_closed, reader), timeout=60)
        writer.close()


@pytest.mark.redis
@pytest.mark.postgres
async def test_modx_serve_closes_slow_requests(
    postgres_migrated_url: str,
    redis_url: str,
    tmp_path: Path,
    servers: list[subprocess.Popen[bytes]],
) -> None:
    port = free_port()
    urls = {"MODX_DATABASE_URL": postgres_migrated_url, "MODX_REDIS_URL": redis_url}
    servers.append(serve(port, tmp_path, urls, MODX_HTTP_REQUEST_READ_TIMEOUT_S=str(DEADLINE_S)))
    await healthy(f"http://127.0.0.1:{port}")
    await _slow_clients_are_closed(port)


async def test_modx_up_closes_slow_requests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODX_HTTP_REQUEST_READ_TIMEOUT_S", str(DEADLINE_S))
    port = free_port()
    async with embedded_service(tmp_path / ".modx", port=port, agents=[]):
        await _slow_clients_are_closed(port)


async def _slow_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answers after 3 deadlines; a WebSocket echoes once, 3 deadlines after it opened."""
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        message = await receive()
        await asyncio.sleep(3 * DEADLINE_S)
        await send({"type": "websocket.send", "text": message["text"]})
        return
    if scope["type"] != "http":
        return
    await asyncio.sleep(3 * DEADLINE_S)
    headers = [(b"content-length", b"4")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"late"})


@pytest.fixture(params=["httptools", "h11"])
async def slow_server(request: pytest.FixtureRequest) -> AsyncIterator[int]:
    """uvicorn with each parser the deadline supports, serving ``_slow_app``."""
    port = free_port()
    protocol = http_protocol(DEADLINE_S, MAX_HEAD, request.param)
    config = uvicorn.Config(
        _slow_app, host="127.0.0.1", port=port, http=protocol, log_level="error"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await wait_until(lambda: server.started, timeout=30)
    yield port
    server.should_exit = True
    await task


async def test_each_parser_closes_slow_requests(slow_server: int) -> None:
    await _slow_clients_are_closed(slow_server)


async def test_each_parser_refuses_a_head_over_the_bound(slow_server: int) -> None:
    """A head one byte over the bound, whole in one write or unfinished in pieces; one at the
    bound (and a body of 20 times its size) still passes."""
    line = b"GET / HTTP/1.1\r\nHost: x\r\n"
    padding = MAX_HEAD - len(line) - len(b"X-Pad: \r\n\r\n")
    at_bound = line + b"X-Pad: " + b"a" * padding + b"\r\n\r\n"
    assert len(at_bound) == MAX_HEAD
    reader, writer = await asyncio.open_connection("127.0.0.1", slow_server)
    writer.write(at_bound)
    assert (await reader.readuntil(b"late")).startswith(b"HTTP/1.1 200")
    body = b"x" * 20 * MAX_HEAD
    writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    assert (await reader.readuntil(b"late")).startswith(b"HTTP/1.1 200")
    writer.close()
    over = at_bound.replace(b"X-Pad: ", b"X-Pad: a")
    reader, writer = await asyncio.open_connection("127.0.0.1", slow_server)
    writer.write(over)
    answer = await reader.read()  # to the end: the connection is closed
    assert answer.startswith(b"HTTP/1.1 431"), answer  # before: 200 with httptools
    assert b"MODX_HTTP_MAX_HEAD_BYTES" in answer
    # The same head, unfinished, in pieces of 100 bytes: refused once their sum passes.
    reader, writer = await asyncio.open_connection("127.0.0.1", slow_server)
    unfinished = over[: MAX_HEAD + 1]
    for start in range(0, len(unfinished), 100):
        writer.write(unfinished[start : start + 100])
        await writer.drain()
    answer = await reader.read()
    assert answer.startswith(b"HTTP/1.1 431"), answer  # before: closed at the deadline, b""
    writer.close()


async def test_long_answers_and_websockets_outlive_the_deadline(slow_server: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", slow_server)
    request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    writer.write(request)
    assert (await reader.readuntil(b"late")).startswith(b"HTTP/1.1 200")
    await asyncio.sleep(3 * DEADLINE_S)  # idle between requests: the keep-alive's, not ours
    writer.write(request)
    assert (await reader.readuntil(b"late")).startswith(b"HTTP/1.1 200")
    writer.close()
    async with websockets.connect(f"ws://127.0.0.1:{slow_server}/") as ws:
        await ws.send("still here")
        assert await ws.recv() == "still here"
