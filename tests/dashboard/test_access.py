"""Without a valid session, every dashboard page redirects to the login page and every stream,
fragment and action answers 401: no cookie, a forged one, an expired one, one for another token."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.config import Settings
from services.dashboard import actions, auth, live, pages
from tests.fixtures.errors import assert_error
from tests.fixtures.stack import ADMIN, TOKEN

RUN = "01a20000-0000-7000-8000-000000000000"
PAGES = [
    "/dashboard",
    "/dashboard/agents",
    "/dashboard/runs",
    "/dashboard/runs?status=failed",
    f"/dashboard/runs/{RUN}",
    "/dashboard/dead-letters",
]
STREAMS_AND_DATA = [
    ("GET", "/dashboard/live/runs"),
    ("GET", f"/dashboard/live/runs/{RUN}"),
    ("GET", f"/dashboard/runs/{RUN}/fragments"),
]
ACTIONS = [
    ("POST", f"/dashboard/runs/{RUN}/cancel"),
    ("POST", f"/dashboard/runs/{RUN}/retry"),
    ("POST", f"/dashboard/runs/{RUN}/signals/approval"),
    ("POST", "/dashboard/dead-letters/replay"),
    ("POST", "/dashboard/dead-letters/discard"),
    ("POST", "/dashboard/tenant"),
]
PUBLIC = {"/dashboard/login", "/dashboard/logout", "/dashboard/static/{name:path}"}


def _cookies() -> dict[str, str | None]:
    other = "another-admin-token-0123456789"
    good = auth.issue(ADMIN)
    body, _, mac = good.rpartition(".")
    version, expires, nonce = body.split(".")
    return {
        "none": None,
        "garbage": "not-a-session",
        "raw admin token": ADMIN,
        "other token": auth.issue(other),
        "expired": auth.issue(ADMIN, now=time.time() - auth.SESSION_S - 60),
        "tampered expiry": f"{version}.{int(expires) + 86400}.{nonce}.{mac}",
        "bad mac": f"{body}.{mac[:-2]}AA",
    }


COOKIES = _cookies()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app (lifespan run) without a server; redirects are not followed."""
    data = Path(tmp_path_factory.mktemp("access"))
    settings = Settings(data_dir=data, api_token=TOKEN, admin_token=ADMIN)
    with TestClient(create_app(settings, orchestrate=False), follow_redirects=False) as test:
        yield test


def _headers(cookie: str | None) -> dict[str, str]:
    return {} if cookie is None else {"cookie": f"{auth.COOKIE}={cookie}"}


@pytest.mark.parametrize("cookie", list(COOKIES), ids=list(COOKIES))
@pytest.mark.parametrize("path", PAGES)
def test_pages_redirect_to_login(client: TestClient, path: str, cookie: str) -> None:
    response = client.get(path, headers=_headers(COOKIES[cookie]))
    assert response.status_code == 303
    location = response.headers["location"]
    assert location.startswith("/dashboard/login?next=")
    assert unquote(location.split("next=", 1)[1]) == path  # back here after logging in


@pytest.mark.parametrize("cookie", list(COOKIES), ids=list(COOKIES))
@pytest.mark.parametrize(("method", "path"), STREAMS_AND_DATA + ACTIONS)
def test_streams_data_and_actions_answer_401(
    client: TestClient, method: str, path: str, cookie: str
) -> None:
    response = client.request(
        method, path, headers=_headers(COOKIES[cookie]), json={"stream": "s", "id": "1"}
    )
    assert_error(response, 401, "unauthorized")


def test_every_dashboard_route_is_covered() -> None:
    covered = {p.split("?")[0] for p in PAGES} | {p for _, p in STREAMS_AND_DATA + ACTIONS}
    routes = {
        route.path.replace("{run_id}", RUN).replace("{name}", "approval")
        for module in (actions, live, pages)
        for route in module.router.routes
        if isinstance(route, APIRoute)
    }
    assert routes - PUBLIC == covered


def test_a_valid_session_opens_everything(client: TestClient) -> None:
    headers = _headers(auth.issue(ADMIN))
    for path in PAGES:
        expected = 404 if RUN in path else 200  # the run does not exist: a proper 404 page
        response = client.get(path, headers=headers)
        assert response.status_code == expected, path
        assert "text/html" in response.headers["content-type"]
        assert "default-src 'self'" in response.headers["content-security-policy"]


def test_login_sets_a_signed_secure_cookie_and_logout_clears_it(client: TestClient) -> None:
    wrong = client.post(
        "/dashboard/login",
        content="token=nope&next=/dashboard/runs",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
    right = client.post(
        "/dashboard/login",
        content=f"token={ADMIN}&next=/dashboard/runs",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert right.status_code == 303 and right.headers["location"] == "/dashboard/runs"
    cookie = right.headers["set-cookie"]
    value = cookie.split(";")[0].split("=", 1)[1]
    assert ADMIN not in cookie and auth.verify(ADMIN, value)
    for attribute in ("Secure", "HttpOnly", "SameSite=strict", "Path=/dashboard"):
        assert attribute.lower() in cookie.lower()
    out = client.post("/dashboard/logout")
    assert out.status_code == 303 and out.headers["location"] == "/dashboard/login"
    assert (
        'modx_dashboard=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
    )


def test_login_never_sends_you_to_another_site(client: TestClient) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "/v1/runs", "/\\evil.example"):
        response = client.post(
            "/dashboard/login",
            content=f"token={ADMIN}&next={target}",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert response.headers["location"] == "/dashboard", target


def test_actions_refuse_other_origins(client: TestClient) -> None:
    headers = {**_headers(auth.issue(ADMIN)), "origin": "https://evil.example"}
    response = client.post(f"/dashboard/runs/{RUN}/cancel", headers=headers)
    assert_error(response, 403)


def test_static_files_are_public(client: TestClient) -> None:
    assert client.get("/dashboard/static/dashboard.css").status_code == 200
    assert client.get("/dashboard/static/../templating.py").status_code == 404
