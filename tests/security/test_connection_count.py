"""Open connections are bounded, in all and per client address (``MODX_HTTP_MAX_CONNECTIONS``,
``MODX_HTTP_MAX_CONNECTIONS_PER_ADDRESS``).

The request deadline bounds how long a connection is held, not how many: with a descriptor
limit of 1024 (many services start with it), one client holding 1100 connections, each with an
unfinished head, used every descriptor of ``modx serve``, and every other client was
disconnected unanswered until the deadline, when the attacker opened them again."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn
import websockets
from starlette.types import Receive, Scope, Send

from agents.sdk.http_protocol import client_key, http_protocol
from tests.fixtures.serve import healthy, serve
from tests.fixtures.services import free_port, wait_until
from tests.fixtures.stack import TOKEN
from tests.security.test_slow_requests import DEADLINE_S, MAX_HEAD, _closed, _slow_app

UNFINISHED = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
ATTACKER = "127.0.0.2"  # another loopback address: another client, as the server sees it


async def _hold(
    port: int, count: int, source: str = "127.0.0.1"
) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """``count`` connections from ``source``, each with an unfinished head."""
    held = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        writer.write(UNFINISHED)
        held.append((reader, writer))
    return held


async def _refused(reader: asyncio.StreamReader) -> bytes:
    """What a refused connection is answered, to its end (the server closes it)."""
    return await asyncio.wait_for(reader.read(), 10)


@contextlib.asynccontextmanager
async def _server(parser: str, total: int, per_address: int) -> AsyncIterator[int]:
    port = free_port()
    protocol = http_protocol(
        DEADLINE_S * 30,  # the connections must outlive the test's checks
        MAX_HEAD,
        parser,
        max_connections=total,
        max_connections_per_address=per_address,
    )
    config = uvicorn.Config(
        _slow_app, host="127.0.0.1", port=port, http=protocol, log_level="error"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await wait_until(lambda: server.started, timeout=30)
    try:
        yield port
    finally:
        server.should_exit = True
        await task


@pytest.mark.parametrize("parser", ["httptools", "h11"])
async def test_each_parser_bounds_open_connections(parser: str) -> None:
    async with _server(parser, total=6, per_address=4) as port:
        mine = await _hold(port, 4)
        # The address's fifth: refused at once, and the four are kept.
        ((reader, writer),) = await _hold(port, 1)
        answer = await _refused(reader)
        assert answer.startswith(b"HTTP/1.1 503"), answer
        assert b"MODX_HTTP_MAX_CONNECTIONS_PER_ADDRESS" in answer
        writer.close()
        assert not any([await _closed(r) for r, _ in mine])
        # Another address still connects, up to the total (6 open).
        theirs = await _hold(port, 2, ATTACKER)
        ((reader, writer),) = await _hold(port, 1, ATTACKER)
        answer = await _refused(reader)
        assert answer.startswith(b"HTTP/1.1 503") and b"MODX_HTTP_MAX_CONNECTIONS)" in answer
        writer.close()
        # Closing frees the places: refused ones were not counted, closed ones are released.
        for _, w in mine + theirs:
            w.close()
        await asyncio.sleep(0.2)
        again = await _hold(port, 4)
        reader, writer = again[0]
        writer.write(b"\r\n")  # the head's end: served
        assert (await reader.readuntil(b"late")).startswith(b"HTTP/1.1 200")
        for _, w in again:
            w.close()


@pytest.mark.redis
@pytest.mark.postgres
async def test_modx_serve_serves_other_clients_while_one_holds_its_connections(
    postgres_url: str, redis_url: str, tmp_path: Path, servers: list[subprocess.Popen[bytes]]
) -> None:
    port = free_port()
    urls = {"MODX_DATABASE_URL": postgres_url, "MODX_REDIS_URL": redis_url}
    process = serve(port, tmp_path, urls)
    servers.append(process)
    # Before it starts serving (Python's start-up alone takes longer than this call).
    resource.prlimit(process.pid, resource.RLIMIT_NOFILE, (1024, 1024))
    url = f"http://127.0.0.1:{port}"
    await healthy(url)
    held = await _hold(port, 1100, ATTACKER)
    answers = await asyncio.gather(*(_answer_now(r) for r, _ in held))
    refusals = [answer for answer in answers if answer is not None]
    # Another client: ready, and a run goes through (before: "Server disconnected").
    async with httpx.AsyncClient(
        base_url=url, headers={"authorization": f"Bearer {TOKEN}"}, timeout=30
    ) as client:
        assert (await client.get("/readyz")).status_code == 200
        sleep = {"name": "nap", "steps": [{"id": "s", "sleep": {"seconds": 0.1}}]}
        run = await client.post("/v1/runs", json={"workflow": sleep, "input": {}})
        assert run.status_code == 202, run.text
        done = await client.get(f"/v1/runs/{run.json()['run_id']}/wait", params={"timeout_s": 30})
        assert done.json()["status"] == "succeeded", done.text
    assert len(refusals) == 1100 - 512, len(refusals)  # the address's 512 are held
    assert all(a == b"" or a.startswith(b"HTTP/1.1 503") for a in refusals), refusals
    assert any(b"MODX_HTTP_MAX_CONNECTIONS_PER_ADDRESS" in a for a in refusals)
    for _, writer in held:
        writer.close()


async def _answer_now(reader: asyncio.StreamReader) -> bytes | None:
    """What the server answered a connection within 5 s before closing it (b"" when the close
    came as a reset, which drops what was answered); None while it holds it unanswered."""
    try:
        return await asyncio.wait_for(reader.read(), 5)
    except TimeoutError:
        return None
    except ConnectionError:
        return b""


@pytest.mark.parametrize("parser", ["httptools", "h11"])
async def test_a_websocket_gives_its_place_back(parser: str) -> None:
    """An upgraded connection is the WebSocket protocol's from then on: its HTTP place is given
    back at the upgrade, or each WebSocket would keep one for ever."""
    async with _server(parser, total=100, per_address=2) as port:
        for _ in range(3):
            async with websockets.connect(f"ws://127.0.0.1:{port}/"):
                pass
        await asyncio.sleep(0.2)
        held = await _hold(port, 2)
        assert not any([await _closed(r) for r, _ in held])  # both admitted
        for _, writer in held:
            writer.close()


def test_an_ipv6_client_is_its_64_and_a_mapped_address_its_ipv4() -> None:
    # One IPv6 host commonly holds a whole /64: per address, the bound held no one.
    assert client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff:ffff:ffff:fffe")
    assert client_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("fe80::1%eth0") == "fe80::/64"
    assert client_key("::ffff:127.0.0.2") == client_key("127.0.0.2") == "127.0.0.2"
    assert client_key("127.0.0.2") != client_key("127.0.0.3")
    assert client_key("/run/modx.sock") == "/run/modx.sock"


@pytest.mark.parametrize("parser", ["httptools", "h11"])
async def test_one_client_over_ipv4_and_ipv6_is_one_address(parser: str) -> None:
    """A server listening on IPv4 and on a dual-stack IPv6 socket sees one client as
    ``127.0.0.2`` on the first and ``::ffff:127.0.0.2`` on the second: twice its bound."""
    v4 = socket.create_server(("127.0.0.1", 0))
    v6 = socket.create_server(("::", 0), family=socket.AF_INET6, dualstack_ipv6=True)
    protocol = http_protocol(DEADLINE_S * 30, MAX_HEAD, parser, max_connections_per_address=4)
    config = uvicorn.Config(_slow_app, http=protocol, log_level="error")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[v4, v6]))
    await wait_until(lambda: server.started, timeout=30)
    try:
        held = await _hold(v4.getsockname()[1], 4, ATTACKER)
        port6 = v6.getsockname()[1]
        reader, writer = await asyncio.open_connection(
            "::ffff:127.0.0.1", port6, local_addr=(f"::ffff:{ATTACKER}", 0)
        )
        writer.write(UNFINISHED)
        answer = await _refused(reader)
        assert answer.startswith(b"HTTP/1.1 503"), answer
        writer.close()
        for _, w in held:
            w.close()
    finally:
        server.should_exit = True
        await task


async def _at_once(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        headers = [(b"content-length", b"4")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"done"})


@pytest.mark.parametrize("parser", ["httptools", "h11"])
async def test_connections_opened_and_closed_give_every_place_back(parser: str) -> None:
    """Admitted, refused (503), served and reset connections, 5 000 in all: none keeps a place."""
    protocol = http_protocol(DEADLINE_S * 30, MAX_HEAD, parser, max_connections_per_address=4)
    admission = protocol.admission  # type: ignore[attr-defined]
    port = free_port()
    config = uvicorn.Config(_at_once, host="127.0.0.1", port=port, http=protocol, log_level="error")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await wait_until(lambda: server.started, timeout=30)
    try:
        for round_ in range(1000):
            await wait_until(lambda: not admission.by_address, timeout=30)
            held = await _hold(port, 5)  # the fifth is refused
            reader, writer = held[0]
            if round_ % 2:
                writer.write(b"\r\n")  # served
                assert (await reader.readuntil(b"done")).startswith(b"HTTP/1.1 200")
            assert (await _refused(held[4][0])).startswith(b"HTTP/1.1 503")
            for _, w in held:
                if round_ % 3 == 0:
                    w.transport.abort()  # a reset
                else:
                    w.close()
        await wait_until(lambda: not admission.by_address, timeout=30)
        assert not server.server_state.connections
    finally:
        server.should_exit = True
        await task
