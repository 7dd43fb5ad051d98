"""A hostile MCP server by URL cannot make the orchestrator hold a message of any size in memory.

The MCP SDK's client reads a JSON answer whole (``response.aread()``) and an event of an event
stream whole, through MODX's egress-checked client, which bounded neither: a server answering
``tools/call`` with gigabytes had them read into the memory of the process every tenant
shares. Each message is now bounded (``mcp_client.MAX_MESSAGE_BYTES``), per event of a stream
(the session may keep one stream open for its whole life), and the call fails with
``MessageTooLarge`` (the SDK drops the error, which left the call waiting). The server here is
a real HTTP server that streams its answer, so that only the client's memory is measured. The
same code serves both modes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import tracemalloc
from collections.abc import AsyncIterator

import httpx
import pytest

from services.egress import EgressPolicy, ResponseTooLarge, _Capped
from services.interop import mcp_client
from services.interop.mcp_client import McpConnection, MessageTooLarge
from services.registry.schemas import McpServer

LIMIT = 1024 * 1024  # the bound, lowered: 32 times over it is sent
SENT = 32 * LIMIT
CHUNK = b"x" * (64 * 1024)


def _head(status: str, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _answer(request_id: object, result: object) -> bytes:
    body = json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result}).encode()
    return (
        _head(
            "200 OK",
            {
                "content-type": "application/json",
                "content-length": str(len(body)),
                "mcp-session-id": "s",
            },
        )
        + body
    )


async def _flood(writer: asyncio.StreamWriter, request_id: object, events: bool) -> None:
    """A ``tools/call`` answer of ``SENT`` bytes: one JSON body, or one event of a stream."""
    start = b'{"jsonrpc": "2.0", "id": %s, "result": {"content": [{"type": "text", "text": "' % (
        json.dumps(request_id).encode()
    )
    end = b'"}]}}'
    if events:
        writer.write(_head("200 OK", {"content-type": "text/event-stream", "connection": "close"}))
        start, end = b"event: message\ndata: " + start, end + b"\n\n"
    else:
        size = len(start) + SENT + len(end)
        headers = {"content-type": "application/json", "content-length": str(size)}
        writer.write(_head("200 OK", headers))
    writer.write(start)
    for _ in range(SENT // len(CHUNK)):
        writer.write(CHUNK)
        await writer.drain()
    writer.write(end)
    await writer.drain()


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, events: bool) -> None:
    """A streamable-HTTP MCP server, just enough of one: initialize, ping, and a tool whose
    answer floods."""
    with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
        while True:
            head = (await reader.readuntil(b"\r\n\r\n")).decode()
            method = head.split(" ", 1)[0]
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            body = json.loads(await reader.readexactly(length)) if length else {}
            if method != "POST":  # no stream of its own for the session; DELETE ends nothing
                writer.write(_head("405 Method Not Allowed", {"content-length": "0"}))
            elif "id" not in body:  # a notification
                writer.write(_head("202 Accepted", {"content-length": "0"}))
            elif body["method"] == "initialize":
                info = {
                    "protocolVersion": body["params"]["protocolVersion"],
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": "hostile", "version": "1"},
                }
                writer.write(_answer(body["id"], info))
            elif body["method"] == "tools/call":
                await _flood(writer, body["id"], events)
                if events:
                    break
            else:  # ping, and tools/list (which the SDK asks after a call, for its schema)
                writer.write(_answer(body["id"], {"tools": []} if "list" in body["method"] else {}))
            await writer.drain()
    writer.close()


@pytest.fixture(params=["json", "events"])
async def hostile(request: pytest.FixtureRequest) -> AsyncIterator[str]:
    events = request.param == "events"
    server = await asyncio.start_server(lambda r, w: _serve(r, w, events), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}/mcp"


async def test_an_mcp_message_past_the_bound_fails_the_call(
    hostile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mcp_client, "MAX_MESSAGE_BYTES", LIMIT)
    connection = McpConnection(McpServer(url=hostile), EgressPolicy(["127.0.0.1/32"]))
    await connection.start()
    tracemalloc.start()
    try:
        with pytest.raises(MessageTooLarge) as refused:
            await connection.call_tool("flood", {})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        await connection.close()
    assert f"larger than {LIMIT} bytes" in str(refused.value), refused.value
    # Read up to the bound and no further: without it, the whole answer (32 MiB) was held.
    assert peak < 4 * LIMIT, peak
    assert not connection.alive


class _Chunks(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


async def _read(body: bytes, events: bool) -> bytes:
    """``body`` read through the bound in chunks of 777 bytes (events end across chunks)."""
    chunks = _Chunks([body[i : i + 777] for i in range(0, len(body), 777)])
    request = httpx.Request("GET", "http://127.0.0.1/mcp")
    return b"".join([chunk async for chunk in _Capped(chunks, LIMIT, request, events=events)])


@pytest.mark.parametrize("end", [b"\n\n", b"\r\n\r\n", b"\r\r", b"\n\r\n"])
async def test_an_event_stream_is_bounded_per_event_not_in_all(end: bytes) -> None:
    """The session's stream may stay open for its whole life: four times the bound in small
    events goes through (a bound on the whole response would cut it), one event past it not."""
    event = b"event: message\ndata: " + b"y" * 1000 + end
    body = event * (4 * LIMIT // len(event))
    assert await _read(body, events=True) == body
    with pytest.raises(ResponseTooLarge):
        await _read(body, events=False)
    with pytest.raises(ResponseTooLarge, match=f"an event of the response is larger than {LIMIT}"):
        await _read(body + b"data: " + b"z" * LIMIT + end, events=True)
