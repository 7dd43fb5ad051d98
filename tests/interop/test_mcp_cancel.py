"""MCP cancellation on MODX's MCP server, with the MCP SDK's own client: a client that gives up
on a ``tools/call`` and sends ``notifications/cancelled`` for it cancels the run that call
started (a run at a ``wait`` step would otherwise run for ever), and only that run; a cancel
from another caller, or for an id no call has, changes nothing."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import mcp.types as types
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from services.auth import Principal
from services.db.models import DEFAULT_TENANT
from services.interop import calls
from services.interop.mcp_cancel import InFlight
from services.interop.mcp_client import next_request_id
from services.interop.mcp_server import RUN_ID_META
from tests.e2e.test_crashes import _two_replicas
from tests.fixtures.serve import servers  # noqa: F401  (the replicas, stopped after the test)
from tests.fixtures.services import wait_until
from tests.fixtures.stack import TOKEN, Stack
from tests.interop.test_mcp_server import mcp_session

HOLD = {"name": "hold", "steps": [{"id": "hold", "wait": {"signal": "go", "timeout_s": 3600}}]}


async def running_runs(stack: Stack, count: int) -> list[str]:
    """The ids of the ``hold`` runs, oldest first, once ``count`` of them are running."""
    found: list[str] = []

    async def enough() -> bool:
        nonlocal found
        listed = (await stack.client.get("/v1/runs", params={"workflow": "hold"})).json()
        found = [r["run_id"] for r in reversed(listed["items"]) if r["status"] == "running"]
        return len(found) >= count

    await wait_until(enough, timeout=60)
    return found


async def call(session: ClientSession) -> tuple[int, asyncio.Task[types.CallToolResult]]:
    """Start ``workflow.hold`` in the background; the request's JSON-RPC id and its task."""
    request_id = next_request_id(session)
    return request_id, asyncio.create_task(session.call_tool("workflow.hold", {}))


def cancel_body(request_id: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "method": "notifications/cancelled",
        "params": {"requestId": request_id, "reason": "not mine"},
    }


async def raw_cancel(stack: Stack | str, token: str, request_id: Any) -> None:
    """A cancel posted by hand to a stack or a server's URL (answered once handled: 202, as
    any notification)."""
    headers = {
        "authorization": f"Bearer {token}",
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": types.LATEST_PROTOCOL_VERSION,
    }
    url = stack if isinstance(stack, str) else stack.url
    async with httpx.AsyncClient(base_url=url) as http:
        response = await http.post("/mcp", json=cancel_body(request_id), headers=headers)
    assert response.status_code == 202, response.text


async def status(stack: Stack, run_id: str) -> str:
    return str((await stack.client.get(f"/v1/runs/{run_id}")).json()["status"])


async def test_a_cancelled_tool_call_cancels_its_run_and_only_that_one(stack: Stack) -> None:
    assert (await stack.client.post("/v1/workflows", json=HOLD)).status_code in (200, 201)
    other = await stack.client.post(
        "/v1/tokens",
        json={"tenant": DEFAULT_TENANT, "role": "operator"},
        headers={"authorization": f"Bearer {stack.settings.admin_token}"},
    )
    assert other.status_code == 201, other.text
    async with mcp_session(stack) as first, mcp_session(stack) as second:
        await second.list_tools()  # its call's id differs from the first's
        first_id, first_call = await call(first)
        (first_run,) = await running_runs(stack, 1)
        second_id, second_call = await call(second)
        assert first_id != second_id
        _, second_run = await running_runs(stack, 2)

        # another operator's cancel of that id, and a cancel of an id no call has: ignored
        await raw_cancel(stack, other.json()["token"], second_id)
        await raw_cancel(stack, TOKEN, 9999)
        assert await status(stack, first_run) == "running"
        assert await status(stack, second_run) == "running"

        cancel = types.CancelledNotification(
            params=types.CancelledNotificationParams(requestId=first_id, reason="client timed out")
        )
        await first.send_notification(types.ClientNotification(cancel))
        cancelled = await stack.wait(first_run)
        assert cancelled["status"] == "cancelled"
        assert "client timed out" in str(cancelled["error"])
        answered = await first_call  # the late answer, which a client may ignore
        assert answered.isError and answered.meta is not None
        assert answered.meta[RUN_ID_META] == first_run
        assert await status(stack, second_run) == "running"  # only the call that was cancelled

        # the call has been answered: a cancel of it now is ignored, the session goes on
        await first.send_notification(types.ClientNotification(cancel))
        assert isinstance((await first.list_tools()).tools, list)

        signal = await stack.client.post(f"/v1/runs/{second_run}/signals/go", json={"ok": True})
        assert signal.status_code == 202, signal.text
        finished = await second_call
        assert not finished.isError, finished.content
        assert (await stack.wait(second_run))["status"] == "succeeded"


async def test_a_cancel_that_comes_before_the_run_cancels_it_once_started(stack: Stack) -> None:
    """A cancel may reach the server while the call has not made its run yet: the call keeps
    it and cancels the run as soon as it exists."""
    assert (await stack.client.post("/v1/workflows", json=HOLD)).status_code in (200, 201)
    calls_ = InFlight()
    principal = Principal(tenant=DEFAULT_TENANT, role="operator", name="t")
    async with calls_.calling(principal, 5) as made:
        assert calls_.find(principal, 5) is made and calls_.find(principal, 6) is None
        await made.cancel(stack.runtime, "cancelled by MCP client: gave up early")
        run_id = await calls.start(
            stack.runtime, DEFAULT_TENANT, "workflow.hold", {}, protocol="mcp"
        )
        await made.started(stack.runtime, run_id)
    assert calls_.find(principal, 5) is None  # answered: no longer in flight
    run = await stack.wait(run_id)
    assert run["status"] == "cancelled" and "gave up early" in str(run["error"])


@asynccontextmanager
async def session_at(url: str) -> AsyncIterator[ClientSession]:
    """The MCP SDK's client session with the MODX at ``url``."""
    headers = {"authorization": f"Bearer {TOKEN}"}
    async with (
        httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(30, read=300)) as http,
        streamable_http_client(f"{url}/mcp", http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def test_a_cancel_landing_on_another_replica_cancels_the_call(
    tmp_path: Path,
    postgres_migrated_url: str,
    redis_url: str,
    servers: list[subprocess.Popen[bytes]],  # noqa: F811
) -> None:
    """Two replicas behind a load balancer: a client's ``tools/call`` is answered by one, its
    ``notifications/cancelled`` (a POST of its own) reaches the other. Before, the other
    replica knew only its own calls and ignored it: the run held on for ever. A request id
    that two live calls share, one on each replica (two sessions with one token: every
    session's first call has the id 1), is ambiguous and ignored, as on one replica."""
    urls = await _two_replicas(
        tmp_path, postgres_migrated_url, redis_url, tmp_path / "log", servers
    )
    headers = {"authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=urls[0], headers=headers, timeout=30) as rest:
        assert (await rest.post("/v1/workflows", json=HOLD)).status_code in (200, 201)

        async def held(count: int) -> list[str]:
            found: list[str] = []

            async def enough() -> bool:
                nonlocal found
                listed = (await rest.get("/v1/runs", params={"workflow": "hold"})).json()
                found = [r["run_id"] for r in reversed(listed["items"]) if r["status"] == "running"]
                return len(found) >= count

            await wait_until(enough, timeout=60)
            return found

        async def run_status(run_id: str) -> str:
            return str((await rest.get(f"/v1/runs/{run_id}")).json()["status"])

        async with session_at(urls[0]) as first, session_at(urls[1]) as second:
            first_id, first_call = await call(first)
            (first_run,) = await held(1)
            second_id, second_call = await call(second)
            assert first_id == second_id  # the same id, one call on each replica
            _, second_run = await held(2)
            await raw_cancel(urls[1], TOKEN, first_id)  # ambiguous: ignored
            signal = await rest.post(f"/v1/runs/{second_run}/signals/go", json={"ok": True})
            assert signal.status_code == 202, signal.text
            assert not (await second_call).isError  # not cancelled; answered, no longer in flight
            assert await run_status(first_run) == "running"

            # the first call's own cancel, through the other replica
            await raw_cancel(urls[1], TOKEN, first_id)
            response = await rest.get(f"/v1/runs/{first_run}/wait", params={"timeout_s": 60})
            cancelled = response.json()
            assert cancelled["status"] == "cancelled", cancelled
            assert "not mine" in str(cancelled["error"])
            answered = await first_call
            assert answered.isError and answered.meta is not None
            assert answered.meta[RUN_ID_META] == first_run
