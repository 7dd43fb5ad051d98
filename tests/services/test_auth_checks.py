"""The auth checks one rule at a time: tokens and who they belong to (``services.auth``), and who
may register an agent under a name (``services.registry.identity.check_card``). The routes'
checks (``services.api.deps``) are driven through the embedded app. Fast and in-process, so
that mutation runs (bench/mutation, profile ``auth``) can use them."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bus.signing import (
    generate_keypair,
    public_key_to_str,
    registration_bytes,
    registration_proof,
    sign_bytes,
)
from services.api.app import create_app
from services.api.deps import _close
from services.auth import (
    Principal,
    PrincipalCache,
    authenticate,
    expired,
    new_token,
    token_hash,
)
from services.config import Settings
from services.db.models import SYSTEM_TENANT, AgentRow, ApiTokenRow, utcnow
from services.registry import store
from services.registry.identity import RegistrationRefused, check_card
from services.registry.schemas import AgentCard
from services.runtime import Runtime
from services.throttle import EPOCH, AuthThrottle, Limits, MemoryCounters
from tests.fixtures.errors import assert_error
from tests.fixtures.identity import keyed
from tests.fixtures.throttle import in_one_window

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
SKEW = 300.0


# -- tokens -------------------------------------------------------------------------------------


def test_a_token_is_random_prefixed_and_stored_as_its_sha256() -> None:
    first, second = new_token("modx"), new_token("modx")
    assert re.fullmatch(r"modx_[A-Za-z0-9_-]{43}", first) and first != second
    assert token_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_only_admins_of_the_system_tenant_or_the_admin_token_are_system_admins() -> None:
    assert Principal(tenant=SYSTEM_TENANT, role="admin", name="a").is_system
    assert Principal(tenant="team", role="viewer", name="a", system=True).is_system
    assert not Principal(tenant=SYSTEM_TENANT, role="operator", name="a").is_system
    assert not Principal(tenant="team", role="admin", name="a").is_system


def test_a_token_expires_at_its_expiry() -> None:
    assert not expired(None, NOW)
    assert expired(NOW, NOW)  # at the instant itself
    assert expired(NOW - timedelta(seconds=1), NOW)
    assert not expired(NOW + timedelta(seconds=1), NOW)
    # Without ``now``: the clock's.
    assert expired(utcnow() - timedelta(seconds=5))
    assert not expired(utcnow() + timedelta(seconds=60))


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    rt = await Runtime.open(Settings(data_dir=tmp_path), orchestrate=False)
    try:
        yield rt
    finally:
        await rt.close()


async def test_a_bearer_token_names_its_principal(runtime: Runtime) -> None:
    """Static tokens first, then agents' own tokens, then issued tokens that are neither
    revoked, expired nor of an unknown role; anything else is nobody."""
    static_one = Principal(tenant="default", role="operator", name="settings")
    static = {token_hash("from-settings"): static_one}
    card = card_of(transport="http")
    issued: dict[str, int] = {}
    async with runtime.sessions() as session, session.begin():
        agent, agent_token = await store.register_agent(session, card, lease_s=600)
        for name, role, expires, revoked in [
            ("live", "viewer", NOW + timedelta(days=3650), None),
            ("forever", "admin", None, None),
            ("revoked", "viewer", None, NOW),
            ("old", "viewer", NOW - timedelta(days=1), None),
            ("odd", "root", None, None),
        ]:
            row = ApiTokenRow(
                tenant="default",
                name=name,
                role=role,
                token_hash=token_hash(f"tok-{name}"),
                expires_at=expires,
                revoked_at=revoked,
            )
            session.add(row)
            await session.flush()
            issued[name] = row.id
    async with runtime.readers() as session:
        assert await authenticate(session, "from-settings", static) is static_one
        assert await authenticate(session, agent_token, static) == Principal(
            tenant=agent.tenant, role="agent", name="worker", agent_id=agent.id
        )
        assert await authenticate(session, "tok-live", static) == Principal(
            tenant="default", role="viewer", name="live", token_id=issued["live"]
        )
        forever = await authenticate(session, "tok-forever", {})
        assert forever is not None and forever.role == "admin" and forever.agent_id is None
        for nobody in ("tok-revoked", "tok-old", "tok-odd", "unknown", "from-settings"):
            assert await authenticate(session, nobody, {}) is None, nobody


# -- who may register under a name ----------------------------------------------------------------


def card_of(name: str = "worker", *, transport: str = "bus", **extra: Any) -> AgentCard:
    body: dict[str, Any] = {"name": name, "transport": transport, "capabilities": [{"name": "c"}]}
    if transport == "http":
        body["endpoint"] = "http://127.0.0.1:9/task"
    return AgentCard.model_validate({**body, **extra})


def refused(card: AgentCard, holders: list[AgentRow] | None = None, **options: Any) -> Any:
    """The refusal of ``card`` as (status, code, field, message), or None when it may register."""
    settings = {"now": NOW, "insecure": False, "clock_skew_s": SKEW, **options}
    try:
        check_card(card, holders or [], **settings)
    except RegistrationRefused as exc:
        assert str(exc) == exc.message
        return exc.status, exc.code, exc.field, exc.message
    return None


def proven(name: str = "worker", at: datetime = NOW, key: Any = None) -> dict[str, Any]:
    """A public key and a proof signed at ``at`` (ISO, as given)."""
    key = key or generate_keypair()[0]
    public = public_key_to_str(key.public_key())
    signed_at = at.isoformat()
    signature = sign_bytes(registration_bytes(name, public, signed_at), key)
    return {"public_key": public, "proof": {"signed_at": signed_at, "signature": signature}}


def holder(public_key: str | None) -> AgentRow:
    return AgentRow(id="a-1", name="worker", tenant="default", public_key=public_key)


def test_a_bus_agent_needs_a_key_unless_insecure() -> None:
    assert refused(card_of()) == (
        422,
        "invalid_request",
        "public_key",
        "a bus agent needs a public_key (its results are signed); the SDK makes one. "
        "MODX_INSECURE_AGENTS=1 lifts this for development only",
    )
    assert refused(card_of(), insecure=True) is None
    assert refused(card_of(transport="http")) is None  # its answers come over HTTP


def test_a_key_must_be_an_ed25519_key_and_a_proof_needs_one() -> None:
    status, code, field, message = refused(card_of(public_key="not-a-key"))
    assert (status, code, field) == (422, "invalid_request", "public_key")
    assert message.startswith("not an Ed25519 public key: ")
    without_key = card_of(transport="http", proof=proven()["proof"])
    assert refused(without_key) == (422, "invalid_request", "proof", "a proof needs a public_key")
    assert refused(card_of(**proven())) is None


def test_a_proof_is_signed_now_by_the_cards_key() -> None:
    bad_time = proven()
    bad_time["proof"]["signed_at"] = "yesterday"
    assert refused(card_of(**bad_time)) == (
        422,
        "invalid_request",
        "proof.signed_at",
        "not an ISO 8601 time",
    )
    # Within the skew, either side of the server's clock (the bound included); not beyond it.
    for seconds in (SKEW, -SKEW):
        assert refused(card_of(**proven(at=NOW + timedelta(seconds=seconds)))) is None
    for seconds in (SKEW + 1, -SKEW - 1):
        late = refused(card_of(**proven(at=NOW + timedelta(seconds=seconds))))
        assert late[:3] == (422, "invalid_request", "proof.signed_at")
        assert late[3] == "proof signed 301s from the server's clock (at most 300s)"
    # A time without a zone is UTC.
    naive = proven(at=NOW.replace(tzinfo=None) - timedelta(seconds=SKEW - 1))
    assert refused(card_of(**naive)) is None
    naive_late = proven(at=NOW.replace(tzinfo=None) + timedelta(hours=2))
    assert refused(card_of(**naive_late))[2] == "proof.signed_at"
    # Signed by another key, or for another name.
    forged = proven()
    forged["proof"]["signature"] = proven()["proof"]["signature"]
    assert refused(card_of(**forged)) == (
        401,
        "unauthorized",
        "proof",
        "the proof is not signed with the card's key",
    )
    assert refused(card_of("other", **proven("worker")))[:2] == (401, "unauthorized")


def test_a_live_name_is_taken_only_by_its_key_with_a_proof() -> None:
    key = generate_keypair()[0]
    mine = proven(key=key)
    public = mine["public_key"]
    assert refused(card_of(**mine), [holder(public)]) is None  # a restart
    assert refused(card_of(**mine), [holder(public), holder(public)]) is None  # one more
    taken = (409, "name_taken", "name")
    unproven = card_of(public_key=public)
    assert refused(unproven, [holder(public)])[:3] == taken
    assert refused(unproven, [holder(public)])[3] == (
        "agent name 'worker' is held by a live agent; only the holder of its key "
        "can register under it again (with a proof)"
    )
    assert refused(card_of(**proven()), [holder(public)])[:3] == taken  # another key
    other = public_key_to_str(generate_keypair()[1])
    assert refused(card_of(**mine), [holder(public), holder(other)])[:3] == taken
    assert refused(card_of(**mine), [holder(None)])[:3] == taken


def test_insecure_mode_leaves_only_keyless_names_unprotected() -> None:
    keyless = card_of(transport="http")
    assert refused(keyless, [holder(None)], insecure=True) is None
    assert refused(keyless, [holder(None)])[:3] == (409, "name_taken", "name")
    assert refused(card_of(), [holder(None)], insecure=True) is None
    key = public_key_to_str(generate_keypair()[1])
    assert refused(keyless, [holder(key)], insecure=True)[:3] == (409, "name_taken", "name")
    assert refused(keyless, [holder(None), holder(key)], insecure=True)[1] == "name_taken"
    # A keyed card, even unproven, does not take a keyless name in insecure mode.
    assert refused(card_of(public_key=key), [holder(None)], insecure=True)[1] == "name_taken"


def test_a_fresh_proof_of_the_sdk_passes() -> None:
    key = generate_keypair()[0]
    body = registration_proof("worker", key)
    assert refused(card_of(**body), now=datetime.now(UTC)) is None


# -- the routes' checks -----------------------------------------------------------------------------

OPERATOR_TOKEN = "deps-operator-token-0123456789"
ADMIN_TOKEN = "deps-admin-token-0123456789abc"


@contextlib.asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    """The embedded app over ASGI (no default token), and its runtime."""
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://modx") as http,
    ):
        yield http, app.state.runtime


def agent_card(name: str) -> dict[str, Any]:
    """A bus agent's card with its key, as the SDK sends it."""
    return keyed({"name": name, "capabilities": [{"name": "c"}]})


def unauthorized(response: httpx.Response, message: str) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert_error(response, 401, "unauthorized")
    assert response.json()["error"]["message"] == message


def forbidden(response: httpx.Response, message: str) -> None:
    assert_error(response, 403, "forbidden")
    assert response.json()["error"]["message"] == message


async def test_a_route_wants_a_bearer_token_of_a_role_it_allows(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        api_token=OPERATOR_TOKEN,
        admin_token=ADMIN_TOKEN,
        token_last_used_flush_s=3600,
    )
    async with served(settings) as (http, runtime):
        unauthorized(await http.get("/v1/runs"), "missing bearer token")  # no header at all
        no_auth = {"authorization": ""}
        unauthorized(await http.get("/v1/runs", headers=no_auth), "missing bearer token")
        for header in ("Basic " + OPERATOR_TOKEN, "Bearer", "Bearer    ", OPERATOR_TOKEN):
            response = await http.get("/v1/runs", headers={"authorization": header})
            unauthorized(response, "missing bearer token")
        wrong = await http.get("/v1/runs", headers={"authorization": "Bearer nope"})
        unauthorized(wrong, "invalid token")
        # The scheme in any case, the token with spaces around it.
        for header in (f"bearer {OPERATOR_TOKEN}", f"BEARER  {OPERATOR_TOKEN} "):
            response = await http.get("/v1/runs", headers={"authorization": header})
            assert response.status_code == 200, header
        operator = {"authorization": f"Bearer {OPERATOR_TOKEN}"}
        admin = {"authorization": f"Bearer {ADMIN_TOKEN}"}
        forbidden(
            await http.post("/v1/tokens", json={"role": "viewer"}, headers=operator),
            "this needs an admin token",
        )
        forbidden(
            await http.post("/v1/tenants", json={"name": "t-1"}, headers=operator),
            "this needs a system admin token",
        )
        assert (await http.post("/v1/tenants", json={"name": "t-1"}, headers=admin)).is_success
        viewer = await http.post("/v1/tokens", json={"role": "viewer"}, headers=admin)
        as_viewer = {"authorization": f"Bearer {viewer.json()['token']}"}
        assert await runtime.last_used.flush(runtime.sessions) == 0  # static tokens: none
        assert (await http.get("/v1/runs", headers=as_viewer)).status_code == 200
        assert await runtime.last_used.flush(runtime.sessions) == 1  # an issued one's use
        forbidden(
            await http.post("/v1/agents", json=agent_card("v"), headers=as_viewer),
            "this needs an operator, admin or agent token",
        )
        forbidden(
            await http.post("/v1/workflows", json={}, headers=as_viewer),
            "this needs an operator or admin token",
        )
        # An agent's own token acts on its own tasks only, not as a registrar or a reader.
        made = await http.post("/v1/agents", json=agent_card("w"), headers=operator)
        assert made.status_code == 201, made.text
        agent_id, own = made.json()["agent_id"], {"authorization": f"Bearer {made.json()['token']}"}
        assert (await http.post(f"/v1/agents/{agent_id}/heartbeat", headers=own)).is_success
        forbidden(
            await http.post(f"/v1/agents/{agent_id}/heartbeat", headers=operator),
            "this needs an agent token",
        )
        forbidden(
            await http.post("/v1/agents", json=agent_card("x"), headers=own),
            "this needs an operator, admin or agent token",
        )
        forbidden(
            await http.get("/v1/runs", headers=own), "this needs a viewer, operator or admin token"
        )
        # An issued agent token (no agent's own) registers agents, and is no agent itself.
        issued = await http.post("/v1/tokens", json={"role": "agent"}, headers=admin)
        registrar = {"authorization": f"Bearer {issued.json()['token']}"}
        assert (await http.post("/v1/agents", json=agent_card("y"), headers=registrar)).is_success
        forbidden(
            await http.post(f"/v1/agents/{agent_id}/heartbeat", headers=registrar),
            "this needs an agent token",
        )


async def test_failed_token_checks_are_throttled_per_address(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, api_token=OPERATOR_TOKEN, auth_fail_per_address=3, auth_fail_window_s=600
    )
    async with served(settings) as (http, runtime):
        in_one_window(runtime)
        guess = {"authorization": "Bearer guess"}
        good = {"authorization": f"Bearer {OPERATOR_TOKEN}"}
        for _ in range(2):
            unauthorized(await http.get("/v1/runs", headers=guess), "invalid token")
        # A good token resets nothing it should not, and is served meanwhile.
        assert (await http.get("/v1/runs", headers=good)).status_code == 200
        third = await http.get("/v1/runs", headers=guess)  # the failure that reaches the limit
        assert_error(third, 429, "too_many_requests")
        retry_after = int(third.headers["retry-after"])
        assert 0 < retry_after <= 600
        assert f"try again in {retry_after} s" in third.json()["error"]["message"]
        # Now even the good token from that address waits.
        blocked = await http.get("/v1/runs", headers=good)
        assert_error(blocked, 429, "too_many_requests")
        assert 0 < int(blocked.headers["retry-after"]) <= retry_after


async def test_throttling_is_per_address_and_a_caller_without_one_is_served(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path, api_token=OPERATOR_TOKEN, auth_fail_per_address=2)
    good = {"authorization": f"Bearer {OPERATOR_TOKEN}"}
    app = create_app(settings)

    def calling_from(client: tuple[str, int] | None) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=client)  # type: ignore[arg-type]
        return httpx.AsyncClient(transport=transport, base_url="http://modx")

    async with (
        app.router.lifespan_context(app),
        calling_from(("10.0.0.1", 1)) as guesser,
        calling_from(("10.0.0.2", 1)) as other,
        calling_from(None) as nowhere,
    ):
        in_one_window(app.state.runtime)
        for _ in range(2):
            await guesser.get("/v1/runs", headers={"authorization": "Bearer guess"})
        assert_error(await guesser.get("/v1/runs", headers=good), 429, "too_many_requests")
        assert (await other.get("/v1/runs", headers=good)).status_code == 200
        # No client address (a Unix socket): one shared bucket, still served.
        assert (await nowhere.get("/v1/runs", headers=good)).status_code == 200


async def test_an_address_that_authenticated_stays_served_through_a_lock_down(
    tmp_path: Path,
) -> None:
    settings = Settings(
        data_dir=tmp_path, api_token=OPERATOR_TOKEN, auth_fail_per_address=50, auth_fail_overall=2
    )
    good = {"authorization": f"Bearer {OPERATOR_TOKEN}"}
    app = create_app(settings)

    def calling_from(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 1))
        return httpx.AsyncClient(transport=transport, base_url="http://modx")

    async with (
        app.router.lifespan_context(app),
        calling_from("10.0.0.1") as worker,
        calling_from("10.0.0.2") as guesser,
        calling_from("10.0.0.3") as newcomer,
    ):
        in_one_window(app.state.runtime)
        assert (await worker.get("/v1/runs", headers=good)).status_code == 200
        for _ in range(2):  # spread-out guessing reaches the overall limit
            await guesser.get("/v1/runs", headers={"authorization": "Bearer guess"})
        assert_error(await newcomer.get("/v1/runs", headers=good), 429, "too_many_requests")
        assert (await worker.get("/v1/runs", headers=good)).status_code == 200


class _Closing:
    """A request's session whose close raises ``error`` (the connection went away, or a bug)."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def close(self) -> None:
        raise self.error


async def test_a_session_that_cannot_close_because_the_database_went_away_is_let_go() -> None:
    """The answer has started when a request's session closes: a dropped connection must not
    raise there (the client's connection would drop too); a bug still does."""
    await _close(_Closing(ConnectionResetError("reset by peer")))  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="bug"):
        await _close(_Closing(RuntimeError("bug")))  # type: ignore[arg-type]


# -- the cache of issued tokens' principals -------------------------------------------------------


def test_a_cached_principal_holds_while_its_epoch_its_age_and_its_token_do() -> None:
    clock = [100.0]
    cache = PrincipalCache(30.0, size=3, clock=lambda: clock[0])
    issued = Principal(tenant="default", role="viewer", name="t", token_id=7)
    cache.put("d1", 5, issued, None)
    assert cache.get("d1", 5) is issued
    assert cache.get("d1", 6) is None  # another epoch: a token changed somewhere
    assert cache.get("d1", 5) is None  # and the entry is gone, not only skipped
    cache.put("d1", 5, issued, None)
    clock[0] += 29.9
    assert cache.get("d1", 5) is issued
    clock[0] += 0.1
    assert cache.get("d1", 5) is None  # at max_age_s, read again
    cache.put("d2", 5, issued, utcnow() + timedelta(seconds=60))
    assert cache.get("d2", 5) is issued
    cache.put("d3", 5, issued, utcnow() - timedelta(seconds=1))
    assert cache.get("d3", 5) is None  # the token's own expiry passed
    # Not cached: without an epoch, an agent's token, or with the cache off.
    cache.put("d4", 0, issued, None)
    agent = Principal(tenant="default", role="agent", name="a", agent_id="a1")
    cache.put("d5", 5, agent, None)
    off = PrincipalCache(0.0)
    off.put("d6", 5, issued, None)
    assert (cache.get("d4", 0), cache.get("d5", 5), off.get("d6", 5)) == (None, None, None)
    # Full: it starts again rather than growing.
    for digest in ("e1", "e2", "e3", "e4"):
        cache.put(digest, 5, issued, None)
    assert cache.get("e4", 5) is issued and cache.get("d2", 5) is None
    cache.clear()
    assert cache.get("e4", 5) is None


async def test_the_token_epoch_starts_at_random_and_moves_at_each_change() -> None:
    counters = MemoryCounters()
    throttle = AuthThrottle(counters, Limits())
    assert (await throttle.check("10.0.0.1"))[1] == 0  # not set yet: set by that check
    first = (await throttle.check("10.0.0.1"))[1]
    assert first > 1
    await throttle.tokens_changed()
    assert (await throttle.check("10.0.0.1"))[1] == first + 1
    # A change after the epoch was lost (Redis lost its data) starts a new random one, so an
    # epoch a replica cached under cannot come back.
    fresh = MemoryCounters()
    await fresh.bump(EPOCH)
    assert (await fresh.read([EPOCH]))[0] not in (0, 1)
