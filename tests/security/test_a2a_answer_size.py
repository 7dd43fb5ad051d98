"""A hostile A2A peer cannot make the orchestrator hold an answer of any size in memory.

HTTP agents' answers were read up to 4 MiB, but the A2A SDK's JSON-RPC client reads a whole
response body (``response.json()``) through MODX's egress-checked client: a peer answering
``message/send`` with gigabytes had them all read into the orchestrator's memory before the
answer-size check could look, in the process every tenant shares. The egress transport now
stops a body past ``a2a_client.MAX_RESPONSE_BYTES``. The same code serves both modes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from a2a.client.errors import A2AClientError
from a2a.client.transports.http_helpers import send_http_request

from services.egress import EgressPolicy, ResponseTooLarge
from services.interop.a2a_client import MAX_RESPONSE_BYTES, guarded_http

CHUNK = b" " * (1024 * 1024)


async def _flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer any request with a JSON body twice the limit (spaces, then a valid answer)."""
    await reader.readuntil(b"\r\n\r\n")
    tail = b'{"jsonrpc": "2.0", "id": 1, "result": {}}'
    size = 2 * MAX_RESPONSE_BYTES
    writer.write(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        + f"content-length: {size + len(tail)}\r\n\r\n".encode()
    )
    with contextlib.suppress(ConnectionError):
        for _ in range(size // len(CHUNK)):
            writer.write(CHUNK)
            await writer.drain()
        writer.write(tail)
        await writer.drain()
        writer.close()


@pytest.fixture
async def flooding_peer() -> AsyncIterator[str]:
    server = await asyncio.start_server(_flood, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}/a2a"


async def test_an_a2a_answer_past_the_limit_is_not_read(flooding_peer: str) -> None:
    http = guarded_http(EgressPolicy(["127.0.0.1/32"]), 30.0)
    try:
        request = http.build_request("POST", flooding_peer, json={"jsonrpc": "2.0", "id": 1})
        with pytest.raises(A2AClientError) as refused:
            await send_http_request(http, request)  # as the SDK's JSON-RPC transport sends
    finally:
        await http.aclose()
    assert isinstance(refused.value.__cause__, ResponseTooLarge), repr(refused.value.__cause__)
    assert f"larger than {MAX_RESPONSE_BYTES} bytes" in str(refused.value)
