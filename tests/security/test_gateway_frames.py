"""Gateway frames are bounded in size, and refused frames are logged at a bounded rate.

Frames could be up to 16 MiB (uvicorn's default WebSocket limit), where HTTP bodies stop at
``MODX_MAX_REQUEST_BYTES``, and each refused frame wrote a warning to the server's log: an
agent token sending bad frames in a loop wrote log lines as fast as it could send."""

from __future__ import annotations

import json
import logging

import pytest
from websockets.exceptions import ConnectionClosed

from tests.fixtures.stack import Stack
from tests.security.test_gateway_abuse import _agent, _ask, _open


async def test_a_frame_over_the_limit_closes_the_connection(stack: Stack) -> None:
    limit = stack.runtime.settings.gateway_max_frame_bytes = 64 * 1024
    async with _agent(stack) as agent, _open(stack, agent) as ws:
        ping = '{"op": "ping", "ref": 1}'
        await ws.send(ping + " " * (limit - len(ping)))  # whitespace is valid JSON padding
        assert json.loads(await ws.recv()) == {"op": "ok", "ref": 1}
        with pytest.raises(ConnectionClosed):
            await ws.send(ping + " " * (limit + 1 - len(ping)))
            await ws.recv()
        assert ws.close_code == 1009, (ws.close_code, ws.close_reason)
        assert "MODX_GATEWAY_MAX_FRAME_BYTES" in (ws.close_reason or "")


async def test_refused_frames_are_logged_at_a_bounded_rate(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="services.gateway.session")
    async with _agent(stack) as agent, _open(stack, agent) as ws:
        for n in range(300):
            answer = await _ask(ws, {"op": "no-such-op", "ref": n})
            assert answer["op"] == "error" and answer["ref"] == n, answer  # each is answered
    refused = [r for r in caplog.records if r.name == "services.gateway.session"]
    assert len(refused) <= 20, len(refused)  # 300 before: one per refused frame
