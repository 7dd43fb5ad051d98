"""Jinja2 environment of the dashboard: templates, static files, and display filters."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from services.runtime import INSECURE_WARNING

HERE = Path(__file__).parent
STATIC = HERE / "static"

SECURITY_HEADERS = {
    # Scripts only from our own static files: payloads shown on pages can never run.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def static_files() -> dict[str, Path]:
    """Files served under ``/dashboard/static/`` (vendor files included), by URL name."""
    return {
        path.relative_to(STATIC).as_posix(): path
        for path in STATIC.rglob("*")
        if path.is_file()
        and (path.suffix in (".css", ".js", ".svg", ".txt") or path.name == "LICENSE")
    }


def _fingerprints() -> dict[str, str]:
    return {
        name: hashlib.sha256(path.read_bytes()).hexdigest()[:10]
        for name, path in static_files().items()
    }


_VERSIONS = _fingerprints()


def static_url(name: str) -> str:
    """URL of a static file, with a content hash so browsers may cache it for long."""
    return f"/dashboard/static/{name}?v={_VERSIONS.get(name, '0')}"


def fmt_time(value: datetime | None) -> str:
    """A UTC timestamp to the second."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def fmt_clock(value: datetime | None) -> str:
    """Time of day with milliseconds, for traces."""
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%H:%M:%S.%f")[:-3]


def fmt_duration(value: timedelta | float | None) -> str:
    """A duration in the unit that reads best (ms, s, min, h)."""
    if value is None:
        return "—"
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60)} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"


def span(start: datetime | None, end: datetime | None, now: datetime | None = None) -> str:
    """How long from ``start`` to ``end`` (or to now, while it runs)."""
    if start is None:
        return "—"
    return fmt_duration((end or now or datetime.now(UTC)) - start)


def fmt_bytes(value: int | None) -> str:
    """A size in B, KB or MB."""
    if value is None:
        return "—"
    if value < 1024:
        return f"{value} B"
    if value < 1024 * 1024:
        return f"{value / 1024:.1f} KB"
    return f"{value / 1024 / 1024:.1f} MB"


def pretty(value: Any) -> str:
    """JSON, indented, for <pre> blocks."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


def short(value: str | None, length: int = 8) -> str:
    """The tail of an id (UUIDv7 heads are timestamps, so the tail is what differs)."""
    if not value:
        return "—"
    return value[-length:]


def pct(value: float | None) -> str:
    """A ratio as a percentage."""
    return "—" if value is None else f"{value * 100:.1f} %"


templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["static"] = static_url
templates.env.filters.update(
    time=fmt_time,
    clock=fmt_clock,
    duration=fmt_duration,
    bytes=fmt_bytes,
    pretty=pretty,
    short=short,
    pct=pct,
)
templates.env.globals["span"] = span
templates.env.globals["now"] = lambda: datetime.now(UTC)


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """A page with the dashboard's security headers, the tenant it shows, and the insecure-mode
    warning when that is on."""
    from services.dashboard.auth import viewed_tenant

    context = {"tenant_view": viewed_tenant(request), **context}
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is not None and runtime.settings.insecure_agents:
        context = {**context, "insecure_warning": INSECURE_WARNING}
    return templates.TemplateResponse(
        request, name, context, status_code=status_code, headers=SECURITY_HEADERS
    )
