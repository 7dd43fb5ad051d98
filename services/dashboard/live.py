"""Live updates: Server-Sent Events for the run list and the run page, and page fragments.

A stream wakes when this process's orchestrator changes a run (``RunWatch``) and, failing
that, every ``POLL_S`` (changes made by other replicas reach the shared database only), reads
a small snapshot, and sends it when it differs from the last one sent. Streams end after
``STREAM_S``; the browser's EventSource reconnects by itself (checking the session again),
which also keeps a stream from holding up a server that is shutting down.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from services.api.deps import RuntimeDep
from services.api.errors import not_found
from services.dashboard import detail, queries
from services.dashboard.auth import ApiAuth
from services.dashboard.pages import PAGE_SIZE, run_query
from services.dashboard.templating import SECURITY_HEADERS, templates
from services.db.models import RunRow, utcnow
from services.orchestrator import runs
from services.runtime import Runtime

router = APIRouter(prefix="/dashboard", include_in_schema=False)

POLL_S = 2.0
STREAM_S = 60.0
KEEPALIVE_S = 15.0
MIN_GAP_S = 0.25
"""At most four looks a second per stream: a busy orchestrator notifies on every transition,
and a burst of changes (a step ends, the next is scheduled) should go out as one update."""
MAX_TRACKED = 200

Tick = Callable[[], Awaitable[tuple[list[tuple[str, Any]], bool]]]
"""One look at the data: the events to send, and whether the stream is done."""


def _frame(name: str, data: Any) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'), default=str)}\n\n"


async def _sse(runtime: Runtime, tick: Tick) -> AsyncIterator[str]:
    watch = runtime.orchestrator.watch
    loop = asyncio.get_running_loop()
    end = loop.time() + STREAM_S
    last_write = loop.time()
    yield "retry: 1500\n\n"
    while loop.time() < end:
        seen = watch.version
        frames, done = await tick()
        for name, data in frames:
            yield _frame(name, data)
            last_write = loop.time()
        if done:
            yield _frame("end", {})
            return
        if loop.time() - last_write > KEEPALIVE_S:
            yield ": keep-alive\n\n"
            last_write = loop.time()
        if watch.version == seen:  # nothing changed while we read: sleep until something does
            await watch.wait(min(POLL_S, max(0.0, end - loop.time())))
        await asyncio.sleep(MIN_GAP_S)


def _streaming(body: AsyncIterator[str]) -> StreamingResponse:
    headers = {
        **SECURITY_HEADERS,
        "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",  # nginx would otherwise hold events back
    }
    return StreamingResponse(body, media_type="text/event-stream", headers=headers)


@router.get("/live/runs/{run_id}")
async def run_stream(run_id: str, _: ApiAuth, runtime: RuntimeDep) -> StreamingResponse:
    """The run's status, steps and latest event id, each time they change."""
    async with runtime.readers() as session:
        if await runs.get_run(session, run_id) is None:
            raise not_found("run", run_id)
    last: dict[str, Any] | None = None

    async def tick() -> tuple[list[tuple[str, Any]], bool]:
        nonlocal last
        async with runtime.readers() as session:
            snap = await detail.snapshot(session, run_id)
        if snap is None:
            return [], True
        frames = [] if snap == last else [("run", snap)]
        last = snap
        return frames, bool(snap["terminal"])

    return _streaming(_sse(runtime, tick))


@router.get("/runs/{run_id}/fragments")
async def run_fragments(run_id: str, request: Request, _: ApiAuth, runtime: RuntimeDep) -> Response:
    """The run page's sections, rendered again (the page swaps them in on a live update)."""
    async with runtime.readers() as session:
        found = await detail.load(session, run_id)
    if found is None:
        raise not_found("run", run_id)
    names = ("summary", "dag", "timeline", "errors", "steps", "trace", "proof")
    context = {"request": request, "d": found, "run": found.run}
    module = templates.env.get_template("run_sections.html").make_module(context)
    body: dict[str, Any] = {name: str(getattr(module, name)()) for name in names}
    body["last_event"] = found.last_event
    return JSONResponse(body, headers=SECURITY_HEADERS)


def _row_html(run: RunRow, progress: queries.Progress) -> str:
    template = templates.env.get_template("run_row.html")
    return template.render(run=run, p=progress, now=utcnow())


@router.get("/live/runs")
async def runs_stream(request: Request, _: ApiAuth, runtime: RuntimeDep) -> StreamingResponse:
    """Rows of the run list that changed, and (on the first page) runs that just started."""
    query = run_query(request)
    tracked = [x for x in request.query_params.get("ids", "").split(",") if x][:MAX_TRACKED]
    first_page = request.query_params.get("first") == "1"
    try:
        top: datetime | None = datetime.fromisoformat(request.query_params.get("top", ""))
    except ValueError:
        top = None
    shown: set[str] = set(tracked)
    sent: dict[str, str] = {}

    async def tick() -> tuple[list[tuple[str, Any]], bool]:
        fresh: list[RunRow] = []
        async with runtime.readers() as session:
            rows = await queries.runs_by_id(session, tracked)
            if first_page and top is not None:
                filters = query.filter(utcnow())
                after = max(top, filters.created_after or top)
                page, _next = await queries.list_runs(
                    session, replace(filters, created_after=after), PAGE_SIZE
                )
                fresh = [r for r in page if r.id not in shown]
            progress = await queries.progress_of(session, [*rows, *fresh])
        changed: dict[str, str] = {}
        for run in rows:
            html = _row_html(run, progress[run.id])
            if sent.get(run.id) != html:
                changed[run.id] = sent[run.id] = html
        added: list[dict[str, str]] = []
        for run in reversed(fresh):  # oldest first: the page prepends each in turn
            shown.add(run.id)
            if len(tracked) < MAX_TRACKED:
                tracked.append(run.id)
            sent[run.id] = html = _row_html(run, progress[run.id])
            added.append({"id": run.id, "html": html})
        if not (changed or added):
            return [], False
        return [("runs", {"rows": changed, "added": added})], False

    return _streaming(_sse(runtime, tick))
