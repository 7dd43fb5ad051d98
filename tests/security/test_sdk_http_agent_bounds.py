"""An SDK HTTP agent reads requests under the same bounds as the API: a deadline, a head size,
and a number of connections per client address.

``run_http`` served with plain uvicorn: a connection that sent nothing, or a head or a body a
byte at a time, was held for as long as the client liked (slowloris), and httptools read a
request head of any size (200 MB, 1 MB a header). The agent's endpoint must be reachable by the
orchestrator, so whoever else reaches it could do the same, before any signature was checked."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from agents.sdk import Agent, AgentSettings
from tests.fixtures.services import free_port
from tests.fixtures.stack import TOKEN, Stack
from tests.security.test_slow_requests import DEADLINE_S, MAX_HEAD, _slow_clients_are_closed

HEAD_MB = 200
PER_ADDRESS = 4  # the slow clients test opens 4: all admitted


@contextlib.asynccontextmanager
async def _http_agent(stack: Stack) -> AsyncIterator[int]:
    """An SDK HTTP agent registered with ``stack``, with the bounds lowered; yields its port."""
    agent = Agent("bounded-http")

    @agent.capability("test.echo")
    async def echo(request: dict[str, Any]) -> dict[str, Any]:
        return request

    port = free_port()
    stop = asyncio.Event()
    settings = AgentSettings(
        url=stack.url,
        api_token=TOKEN,
        http_request_read_timeout_s=DEADLINE_S,
        http_max_head_bytes=MAX_HEAD,
        http_max_connections_per_address=PER_ADDRESS,
    )
    serving = asyncio.create_task(
        agent.run_http("127.0.0.1", port, settings=settings, stop=stop, handle_signals=False)
    )
    try:
        await stack.wait_agent("bounded-http")
        yield port
    finally:
        stop.set()
        await serving


async def test_an_sdk_http_agent_closes_slow_requests(stack: Stack) -> None:
    async with _http_agent(stack) as port:
        await _slow_clients_are_closed(port)  # before: none closed within 60 s


async def test_an_sdk_http_agent_refuses_a_giant_head(stack: Stack) -> None:
    """200 MB of headers, 1 MB each: before, all of it was read, then answered (404)."""
    async with _http_agent(stack) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        header = b"X-Pad: " + b"a" * (1024 * 1024) + b"\r\n"
        sent = 0
        with contextlib.suppress(ConnectionError):
            for _ in range(HEAD_MB):
                writer.write(header)
                await writer.drain()
                sent += 1
            writer.write(b"\r\n")
            await writer.drain()
        # The kernel's buffers take a few MB after the server stopped reading.
        assert sent < 32, f"{sent} MB of head sent"
        with contextlib.suppress(ConnectionError):
            answer = await reader.read()
            assert answer in (b"",) or answer.startswith(b"HTTP/1.1 431"), answer[:100]
        writer.close()
        # The agent still serves.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert (await reader.read()).startswith(b"HTTP/1.1 200")
        writer.close()


async def test_an_sdk_http_agent_bounds_the_connections_of_one_address(stack: Stack) -> None:
    async with _http_agent(stack) as port:
        held = []
        for _ in range(PER_ADDRESS):
            held.append(await asyncio.open_connection("127.0.0.1", port))
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        answer = await asyncio.wait_for(reader.read(), 10)  # before: held, unanswered
        assert answer.startswith(b"HTTP/1.1 503"), answer
        assert b"MODX_HTTP_MAX_CONNECTIONS_PER_ADDRESS" in answer
        for _, held_writer in [*held, (reader, writer)]:
            held_writer.close()
