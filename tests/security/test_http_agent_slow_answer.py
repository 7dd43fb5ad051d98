"""A hostile HTTP agent cannot hold a dispatch slot by answering a byte at a time.

httpx's timeout bounds each read, not the exchange: an agent that sent its answer one byte
every 0.1 s kept the POST open for as long as it liked, while the dispatcher's slots
(``MODX_HTTP_DISPATCH_TOTAL``, 64) are shared by every tenant's HTTP agents. The POST is now
bounded as a whole by ``MODX_HTTP_DISPATCH_TIMEOUT_S``. The code is the same in both modes
(``services.orchestrator.remote.http``), so it is driven here directly, against a real server
on a socket."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from bus.envelope import Envelope, Kind
from bus.signing import generate_keypair
from services.db.models import AgentRow
from services.egress import EgressPolicy
from services.orchestrator.remote.delivery import DeliveryFailed, Reply
from services.orchestrator.remote.http import HttpDelivery

ANSWER = b" " * 40 + b'{"output": {"done": true}}'


async def _drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read the POST, then send a valid answer one byte every 0.1 s (about 7 s in all)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    await reader.readexactly(length)
    writer.write(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        + f"content-length: {len(ANSWER)}\r\n\r\n".encode()
    )
    with contextlib.suppress(ConnectionError):
        for byte in ANSWER:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.1)
        writer.close()


@pytest.fixture
async def dripping_agent() -> AsyncIterator[str]:
    server = await asyncio.start_server(_drip, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}/tasks"


async def test_an_answer_dripped_past_the_timeout_fails_the_delivery(dripping_agent: str) -> None:
    delivery = HttpDelivery(
        generate_keypair()[0],
        timeout_s=1.0,  # every gap between two bytes is far shorter
        attempts=1,
        egress=EgressPolicy(["127.0.0.1/32"]),
    )
    agent = AgentRow(id="slow", transport="http", endpoint=dripping_agent)
    task = Envelope(kind=Kind.TASK, topic="t.slow", sender="orchestrator", run_id="r", step_id="s")
    published: list[Envelope] = []

    async def publish(envelope: Envelope) -> None:
        published.append(envelope)

    try:
        with pytest.raises(DeliveryFailed) as failed:
            await delivery.deliver(agent, task, Reply(task, agent.id, publish))
    finally:
        await delivery.close()
    assert failed.value.code == "dispatch_failed", failed.value.code
    assert "did not answer in time" in failed.value.message
    assert failed.value.retryable
    assert published == []  # no answer from half a body
