"""Logging in and out, and the operator's actions: cancel, retry, signal, replay, discard.

Actions answer JSON to the page's script (which asked for a confirmation first); they call
the same orchestrator and transport functions as the REST API.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from bus.errors import DeadLetterNotFoundError
from services.api.deps import RuntimeDep, client_address, too_many
from services.api.errors import ApiError, not_found
from services.api.routes.runs import deliver_signal
from services.dashboard import auth
from services.dashboard.auth import ActionAuth
from services.dashboard.templating import SECURITY_HEADERS, render
from services.orchestrator import runs
from services.orchestrator.definitions import SIGNAL_PATTERN
from services.orchestrator.service import RunNotRetryable
from services.tokens import TENANT_PATTERN

router = APIRouter(prefix="/dashboard", include_in_schema=False)

FAILED_LOGIN_DELAY_S = 0.5
"""Slows down guessing; the admin token is long enough that this is belt and braces."""


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str = "") -> Response:
    """The login form (or straight on, with a valid session)."""
    target = auth.safe_next(next)
    if auth.logged_in(request):
        return RedirectResponse(target, status_code=303)
    enabled = auth.admin_token_of(request) is not None
    return render(request, "login.html", {"next": target, "error": None, "enabled": enabled})


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, runtime: RuntimeDep) -> Response:
    """Check the admin token; on success set the session cookie and go on.

    Failed logins count against the same throttle as failed API tokens (429 past it)."""
    auth.check_origin(request)
    address = client_address(request)
    retry_after = await runtime.throttle.blocked(address)
    if retry_after is not None:
        raise too_many(retry_after)
    form = parse_qs((await request.body()).decode("utf-8", errors="replace"))
    token = (form.get("token") or [""])[0].strip()
    target = auth.safe_next((form.get("next") or [""])[0])
    admin_token = auth.admin_token_of(request)
    if admin_token is None or not auth.token_matches(admin_token, token):
        retry_after = await runtime.throttle.failed(address)
        if retry_after is not None:
            raise too_many(retry_after)
        await asyncio.sleep(FAILED_LOGIN_DELAY_S)
        context = {
            "next": target,
            "error": "That is not the admin token." if admin_token else None,
            "enabled": admin_token is not None,
        }
        return render(request, "login.html", context, status_code=401)
    await runtime.throttle.succeeded(address)
    response = RedirectResponse(target, status_code=303, headers=SECURITY_HEADERS)
    auth.set_cookie(response, auth.issue(admin_token))
    return response


@router.post("/tenant")
async def choose_tenant(request: Request, _: ActionAuth) -> Response:
    """Show one tenant from now on (an empty name: the system view, every tenant)."""
    form = parse_qs((await request.body()).decode("utf-8", errors="replace"))
    tenant = (form.get("tenant") or [""])[0].strip() or None
    if tenant is not None and re.match(TENANT_PATTERN, tenant) is None:
        raise ApiError(422, "invalid_request", f"$.tenant: tenant names match {TENANT_PATTERN}")
    response = RedirectResponse(auth.safe_next((form.get("next") or [""])[0]), status_code=303)
    auth.set_tenant_cookie(response, tenant)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """Clear the session cookie and show the login page."""
    auth.check_origin(request)
    response = RedirectResponse(auth.LOGIN, status_code=303)
    auth.clear_cookie(response)
    return response


@router.post("/runs/{run_id}/cancel")
async def cancel(
    run_id: str, request: Request, _: ActionAuth, runtime: RuntimeDep
) -> dict[str, Any]:
    """Cancel a run that has not ended (409 when it has)."""
    async with runtime.readers() as session:
        if await runs.get_run(session, run_id, auth.viewed_tenant(request)) is None:
            raise not_found("run", run_id)
    cancelled = await runtime.orchestrator.cancel_run(run_id, "cancelled from the dashboard")
    async with runtime.readers() as session:
        run = await runs.get_run(session, run_id)
    status = run.status if run is not None else "unknown"
    if not cancelled:
        raise ApiError(409, "run_finished", f"run {run_id} has already ended ({status})")
    return {"run_id": run_id, "status": status}


@router.post("/runs/{run_id}/retry")
async def retry(
    run_id: str, request: Request, _: ActionAuth, runtime: RuntimeDep
) -> dict[str, Any]:
    """Start a new run from the failed step (succeeded steps are reused); answers its id."""
    async with runtime.readers() as session:
        if await runs.get_run(session, run_id, auth.viewed_tenant(request)) is None:
            raise not_found("run", run_id)
    try:
        run = await runtime.orchestrator.retry_run(run_id)
    except LookupError:
        raise ApiError(404, "not_found", f"run {run_id!r} does not exist") from None
    except RunNotRetryable as exc:
        raise ApiError(409, "run_not_retryable", str(exc)) from None
    return {"run_id": run.id, "status": run.status, "retry_of": run_id}


class SignalForm(BaseModel):
    """The waiting step's form: approve or reject, with a comment; or the answer to a remote
    agent's question (``text``)."""

    ok: bool | None = None
    comment: str = Field(default="", max_length=10_000)
    text: str | None = Field(default=None, max_length=100_000)


@router.post("/runs/{run_id}/signals/{name}")
async def signal(
    run_id: str, name: str, form: SignalForm, request: Request, _: ActionAuth, runtime: RuntimeDep
) -> dict[str, Any]:
    """Send the signal a step waits for: ``{"ok", "comment"}`` (the comment left out when
    empty), or an agent's answer ``{"text"}``, from ``dashboard``; refusals as the REST API
    answers them."""
    if re.match(SIGNAL_PATTERN, name) is None:
        raise ApiError(422, "invalid_request", f"$.name: signal names match {SIGNAL_PATTERN}")
    async with runtime.readers() as session:
        if await runs.get_run(session, run_id, auth.viewed_tenant(request)) is None:
            raise not_found("run", run_id)
    body: dict[str, Any]
    if form.text is not None:
        body = {"text": form.text}  # an answer (``services.orchestrator.conversation``)
    elif form.ok is None:
        raise ApiError(422, "invalid_request", "$.ok: approve or reject (or answer with text)")
    else:
        body = {"ok": form.ok, "comment": form.comment} if form.comment else {"ok": form.ok}
    accepted = await deliver_signal(runtime, run_id, name, body, "dashboard")
    return accepted.model_dump()


class DeadLetterRef(BaseModel):
    """Which dead letter an action is about."""

    stream: str = Field(min_length=1, max_length=300)
    id: str = Field(min_length=1, max_length=100)


@router.post("/dead-letters/replay")
async def replay(ref: DeadLetterRef, _: ActionAuth, runtime: RuntimeDep) -> dict[str, Any]:
    """Publish a dead letter to its stream again (and take it off the DLQ)."""
    try:
        entry = await runtime.transport.replay_dead_letter(ref.stream, ref.id)
    except DeadLetterNotFoundError:
        raise not_found("dead letter", f"{ref.stream}/{ref.id}") from None
    return {"stream": ref.stream, "id": ref.id, "replayed_as": entry}


@router.post("/dead-letters/discard")
async def discard(ref: DeadLetterRef, _: ActionAuth, runtime: RuntimeDep) -> dict[str, Any]:
    """Drop a dead letter for good."""
    if not await runtime.transport.discard_dead_letter(ref.stream, ref.id):
        raise not_found("dead letter", f"{ref.stream}/{ref.id}")
    return {"stream": ref.stream, "id": ref.id, "discarded": True}
