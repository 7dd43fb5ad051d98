"""Object-level access as a matrix generated from the app's route table: every route x every
role x an object of the caller's own tenant or of another tenant.

A route that ``ROUTES`` does not classify fails ``test_every_route_is_classified``, so a new
route cannot skip the check. For each (route, role, own/other):

- a role the route does not allow gets 403, whatever the object;
- an allowed role gets one of the route's statuses for its own tenant's object, and for another
  tenant's object 404 (never telling whether it exists);
- no answer to anyone carries an identifier of another tenant's objects.

Roles: ``viewer``, ``operator``, ``admin`` and ``agent`` (an issued agent token, which registers
agents) of tenant alpha; ``self``, the own token of an agent registered by alpha; ``system``, an
admin of the system tenant. "Other" is tenant beta.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts

from bus.signing import generate_keypair
from services.api.app import create_app
from services.config import Settings
from tests.api.tenancy_world import Admin, World, bearer, runtime_app, runtime_of, tenancy_app
from tests.fixtures.identity import keyed
from tests.fixtures.services import wait_until

ROLES = ("viewer", "operator", "admin", "agent", "self", "system")
READ = frozenset({"viewer", "operator", "admin", "system"})
OPERATE = frozenset({"operator", "admin", "system"})
ADMIN = frozenset({"admin", "system"})
EVERYONE = frozenset(ROLES)


@dataclass
class Call:
    """What one request sends: path parameters, body, query, and a token to use instead."""

    params: dict[str, Any]
    body: Any = None
    query: dict[str, Any] | None = None
    token: str | None = None


Builder = Callable[["Matrix", World, bool], Awaitable[Call]]


@dataclass(frozen=True)
class Rule:
    """Who may call a route, what they get, and how a request is built.

    ``other``: what an allowed role gets for the other tenant's object (None: the route names
    no object, so only the leak check applies). ``everywhere``: roles that reach every tenant's
    objects by design (a system admin managing tokens).
    """

    allowed: frozenset[str]
    ok: tuple[int, ...]
    build: Builder
    other: int | None = 404
    everywhere: frozenset[str] = frozenset()


async def nothing(m: Matrix, w: World, own: bool) -> Call:
    return Call({})


async def run_of(m: Matrix, w: World, own: bool) -> Call:
    return Call({"run_id": w.run_id})


async def run_signal(m: Matrix, w: World, own: bool) -> Call:
    return Call({"run_id": w.run_id, "name": "approval"}, body={"ok": True})


async def run_wait(m: Matrix, w: World, own: bool) -> Call:
    return Call({"run_id": w.run_id}, query={"timeout_s": 0.01})


async def agent_of(m: Matrix, w: World, own: bool) -> Call:
    return Call({"agent_id": w.agent_id}, body={})


async def fresh_agent(m: Matrix, w: World, own: bool) -> Call:
    # Deregistering removes the agent: each request gets one of its own (with its token, for
    # the agent deregistering itself).
    if not own:
        return Call({"agent_id": w.agent_id})
    agent_id, token = await m.admin.agent(w, "leaving", f"work.{w.tenant}")
    return Call({"agent_id": agent_id}, token=token if m.role == "self" else None)


async def workflow_of(m: Matrix, w: World, own: bool) -> Call:
    return Call({"name": w.workflow})


async def new_workflow(m: Matrix, w: World, own: bool) -> Call:
    # Names are per tenant (test_tenancy.py registers one name in two tenants).
    definition = {"name": f"added-{m.role}", "steps": [{"id": "a", "capability": "work.x"}]}
    return Call({}, body=definition)


async def start_run(m: Matrix, w: World, own: bool) -> Call:
    return Call({}, body={"workflow": w.workflow, "input": {"n": 2}})


JOINING = generate_keypair()[0]  # every "joining" card proves this key: the same agent again


async def agent_card(m: Matrix, w: World, own: bool) -> Call:
    card = {"name": "joining", "capabilities": [{"name": "work.joined"}]}
    return Call({}, body=keyed(card, JOINING))


async def mcp_command(m: Matrix, w: World, own: bool) -> Call:
    # A command runs on the server: a system admin's only (a URL is any registrar's).
    root = str(Path(__file__).resolve().parents[2])
    command = [sys.executable, "-m", "tests.interop.mcp_peer", "stdio"]
    return Call({}, body={"name": "matrix", "command": command, "env": {"PYTHONPATH": root}})


async def a2a_card_url(m: Matrix, w: World, own: bool) -> Call:
    # A card URL where nothing answers: registrars get the 422 that names it, others a 403.
    return Call({}, body={"card_url": "http://127.0.0.1:9/.well-known/agent-card.json"})


async def task_result(m: Matrix, w: World, own: bool) -> Call:
    return Call({"task_id": w.task_id}, body={"output": {"n": 2}})


async def new_tenant(m: Matrix, w: World, own: bool) -> Call:
    return Call({}, body={"name": "gamma"})


async def new_token(m: Matrix, w: World, own: bool) -> Call:
    return Call({}, body={"tenant": w.tenant, "role": "viewer"})


async def token_of(m: Matrix, w: World, own: bool) -> Call:
    # Revoking or rotating consumes the token: a fresh one for each request.
    return Call({"token_id": (await m.admin.token(w.tenant, "viewer"))[0]})


async def ledger_of(m: Matrix, w: World, own: bool) -> Call:
    return Call({}, query={"run_id": w.run_id})


async def capabilities(m: Matrix, w: World, own: bool) -> Call:
    return Call({}, query={"name": f"work.{w.tenant}"})


async def runs_of_agent(m: Matrix, w: World, own: bool) -> Call:
    return Call({}, query={"agent": w.agent_id})


async def tokens_of(m: Matrix, w: World, own: bool) -> Call:
    return Call({}, query={"tenant": w.tenant})


DASHBOARD = "dashboard"  # cookie sessions: a bearer token of any role opens nothing there
WEBSOCKET = "websocket"  # an agent's own connection: see websocket_check
MCP = "mcp"  # MCP's streamable HTTP (JSON-RPC): see mcp_check
A2A = "a2a"  # A2A's JSON-RPC endpoint and Agent Card: see a2a_check

ROUTES: dict[str, Rule | str] = {
    "GET /openapi.json": Rule(EVERYONE, (200,), nothing, other=None),
    "GET /docs": Rule(EVERYONE, (200,), nothing, other=None),
    "GET /docs/oauth2-redirect": Rule(EVERYONE, (200,), nothing, other=None),
    "GET /redoc": Rule(EVERYONE, (200,), nothing, other=None),
    "GET /healthz": Rule(EVERYONE, (200,), nothing, other=None),
    "GET /readyz": Rule(EVERYONE, (200,), nothing, other=None),
    # Process-wide figures (every tenant's workflow names among the labels).
    "GET /metrics": Rule(
        frozenset({"system"}), (200,), nothing, other=None, everywhere=frozenset({"system"})
    ),
    "POST /v1/agents": Rule(
        frozenset({"operator", "admin", "agent", "system"}), (201,), agent_card, other=None
    ),
    # The server's bus kind, asked before registering: whoever may register.
    "GET /v1/bus": Rule(
        frozenset({"operator", "admin", "agent", "system"}), (200,), nothing, other=None
    ),
    "POST /v1/agents/mcp": Rule(frozenset({"system"}), (201, 409), mcp_command, other=None),
    "POST /v1/agents/a2a": Rule(
        frozenset({"operator", "admin", "agent", "system"}), (422,), a2a_card_url, other=None
    ),
    "POST /v1/agents/{agent_id}/heartbeat": Rule(frozenset({"self"}), (200,), agent_of),
    "DELETE /v1/agents/{agent_id}": Rule(
        frozenset({"self", "admin", "system"}), (202,), fresh_agent
    ),
    "GET /v1/agents": Rule(READ, (200,), nothing, other=None),
    "GET /v1/agents/{agent_id}": Rule(READ, (200,), agent_of),
    "GET /v1/capabilities": Rule(READ, (200,), capabilities, other=None),
    "POST /v1/workflows": Rule(OPERATE, (200, 201), new_workflow, other=None),
    "GET /v1/workflows": Rule(READ, (200,), nothing, other=None),
    "GET /v1/workflows/{name}": Rule(READ, (200,), workflow_of),
    "POST /v1/runs": Rule(OPERATE, (202,), start_run),
    "GET /v1/runs": Rule(READ, (200,), runs_of_agent, other=None),
    "GET /v1/runs/{run_id}": Rule(READ, (200,), run_of),
    "GET /v1/runs/{run_id}/events": Rule(READ, (200,), run_of),
    "GET /v1/runs/{run_id}/wait": Rule(READ, (200,), run_wait),
    "GET /v1/runs/{run_id}/stream": Rule(READ, (200,), run_wait),
    "POST /v1/runs/{run_id}/cancel": Rule(OPERATE, (202, 409), run_of),
    "POST /v1/runs/{run_id}/retry": Rule(OPERATE, (202, 409), run_of),
    "POST /v1/runs/{run_id}/signals/{name}": Rule(OPERATE, (409,), run_signal),
    "POST /v1/tasks/{task_id}/result": Rule(frozenset({"self"}), (200,), task_result),
    "GET /v1/ledger/verify": Rule(READ, (200,), ledger_of, other=None),
    "GET /v1/ledger/checkpoints": Rule(READ, (200,), nothing, other=None),
    "GET /v1/ledger/public-key": Rule(READ, (200,), nothing, other=None),
    "GET /v1/runs/{run_id}/ledger": Rule(READ, (200,), run_of),
    "POST /v1/tenants": Rule(frozenset({"system"}), (200, 201), new_tenant, other=None),
    "GET /v1/tenants": Rule(frozenset({"system"}), (200,), nothing, other=None),
    "POST /v1/tokens": Rule(ADMIN, (201,), new_token, other=403, everywhere=frozenset({"system"})),
    "GET /v1/tokens": Rule(ADMIN, (200,), tokens_of, other=None, everywhere=frozenset({"system"})),
    "DELETE /v1/tokens/{token_id}": Rule(ADMIN, (200,), token_of, everywhere=frozenset({"system"})),
    "POST /v1/tokens/{token_id}/rotate": Rule(
        ADMIN, (200,), token_of, everywhere=frozenset({"system"})
    ),
    "ANY /v1/agents/{agent_id}/gateway": WEBSOCKET,
    "ANY /mcp": MCP,
    "POST /a2a": A2A,
    "GET /.well-known/agent-card.json": A2A,
    "GET /dashboard/login": DASHBOARD,
    "POST /dashboard/login": DASHBOARD,
    "POST /dashboard/logout": DASHBOARD,
    "POST /dashboard/tenant": DASHBOARD,
    "POST /dashboard/runs/{run_id}/cancel": DASHBOARD,
    "POST /dashboard/runs/{run_id}/retry": DASHBOARD,
    "POST /dashboard/runs/{run_id}/signals/{name}": DASHBOARD,
    "POST /dashboard/dead-letters/replay": DASHBOARD,
    "POST /dashboard/dead-letters/discard": DASHBOARD,
    "GET /dashboard/live/runs/{run_id}": DASHBOARD,
    "GET /dashboard/runs/{run_id}/fragments": DASHBOARD,
    "GET /dashboard/live/runs": DASHBOARD,
    "GET /dashboard/static/{name:path}": DASHBOARD,
    "GET /dashboard": DASHBOARD,
    "GET /dashboard/agents": DASHBOARD,
    "GET /dashboard/runs": DASHBOARD,
    "GET /dashboard/runs/{run_id}": DASHBOARD,
    "GET /dashboard/dead-letters": DASHBOARD,
}
# Dashboard routes open to anyone (the login page, its form, static files, logging out).
DASHBOARD_OPEN = {
    "GET /dashboard/login",
    "POST /dashboard/login",
    "POST /dashboard/logout",
    "GET /dashboard/static/{name:path}",
}


def route_table() -> list[str]:
    """Every method and path the app serves (HEAD aside); a route without methods (a
    WebSocket, a mount) is ``ANY path``, so it is classified too."""
    app = create_app(Settings())
    return [
        f"{method} {route.path}"
        for route in iter_route_contexts(app.routes)
        for method in sorted(route.methods or ("ANY",))
        if method != "HEAD"
    ]


def test_every_route_is_classified() -> None:
    table = route_table()
    unclassified = sorted(set(table) - set(ROUTES))
    assert not unclassified, f"classify these routes in ROUTES: {unclassified}"
    assert not sorted(set(ROUTES) - set(table)), "ROUTES names routes the app no longer has"


@dataclass
class Matrix:
    """The state of one walk through the matrix."""

    http: httpx.AsyncClient
    admin: Admin
    worlds: dict[str, World]
    role: str = ""

    def own(self, role: str) -> World:
        return self.worlds["system" if role == "system" else "alpha"]

    async def call(self, key: str, rule: Rule, role: str, own: bool) -> tuple[str, httpx.Response]:
        self.role = role
        mine = self.own(role)
        target = mine if own else self.worlds["beta"]
        call = await rule.build(self, target, own)
        method, path = key.split(" ", 1)
        for name, value in call.params.items():
            path = re.sub(r"\{" + name + r"(:[^}]*)?\}", str(value), path)
        token = call.token or mine.tokens["admin" if role == "system" else role]
        response = await self.http.request(
            method, path, json=call.body, params=call.query, headers=bearer(token)
        )
        return f"{path} {call.body} {call.query}", response


def check(
    m: Matrix, key: str, rule: Rule, role: str, own: bool, sent: str, response: httpx.Response
) -> str:
    """A problem with ``response`` to a request that carried ``sent``, or ''."""
    status = response.status_code
    if role not in rule.allowed:
        return "" if status == 403 else f"expected 403, got {status}"
    if own or role in rule.everywhere or rule.other is None:
        if status not in rule.ok:
            return f"expected {rule.ok}, got {status}: {response.text[:200]}"
    elif status != rule.other:
        return f"expected {rule.other} for another tenant's object, got {status}"
    if role not in rule.everywhere:
        others = [w for name, w in m.worlds.items() if w is not m.own(role)]
        # What the caller sent may come back (a 404 names the id asked for); nothing else may.
        leaked = [
            s for w in others for s in w.secrets() if s and s in response.text and s not in sent
        ]
        if leaked:
            return f"answer carries another tenant's {leaked}"
    return ""


async def walk(http: httpx.AsyncClient) -> list[str]:
    admin = Admin(http)
    worlds = {name: await admin.world(name) for name in ("alpha", "beta", "system")}
    matrix = Matrix(http, admin, worlds)
    problems = []
    for key in route_table():
        rule = ROUTES[key]
        if rule == WEBSOCKET:
            problems.extend(await websocket_check(matrix, key))
            continue
        if rule == MCP:
            problems.extend(await mcp_check(matrix, key))
            continue
        if rule == A2A:
            problems.extend(await a2a_check(matrix, key))
            continue
        if isinstance(rule, str):
            problems.extend(await dashboard_check(matrix, key))
            continue
        for role in ROLES:
            for own in (True, False):
                sent, response = await matrix.call(key, rule, role, own)
                problem = check(matrix, key, rule, role, own, sent, response)
                if problem:
                    problems.append(f"{key} as {role} ({'own' if own else 'other'}): {problem}")
    return problems


async def mcp_check(m: Matrix, key: str) -> list[str]:
    """Readers list their own tenant's tools (calling them is checked in tests/interop); an
    agent's token gets 403; nothing of another tenant is listed."""
    path = key.split(" ", 1)[1]
    problems = []
    for role in ROLES:
        token = m.own(role).tokens["admin" if role == "system" else role]
        response = await m.http.post(
            path,
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={**bearer(token), "accept": "application/json, text/event-stream"},
        )
        expected = 200 if role in READ else 403
        if response.status_code != expected:
            problems.append(f"{key} as {role}: expected {expected}, got {response.status_code}")
        others = [w for w in m.worlds.values() if w is not m.own(role)]
        leaked = [s for w in others for s in w.secrets() if s and s in response.text]
        if leaked:
            problems.append(f"{key} as {role}: answer carries another tenant's {leaked}")
        if role in READ and m.own(role).workflow not in response.text:
            problems.append(f"{key} as {role}: its own workflow is not listed: {response.text}")
    return problems


async def a2a_check(m: Matrix, key: str) -> list[str]:
    """Readers read their own tenant's card (skills) and tasks (``ListTasks``; ``GetTask`` of
    another tenant's run is not found); only operators start or cancel (``CancelTask``: 403
    for the others); an agent's token gets 403; nothing of another tenant comes back. Sending
    messages is checked in tests/interop."""
    method, path = key.split(" ", 1)
    problems = []
    for role in ROLES:
        mine = m.own(role)
        token = mine.tokens["admin" if role == "system" else role]
        others = [w for w in m.worlds.values() if w is not mine]
        answers: list[httpx.Response] = []
        if method == "GET":
            answers.append(await m.http.get(path, headers=bearer(token)))
            expected = [200 if role in READ else 403]
        else:
            headers = {**bearer(token), "a2a-version": "1.0"}
            for rpc, params in (
                ("ListTasks", {}),
                ("GetTask", {"id": m.worlds["beta"].run_id}),
                ("CancelTask", {"id": m.worlds["beta"].run_id}),
            ):
                body = {"jsonrpc": "2.0", "id": 1, "method": rpc, "params": params}
                answers.append(await m.http.post(path, json=body, headers=headers))
            refused = 200 if role in OPERATE else 403
            expected = [200, 200, refused] if role in READ else [403, 403, 403]
        statuses = [a.status_code for a in answers]
        if statuses != expected:
            problems.append(f"{key} as {role}: expected {expected}, got {statuses}")
        text = " ".join(a.text for a in answers)
        asked = m.worlds["beta"].run_id  # what was sent may come back ("no task '…'")
        leaked = [s for w in others for s in w.secrets() if s and s in text and s != asked]
        if leaked:
            problems.append(f"{key} as {role}: answer carries another tenant's {leaked}")
        if role in READ and (mine.workflow if method == "GET" else mine.run_id) not in text:
            problems.append(f"{key} as {role}: its own workflow or run is missing: {text}")
        if method == "POST" and role in READ:
            found = [a.json().get("error", {}).get("code") for a in answers[1:]]
            expected_codes = [-32001, -32001 if role in OPERATE else "forbidden"]
            if found != expected_codes:
                problems.append(f"{key} as {role}: another tenant's task answered {found}")
    return problems


async def dashboard_check(m: Matrix, key: str) -> list[str]:
    """Bearer tokens do not open the dashboard: pages redirect to the login, the rest is 401."""
    if key in DASHBOARD_OPEN:
        return []
    method, path = key.split(" ", 1)
    path = re.sub(r"\{[^}]*\}", m.worlds["alpha"].run_id, path)
    problems = []
    for role in ROLES:
        token = m.own(role).tokens["admin" if role == "system" else role]
        response = await m.http.request(method, path, headers=bearer(token), json={})
        if response.status_code not in (303, 401):
            problems.append(f"{key} as {role}: got {response.status_code} without a session")
    return problems


async def websocket_check(m: Matrix, key: str) -> list[str]:
    """Only an agent's own token opens its connection: a token that is not an agent's is closed
    with 4401, an agent's token for another tenant's agent with 4403 (as for an agent id that
    does not exist), before anything is read."""
    path = key.split(" ", 1)[1]
    problems = []
    for role in ROLES:
        for own in (True, False):
            target = m.own(role) if own else m.worlds["beta"]
            token = m.own(role).tokens["admin" if role == "system" else role]
            opened, code = await websocket_outcome(
                runtime_of(m.http), path.replace("{agent_id}", target.agent_id), token
            )
            expected = (True, None) if role == "self" and own else (False, 4403)
            if role not in ("self", "agent"):  # an issued agent token is no agent's own: 4403
                expected = (False, 4401)
            if (opened, code) != expected:
                problems.append(f"{key} as {role} ({own=}): {(opened, code)}, not {expected}")
    return problems


async def websocket_outcome(runtime: Any, path: str, token: str) -> tuple[bool, int | None]:
    """Drive the app's ASGI WebSocket: (accepted and left open, close code)."""
    app = runtime_app(runtime)
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"authorization", f"Bearer {token}".encode()), (b"host", b"modx")],
        "client": ("127.0.0.1", 40000),
        "server": ("modx", 80),
        "subprotocols": [],
    }
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await incoming.put({"type": "websocket.connect"})
    sent: list[dict[str, Any]] = []
    reads = 0

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return await incoming.get()

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    serving = asyncio.create_task(app(scope, receive, send))

    def closes() -> list[dict[str, Any]]:
        return [m for m in sent if m["type"] == "websocket.close"]

    async def settled() -> bool:
        # Refused (closed), or serving: it reads the next frame after the handshake.
        return bool(closes()) or serving.done() or reads >= 2

    await wait_until(settled, timeout=30)
    if closes():
        await asyncio.wait_for(serving, 30)
        return False, closes()[0].get("code")
    opened = any(m["type"] == "websocket.accept" for m in sent)
    await incoming.put({"type": "websocket.disconnect", "code": 1000})
    await asyncio.wait_for(serving, 30)
    return opened, None


async def test_matrix_embedded(tmp_path: Path) -> None:
    async with tenancy_app(tmp_path) as http:
        problems = await walk(http)
    assert not problems, "\n".join(problems)


@pytest.mark.postgres
async def test_matrix_distributed(
    tmp_path: Path, postgres_migrated_url: str, redis_url: str
) -> None:
    async with tenancy_app(tmp_path, postgres_migrated_url, redis_url) as http:
        problems = await walk(http)
    assert not problems, "\n".join(problems)
