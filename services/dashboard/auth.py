"""Dashboard sessions: a signed, expiring cookie issued for the admin token.

The browser never stores the admin token. Logging in with it yields a cookie
``v1.<expires>.<nonce>.<mac>``, where the MAC is HMAC-SHA256 under a key derived (HKDF) from the
admin token, so rotating the token invalidates every session at once and a forged or expired
cookie is refused. The cookie is ``Secure; HttpOnly; SameSite=Strict`` and scoped to
``/dashboard``: scripts cannot read it and cross-site requests do not carry it.

Pages answer a redirect to the login page without a valid session; SSE streams, JSON endpoints
and actions answer 401.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from functools import lru_cache
from typing import Annotated
from urllib.parse import quote, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import Depends, Request, Response

from services.api.errors import ApiError
from services.tokens import TENANT_PATTERN

COOKIE = "modx_dashboard"
PATH = "/dashboard"
LOGIN = "/dashboard/login"
SESSION_S = 8 * 3600
"""A working day: long enough not to nag an operator, short enough that a stolen cookie expires."""

_VERSION = "v1"


@lru_cache(maxsize=4)
def _key(admin_token: str) -> bytes:
    # A derived key (not the token itself) signs cookies, so a leaked MAC key is not a token.
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"modx-dashboard", info=b"session-cookie-v1"
    ).derive(admin_token.encode())


def _mac(admin_token: str, body: str) -> str:
    digest = hmac.new(_key(admin_token), body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issue(admin_token: str, now: float | None = None, ttl_s: int = SESSION_S) -> str:
    """A fresh session value that expires ``ttl_s`` seconds from ``now``."""
    expires = int((time.time() if now is None else now) + ttl_s)
    body = f"{_VERSION}.{expires}.{secrets.token_urlsafe(12)}"
    return f"{body}.{_mac(admin_token, body)}"


def verify(admin_token: str | None, value: str | None, now: float | None = None) -> bool:
    """True when ``value`` was issued for ``admin_token`` and has not expired."""
    if not admin_token or not value:
        return False
    body, _, mac = value.rpartition(".")
    parts = body.split(".")
    if len(parts) != 3 or parts[0] != _VERSION or not parts[1].isdigit():
        return False
    if not hmac.compare_digest(mac, _mac(admin_token, body)):
        return False
    return int(parts[1]) > (time.time() if now is None else now)


def token_matches(admin_token: str | None, given: str) -> bool:
    """Constant-time check of a login attempt against the admin token."""
    if not admin_token:
        return False
    return hmac.compare_digest(
        hashlib.sha256(given.encode()).digest(), hashlib.sha256(admin_token.encode()).digest()
    )


def set_cookie(response: Response, value: str) -> None:
    """Attach the session cookie."""
    response.set_cookie(
        COOKIE,
        value,
        max_age=SESSION_S,
        path=PATH,
        secure=True,
        httponly=True,
        samesite="strict",
    )


def clear_cookie(response: Response) -> None:
    """Remove the session cookie."""
    response.delete_cookie(COOKIE, path=PATH, secure=True, httponly=True, samesite="strict")


def admin_token_of(request: Request) -> str | None:
    """The configured admin token (None: the dashboard cannot be logged into)."""
    token: str | None = request.app.state.settings.admin_token
    return token


def logged_in(request: Request) -> bool:
    """True when the request carries a valid session cookie."""
    return verify(admin_token_of(request), request.cookies.get(COOKIE))


def safe_next(target: str | None) -> str:
    """Where to go after logging in: only a dashboard path, never another site."""
    if not target:
        return PATH
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or target.startswith("//"):
        return PATH
    if parts.path != PATH and not parts.path.startswith(PATH + "/"):
        return PATH
    return target


async def require_page(request: Request) -> None:
    """Pages: without a session, redirect (303) to the login page, coming back afterwards."""
    if logged_in(request):
        return
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = f"{LOGIN}?next={quote(target, safe='')}"
    raise ApiError(303, "login_required", "log in to the dashboard", headers={"Location": location})


async def require_api(request: Request) -> None:
    """Streams, JSON endpoints and actions: 401 without a session."""
    if not logged_in(request):
        raise ApiError(401, "unauthorized", "dashboard session missing, invalid or expired")


async def require_action(request: Request) -> None:
    """State-changing requests: a session, and a same-origin caller.

    SameSite=Strict already keeps the cookie off cross-site requests; checking ``Origin`` as
    well covers old browsers and same-site (sibling subdomain) attackers.
    """
    await require_api(request)
    check_origin(request)


def check_origin(request: Request) -> None:
    """403 unless the request comes from a page of this site (or from no page at all)."""
    origin = request.headers.get("origin")
    # Hosts only: behind a TLS-terminating proxy the scheme seen here is http.
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise ApiError(403, "forbidden", "cross-origin request refused")
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise ApiError(403, "forbidden", "cross-site request refused")


TENANT_COOKIE = "modx_dashboard_tenant"
_TENANT = re.compile(TENANT_PATTERN)


def viewed_tenant(request: Request) -> str | None:
    """The tenant the dashboard shows (one at a time), or None for the system view (all)."""
    value = request.cookies.get(TENANT_COOKIE, "")
    return value if _TENANT.match(value) else None


def set_tenant_cookie(response: Response, tenant: str | None) -> None:
    """Show ``tenant`` from now on (None: the system view)."""
    if tenant is None:
        response.delete_cookie(TENANT_COOKIE, path=PATH, secure=True, samesite="strict")
        return
    response.set_cookie(
        TENANT_COOKIE, tenant, max_age=SESSION_S, path=PATH, secure=True, samesite="strict"
    )


PageAuth = Annotated[None, Depends(require_page)]
ApiAuth = Annotated[None, Depends(require_api)]
ActionAuth = Annotated[None, Depends(require_action)]
