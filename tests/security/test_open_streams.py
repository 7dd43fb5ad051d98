"""The run streams and waits one token, and one tenant, hold open on an API process are bounded.

Each ``GET /v1/runs/{id}/stream`` (up to an hour) and ``GET /v1/runs/{id}/wait`` (up to 300 s)
is a socket and a task of the API process; nothing bounded how many one token held, so one
viewer token could take every socket the process had. Past the limit: 429, ``Retry-After``,
and an error naming the setting."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from tests.fixtures.services import wait_until
from tests.fixtures.stack import ADMIN, Stack

HOLD = {
    "name": "hold-open",
    "steps": [{"id": "hold", "wait": {"signal": "never", "timeout_s": 3600}}],
}
SYSTEM = {"authorization": f"Bearer {ADMIN}"}


async def _token(stack: Stack, tenant: str, role: str) -> dict[str, str]:
    response = await stack.client.post(
        "/v1/tokens", json={"tenant": tenant, "role": role}, headers=SYSTEM
    )
    assert response.status_code == 201, response.text
    return {"authorization": f"Bearer {response.json()['token']}"}


@contextlib.asynccontextmanager
async def _stream(stack: Stack, run_id: str, headers: dict[str, str]) -> AsyncIterator[int]:
    """A run stream held open while the block runs; gives its status."""
    async with stack.client.stream(
        "GET", f"/v1/runs/{run_id}/stream", headers=headers, timeout=60
    ) as response:
        lines = response.aiter_lines()  # kept: a dropped iterator closes the response
        if response.status_code == 200:
            await anext(lines)  # the server is streaming
        yield response.status_code


def _refused(response: httpx.Response, setting: str) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["retry-after"].isdigit(), response.headers
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == "too_many_requests", error
    assert setting in error["message"] and error["details"]["limit"] == setting, error


async def test_a_token_and_a_tenant_hold_a_bounded_number_of_streams(stack: Stack) -> None:
    stack.runtime.settings.open_streams_per_token = 2
    stack.runtime.settings.open_streams_per_tenant = 3
    run_id = await stack.submit(HOLD)
    one, two = await _token(stack, "default", "viewer"), await _token(stack, "default", "viewer")
    assert (
        await stack.client.post("/v1/tenants", json={"name": "other"}, headers=SYSTEM)
    ).is_success
    elsewhere = await _token(stack, "other", "operator")
    response = await stack.client.post("/v1/runs", json={"workflow": HOLD}, headers=elsewhere)
    assert response.status_code in (200, 202), response.text
    other_run = response.json()["run_id"]
    wait = f"/v1/runs/{run_id}/wait"

    async with contextlib.AsyncExitStack() as held:
        for _ in range(2):
            assert await held.enter_async_context(_stream(stack, run_id, one)) == 200
        # The token's third: neither a stream nor a wait.
        async with stack.client.stream("GET", f"/v1/runs/{run_id}/stream", headers=one) as third:
            assert third.status_code == 429, third.status_code  # before reading: a 200 never ends
            await third.aread()
            _refused(third, "MODX_OPEN_STREAMS_PER_TOKEN")
        _refused(await stack.client.get(wait, headers=one), "MODX_OPEN_STREAMS_PER_TOKEN")
        # Another token of the tenant gets what is left of the tenant's.
        assert await held.enter_async_context(_stream(stack, run_id, two)) == 200
        _refused(
            await stack.client.get(wait, params={"timeout_s": 0.1}, headers=two),
            "MODX_OPEN_STREAMS_PER_TENANT",
        )
        # Another tenant's tokens are not held back.
        assert await held.enter_async_context(_stream(stack, other_run, elsewhere)) == 200
        ok = await stack.client.get(
            f"/v1/runs/{other_run}/wait", params={"timeout_s": 0.1}, headers=elsewhere
        )
        assert ok.status_code == 200, ok.text

    # Streams that ended are counted out (the server sees each close a moment later).
    async def freed() -> bool:
        response = await stack.client.get(wait, params={"timeout_s": 0.1}, headers=one)
        return response.status_code == 200

    await wait_until(freed, timeout=30)
    assert (await stack.client.get(wait, params={"timeout_s": 0.1}, headers=two)).status_code == 200
