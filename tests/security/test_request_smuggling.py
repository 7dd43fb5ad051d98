"""A request framed two ways (``Transfer-Encoding`` and ``Content-Length``) is refused and its
connection closed, by the HTTP protocol MODX serves with.

h11 (uvicorn's parser when httptools is missing) reads such a body as chunked and keeps the
connection: the bytes after the chunked body's end were answered as a second request (seen with
the request deadline's first version, on h11). Behind a proxy that trusts ``Content-Length``,
that is a request the proxy never saw. httptools refuses it; this keeps ``modx up`` on it."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from services.embedded import embedded_service
from tests.fixtures.services import free_port

SMUGGLED = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"


async def _exchange(port: int, request: bytes) -> list[bytes]:
    """The status lines the server sends back for ``request``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    answer = b""
    try:
        # A kept-alive connection is not closed: read until nothing more comes for 5 s.
        while chunk := await asyncio.wait_for(reader.read(65536), 5):
            answer += chunk
    except TimeoutError:
        pass
    writer.close()
    return re.findall(rb"HTTP/1\.1 \d{3}", answer)


async def test_a_request_framed_two_ways_is_not_answered_twice(tmp_path: Path) -> None:
    port = free_port()
    body = b"0\r\n\r\n" + SMUGGLED
    framings = [
        b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n" % len(body),
        b"Transfer-Encoding: chunked\r\nContent-Length: %d\r\n" % len(body),
    ]
    async with embedded_service(tmp_path / ".modx", port=port, agents=[]):
        for framing in framings:
            head = b"POST /v1/runs HTTP/1.1\r\nHost: x\r\n" + framing + b"\r\n"
            # On h11: [401, 200], the smuggled GET answered on the same connection.
            assert await _exchange(port, head + body) == [b"HTTP/1.1 400"]
        # Framed one way, the same bytes are two requests: the check above can fail.
        one_way = b"POST /v1/runs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        assert await _exchange(port, one_way + body) == [b"HTTP/1.1 401", b"HTTP/1.1 200"]
