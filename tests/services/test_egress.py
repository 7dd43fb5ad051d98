"""Outbound calls: HTTP agents' endpoints reach only allowed addresses, checked at registration
and again at connect time; what reaches a run is generic; replies are read up to a limit."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.config import Settings
from services.egress import EgressPolicy, EgressRefused, GuardedTransport
from tests.fixtures.app import app_client
from tests.fixtures.services import free_port

TOKEN = "egress-test-token-0123456789"
SECRET = "s3cr3t-from-the-internal-service"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.100.100.200",  # shared address space (another metadata service)
        "0.0.0.0",
        "::1",
        "fd00:ec2::254",  # AWS metadata over IPv6
        "fe80::1",
        "::ffff:127.0.0.1",
        "2002:7f00:1::",  # 6to4 around 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 around 169.254.169.254
        "::ffff:0:a9fe:a9fe",  # IPv4-translated 169.254.169.254 (is_global says public)
        "64:ff9b:1::a00:1",  # local-use NAT64 (is_global says public)
        "fec0::1",  # site-local (is_global says public)
        "::127.0.0.1",  # IPv4-compatible (is_global says public; a sit tunnel reaches it)
        "::a9fe:a9fe",  # IPv4-compatible 169.254.169.254
        "224.0.0.1",
    ],
)
def test_internal_addresses_are_refused_by_default(address: str) -> None:
    assert not EgressPolicy().allows(ipaddress.ip_address(address))


def test_public_addresses_pass_and_the_allow_list_opens_the_rest() -> None:
    policy = EgressPolicy()
    assert policy.allows(ipaddress.ip_address("93.184.215.14"))
    assert policy.allows(ipaddress.ip_address("2606:4700::1111"))
    assert policy.allows(ipaddress.ip_address("64:ff9b::5db8:d70e"))  # NAT64 to a public IPv4
    assert policy.allows(ipaddress.ip_address("::5db8:d70e"))  # IPv4-compatible, public
    opened = EgressPolicy(["10.0.0.0/8", "127.0.0.1", "agents.internal"])
    assert opened.allows(ipaddress.ip_address("10.9.9.9"))
    assert opened.allows(ipaddress.ip_address("127.0.0.1"))
    assert not opened.allows(ipaddress.ip_address("127.0.0.2"))
    assert opened.allows(ipaddress.ip_address("192.168.0.1"), host="Agents.Internal.")


def test_the_allow_list_reads_comma_separated_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODX_EGRESS_ALLOW", "10.0.0.0/8, agents.internal")
    assert Settings().egress_allow == ["10.0.0.0/8", "agents.internal"]


class Target:
    """A local HTTP service playing an agent (or an internal service an attacker aims at)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []  # (path, Host header)

        async def handle(request: Request) -> Response:
            self.requests.append((request.url.path, request.headers.get("host", "")))
            match request.url.path:
                case "/ok":
                    return JSONResponse({"output": {"fine": True}})
                case "/fail":
                    return JSONResponse({"secret": SECRET}, status_code=500)
                case "/big":
                    return JSONResponse({"output": "x" * 200_000})
                case "/nan":
                    return Response(b'{"output": {"v": NaN}}', media_type="application/json")
            return JSONResponse({"secret": SECRET}, status_code=404)

        self.app = Starlette(routes=[Route("/{path:path}", handle, methods=["POST"])])


@contextlib.asynccontextmanager
async def serving(target: Target) -> AsyncIterator[int]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(target.app, host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        assert not task.done()
        await asyncio.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def target() -> AsyncIterator[tuple[Target, int]]:
    found = Target()
    async with serving(found) as port:
        yield found, port


def card(endpoint: str, capability: str = "ext.call") -> dict[str, Any]:
    # One name per capability: a live name is held by one agent (without a key, not shared).
    return {
        "name": f"external-{capability}",
        "transport": "http",
        "endpoint": endpoint,
        "capabilities": [{"name": capability}],
    }


async def run_once(http: httpx.AsyncClient, capability: str = "ext.call") -> dict[str, Any]:
    flow = {"name": "egress", "steps": [{"id": "call", "capability": capability}]}
    started = await http.post("/v1/runs", json={"workflow": flow})
    assert started.status_code == 202, started.text
    run_id = started.json()["run_id"]
    while True:
        run = (await http.get(f"/v1/runs/{run_id}/wait", params={"timeout_s": 30})).json()
        if run["status"] in ("succeeded", "failed", "timed_out", "cancelled"):
            return dict(run)


async def test_registration_refuses_internal_and_malformed_endpoints(tmp_path: Path) -> None:
    async with app_client(Settings(data_dir=tmp_path, api_token=TOKEN)) as http:
        for endpoint in (
            "http://127.0.0.1:9/task",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]:8080/",
            "http://localhost:8080/",
            "http://10.0.0.1/",
        ):
            response = await http.post("/v1/agents", json=card(endpoint))
            assert response.status_code == 422, (endpoint, response.text)
            assert response.json()["error"]["details"][0]["path"] == "$.endpoint"
        for endpoint in (
            "http://example.com/a\r\nX-Injected: 1",
            "http://exa mple.com/",
            "http://user:pw@example.com/",
            "ftp://example.com/",
            "http://example.com:99999/",
            "http:///nohost",
        ):
            response = await http.post("/v1/agents", json=card(endpoint))
            assert response.status_code == 422, (endpoint, response.text)
            assert response.json()["error"]["details"][0]["path"] == "$.endpoint", endpoint


async def test_the_check_is_made_again_at_connect_time(
    tmp_path: Path, target: tuple[Target, int], caplog: pytest.LogCaptureFixture
) -> None:
    service, port = target
    settings = Settings(data_dir=tmp_path, api_token=TOKEN, egress_allow=["127.0.0.1"])
    async with app_client(settings) as http:
        registered = await http.post("/v1/agents", json=card(f"http://127.0.0.1:{port}/ok"))
        assert registered.status_code == 201, registered.text
        assert (await run_once(http))["status"] == "succeeded"
        assert len(service.requests) == 1
        # The address stops being allowed after registration (as a name that resolved to a
        # public address and now resolves to an internal one): no request leaves.
        runtime = http._transport.app.state.runtime  # type: ignore[attr-defined]
        runtime.remote.deliveries["http"].client._transport.policy = EgressPolicy()
        with caplog.at_level(logging.WARNING, logger="services.orchestrator.remote.http"):
            run = await run_once(http)
        assert run["status"] == "failed"
        assert run["steps"][0]["error"]["message"] == "the agent could not be reached"
        assert len(service.requests) == 1
        assert "resolves to no allowed address" in caplog.text  # the detail is in the log


async def test_connections_go_to_the_checked_address_with_the_name_kept(
    target: tuple[Target, int],
) -> None:
    service, port = target
    refused = httpx.AsyncClient(transport=GuardedTransport(EgressPolicy()))
    with pytest.raises(EgressRefused):
        await refused.post(f"http://localhost:{port}/ok")
    await refused.aclose()
    allowed = httpx.AsyncClient(transport=GuardedTransport(EgressPolicy(["localhost"])))
    response = await allowed.post(f"http://localhost:{port}/ok")
    await allowed.aclose()
    assert response.json() == {"output": {"fine": True}}
    assert service.requests == [("/ok", f"localhost:{port}")]


async def test_what_reaches_the_run_is_generic_and_replies_are_bounded(
    tmp_path: Path, target: tuple[Target, int], caplog: pytest.LogCaptureFixture
) -> None:
    _, port = target
    closed = free_port()
    settings = Settings(
        data_dir=tmp_path,
        api_token=TOKEN,
        egress_allow=["127.0.0.1"],
        http_reply_max_bytes=100_000,
    )
    cases = {
        f"http://127.0.0.1:{port}/fail": ("dispatch_failed", "the agent answered 500"),
        f"http://127.0.0.1:{port}/missing": ("dispatch_rejected", "the agent answered 404"),
        f"http://127.0.0.1:{closed}/task": ("dispatch_failed", "the agent could not be reached"),
        f"http://127.0.0.1:{port}/big": (
            "answer_too_large",
            "the agent's answer is larger than 100000 bytes",
        ),
        f"http://127.0.0.1:{port}/nan": ("bad_answer", "$.output.v: NaN is not a JSON number"),
    }
    async with app_client(settings) as http:
        for n, (endpoint, (code, message)) in enumerate(cases.items()):
            capability = f"ext.case{n}"
            registered = await http.post("/v1/agents", json=card(endpoint, capability))
            assert registered.status_code == 201, registered.text
            with caplog.at_level(logging.WARNING, logger="services.orchestrator.remote.http"):
                run = await run_once(http, capability)
            assert run["status"] == "failed", endpoint
            error = run["steps"][0]["error"]
            assert (error["code"], error["message"]) == (code, message), endpoint
            assert SECRET not in str(run) and str(closed) not in str(run)
        assert f"127.0.0.1:{closed}" in caplog.text  # the detail went to the server's log
