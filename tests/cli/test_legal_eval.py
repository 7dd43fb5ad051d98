"""``modx legal eval`` against a loaded server: a 503 with ``Retry-After`` on ``/wait`` and a
wait that ends before the run are waited out (no ``KeyError: 'status'``), another error answer
is a per-case error, and the progress bar is wiped before each result line (a 35-column blank, then the line).

The server is a small ASGI app answering as the API does under load (the same status codes,
``Retry-After`` and error body): the point is the client's handling of those answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from agents.legal.workflow import DEMO_CASE
from services.cli.legal import evaluate, gold_of


def loaded_server(waits: list[tuple[int, dict[str, Any]]]) -> httpx.AsyncClient:
    """A server that accepts runs and answers ``/wait`` with ``waits`` in turn."""

    async def submit(request: Request) -> JSONResponse:
        return JSONResponse({"run_id": "r1"}, status_code=202)

    async def wait(request: Request) -> JSONResponse:
        status, body = waits.pop(0)
        return JSONResponse(body, status_code=status, headers={"retry-after": "0"})

    app = Starlette(
        routes=[
            Route("/v1/runs", submit, methods=["POST"]),
            Route("/v1/runs/{run_id}/wait", wait),
        ]
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://modx")


BUSY: tuple[int, dict[str, Any]] = (
    503,
    {"error": {"code": "overloaded", "message": "too many requests"}},
)


async def test_a_busy_server_is_waited_out_and_the_bar_is_wiped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = tmp_path / "tax_case_1.pl"
    case.write_text(DEMO_CASE.read_text())
    gold = gold_of(case.read_text())
    done = {"status": "succeeded", "output": {"answer": gold}}
    waits: list[tuple[int, dict[str, Any]]] = [BUSY, (200, {"status": "running"}), (200, done)]
    async with loaded_server(waits) as client:
        (result,) = await evaluate(client, [case], 1, progress=True, print_lines=True)
    assert waits == []
    assert result.error is None and result.exact and result.answer == gold
    err = capsys.readouterr().err
    # the bar line is wiped before the result line is printed, then redrawn
    assert err.startswith("\r" + " " * 35 + "\r") and err.endswith("1/1\n"), repr(err)


async def test_a_failing_wait_is_a_case_error_not_a_crash(tmp_path: Path) -> None:
    case = tmp_path / "tax_case_1.pl"
    case.write_text(DEMO_CASE.read_text())
    waits = [(500, {"error": {"code": "internal", "message": "boom"}})]
    async with loaded_server(waits) as client:
        (result,) = await evaluate(client, [case], 1, progress=False, print_lines=False)
    assert result.answer is None and result.error is not None and "500" in result.error
