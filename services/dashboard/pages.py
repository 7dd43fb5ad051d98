"""The dashboard's HTML pages: overview, agents, runs, one run, dead letters."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from bus.transport import DeadLetter
from services.api.deps import RuntimeDep
from services.api.errors import not_found
from services.dashboard import charts, detail, queries
from services.dashboard.auth import PageAuth, viewed_tenant
from services.dashboard.templating import render, static_files
from services.db.models import utcnow
from services.orchestrator import runs
from services.orchestrator.states import RunState
from services.runtime import Runtime

router = APIRouter(prefix="/dashboard", include_in_schema=False)

PAGE_SIZE = 50
RANGES = {
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "24h": timedelta(days=1),
    "7d": timedelta(days=7),
}


@router.get("/static/{name:path}")
async def static(name: str) -> Response:
    """CSS and JS (public: the login page needs them, and they hold nothing secret)."""
    path = static_files().get(name)
    if path is None:
        raise not_found("file", name)
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})


@router.get("", response_class=HTMLResponse)
async def overview(
    request: Request, _: PageAuth, runtime: RuntimeDep, window: str = "1h"
) -> Response:
    """Runs by status over time, throughput, agents, dead letters, slowest capabilities."""
    chosen = queries.WINDOWS.get(window, queries.WINDOWS["1h"])
    now = utcnow()
    tenant = viewed_tenant(request)
    async with runtime.readers() as session:
        series = await queries.runs_over_time(session, chosen, now, tenant)
        statuses = await queries.run_status_counts(session, tenant)
        finished = await queries.steps_finished_since(session, now - timedelta(seconds=60))
        agents = await queries.agent_status_counts(session, tenant)
        slowest = await queries.capability_latencies(session)
    dlq = await runtime.transport.dlq_streams()
    return render(
        request,
        "overview.html",
        {
            "page": "overview",
            "chart": charts.status_chart(series),
            "window": chosen,
            "windows": queries.WINDOWS,
            "statuses": statuses,
            "total_runs": sum(statuses.values()),
            "steps_per_s": finished / 60,
            "steps_last_minute": finished,
            "agents": agents,
            "dlq": dlq,
            "dlq_total": sum(dlq.values()),
            "slowest": slowest,
            "legend": charts.STACK_ORDER,
        },
    )


@router.get("/agents", response_class=HTMLResponse)
async def agents(request: Request, _: PageAuth, runtime: RuntimeDep) -> Response:
    """Agents with capabilities, schemas, concepts, liveness, load and error rate."""
    async with runtime.readers() as session:
        views = await queries.agent_views(session, viewed_tenant(request))
    return render(request, "agents.html", {"page": "agents", "agents": views, "now": utcnow()})


@dataclass(frozen=True)
class RunQuery:
    """The run list's filters as the page's form sends them."""

    status: str = ""
    workflow: str = ""
    agent: str = ""
    range: str = ""
    since: str = ""
    until: str = ""
    id: str = ""
    cursor: str = ""
    tenant: str | None = None  # from the tenant cookie, not the form

    def filter(self, now: datetime) -> runs.RunFilter:
        """The data function's filter (bad values are ignored, not errors: it is a UI)."""
        after = _parse_local(self.since)
        if self.range in RANGES:
            after = now - RANGES[self.range]
        return runs.RunFilter(
            tenant=self.tenant,
            status=self.status if self.status in set(RunState) else None,
            workflow=self.workflow or None,
            agent_id=self.agent or None,
            created_after=after,
            created_before=_parse_local(self.until),
            id_prefix=self.id.strip()[:36] or None,
        )

    def params(self, **change: str) -> dict[str, str]:
        """The non-empty query parameters, with some changed."""
        values = {**self.__dict__, **change}
        return {k: v for k, v in values.items() if v and k != "tenant"}


def _parse_local(text: str) -> datetime | None:
    # ISO text (YYYY-MM-DD[ HH:MM[:SS]]), not the browser's locale date picker: the form says
    # the times are UTC, so a time without a zone is UTC.
    try:
        value = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _total_label(counts: dict[str, int], cap: int) -> str:
    total = sum(min(n, cap) for n in counts.values())
    return f"{total:,}+" if any(n > cap for n in counts.values()) else f"{total:,}"


def run_query(request: Request) -> RunQuery:
    """Filters from the query string."""
    fields = set(RunQuery.__dataclass_fields__) - {"tenant"}
    given = {k: v for k, v in request.query_params.items() if k in fields}
    return RunQuery(**given, tenant=viewed_tenant(request))


@router.get("/runs", response_class=HTMLResponse)
async def runs_page(request: Request, _: PageAuth, runtime: RuntimeDep) -> Response:
    """Runs, newest first, filtered, one keyset page at a time."""
    query = run_query(request)
    now = utcnow()
    problem = None
    async with runtime.readers() as session:
        try:
            page, next_cursor = await queries.list_runs(
                session, query.filter(now), PAGE_SIZE, query.cursor or None
            )
        except ValueError:
            problem = "That page link is no longer valid; showing the first page."
            query = RunQuery(**query.params(cursor=""), tenant=query.tenant)
            page, next_cursor = await queries.list_runs(session, query.filter(now), PAGE_SIZE)
        progress = await queries.progress_of(session, page)
        statuses = await queries.run_status_counts_capped(session, tenant=query.tenant)
        workflows = await queries.workflow_names(session)
        if query.workflow and query.workflow not in workflows:
            workflows.append(query.workflow)
        names = await queries.agent_names(session)
    return render(
        request,
        "runs.html",
        {
            "page": "runs",
            "runs": page,
            "progress": progress,
            "next_cursor": next_cursor,
            "q": query,
            "problem": problem,
            "statuses": statuses,
            "cap": queries.COUNT_CAP,
            "total": _total_label(statuses, queries.COUNT_CAP),
            "all_statuses": list(RunState),
            "workflows": workflows,
            "agent_names": names,
            "ranges": RANGES,
            "now": now,
            "live": {
                "ids": [r.id for r in page],
                "top": page[0].created_at.isoformat() if page else now.isoformat(),
                "first": not query.cursor,
                "params": query.params(cursor=""),
            },
        },
    )


@router.get("/runs/{run_id}", response_class=HTMLResponse)
async def run_page(run_id: str, request: Request, _: PageAuth, runtime: RuntimeDep) -> Response:
    """One run: DAG, timeline, message trace, errors, proof, actions."""
    async with runtime.readers() as session:
        found = await detail.load(session, run_id)
    tenant = viewed_tenant(request)
    if found is None or (tenant is not None and found.run.tenant != tenant):
        return render(
            request,
            "missing.html",
            {"page": "runs", "what": "run", "ident": run_id},
            status_code=404,
        )
    return render(
        request,
        "run.html",
        {"page": "runs", "d": found, "run": found.run, "live": {"run": run_id}},
    )


@dataclass(frozen=True)
class DeadLetterView:
    """A dead letter with its payload made readable."""

    letter: DeadLetter
    payload: str
    valid: bool


def _readable(letter: DeadLetter) -> DeadLetterView:
    if letter.envelope is not None:
        data: Any = letter.envelope.model_dump(mode="json", by_alias=True)
        return DeadLetterView(letter, json.dumps(data, indent=2, ensure_ascii=False), True)
    try:
        return DeadLetterView(letter, json.dumps(json.loads(letter.data), indent=2), False)
    except (ValueError, UnicodeDecodeError):
        head = letter.data[:4096]
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError:  # binary garbage: show bytes, not replacement characters
            text = " ".join(f"{byte:02x}" for byte in head[:1024])
        return DeadLetterView(letter, text, False)


async def _of_tenant(runtime: Runtime, letters: list[DeadLetter], tenant: str) -> list[DeadLetter]:
    run_ids = {x.envelope.run_id for x in letters if x.envelope and x.envelope.run_id}
    async with runtime.readers() as session:
        owners = await queries.run_tenants(session, list(run_ids))
    return [
        x
        for x in letters
        if x.envelope is not None and owners.get(x.envelope.run_id or "") == tenant
    ]


@router.get("/dead-letters", response_class=HTMLResponse)
async def dead_letters(request: Request, _: PageAuth, runtime: RuntimeDep) -> Response:
    """Dead letters per stream, newest first, with replay and discard.

    Showing one tenant, only the letters of that tenant's runs (a letter that names no run, or
    cannot be read, is in the system view only)."""
    tenant = viewed_tenant(request)
    depths = await runtime.transport.dlq_streams()
    streams = []
    for stream in sorted(depths):
        letters = await runtime.transport.dead_letters(stream, limit=100)
        if tenant is not None:
            letters = await _of_tenant(runtime, letters, tenant)
            if not letters:
                continue
        streams.append((stream, depths[stream], [_readable(x) for x in letters]))
    return render(request, "dead_letters.html", {"page": "dead-letters", "streams": streams})
