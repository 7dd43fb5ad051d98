"""``modx legal eval``: SARA case files through the ``sara-tax`` workflow, scored against gold."""

from __future__ import annotations

import asyncio
import json
import re
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from services.cli.client import default_token

app = typer.Typer(help="Legal reasoning: evaluate SARA cases.", no_args_is_help=True)

GOLD = re.compile(r"\$\s*(-?[\d,]+)\s*$")


@dataclass
class CaseResult:
    """One case's outcome, as ``--json`` prints it."""

    case: str
    gold: int | None
    answer: float | None
    exact: bool
    within_10pct: bool
    seconds: float | None
    error: str | None = None
    run_id: str | None = None


def numeric_cases(paths: list[Path]) -> list[Path]:
    """Case files under ``paths`` (files or folders) whose question has a dollar answer."""
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.rglob("*.pl")) if path.is_dir() else [path])
    return [f for f in files if gold_of(f.read_text()) is not None]


def gold_of(text: str) -> int | None:
    """The ``$N`` gold answer at the end of the question line, if any."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.strip() == "% Question" and index + 1 < len(lines):
            match = GOLD.search(lines[index + 1])
            return int(match.group(1).replace(",", "")) if match else None
    return None


def percentile(values: list[float], q: float) -> float:
    """The q-quantile by linear interpolation (q in [0, 1])."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * q
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


async def evaluate(
    client: httpx.AsyncClient,
    files: list[Path],
    concurrency: int,
    progress: bool,
    print_lines: bool,
) -> list[CaseResult]:
    """Submit every case, wait for each, and score it."""
    limit = asyncio.Semaphore(concurrency)
    results: list[CaseResult] = []

    texts = {path: path.read_text() for path in files}

    async def one(path: Path) -> CaseResult:
        text = texts[path]
        gold = gold_of(text)
        async with limit:
            started = time.perf_counter()
            try:
                response = await client.post(
                    "/v1/runs",
                    json={"workflow": "sara-tax", "input": {"case": text, "case_id": path.stem}},
                )
                response.raise_for_status()
                run_id = response.json()["run_id"]
                run = (
                    await client.get(f"/v1/runs/{run_id}/wait", params={"timeout_s": 300})
                ).json()
            except httpx.HTTPError as exc:
                return CaseResult(
                    path.stem, gold, None, False, False, None, f"request failed: {exc}"
                )
            seconds = time.perf_counter() - started
        if run["status"] != "succeeded":
            message = (run.get("error") or {}).get("message", run["status"])
            cause = (run.get("error") or {}).get("cause") or {}
            return CaseResult(
                path.stem,
                gold,
                None,
                False,
                False,
                seconds,
                f"{message}: {cause.get('message', '')}".strip(": "),
                run_id,
            )
        answer = run["output"]["answer"]
        exact = gold is not None and answer == gold
        close = gold is not None and abs(answer - gold) <= 0.1 * abs(gold)
        return CaseResult(path.stem, gold, answer, exact, close, seconds, None, run_id)

    tasks = [asyncio.create_task(one(f)) for f in files]
    for done, task in enumerate(asyncio.as_completed(tasks), start=1):
        result = await task
        results.append(result)
        if print_lines:
            mark = "exact" if result.exact else ("±10%" if result.within_10pct else "WRONG")
            detail = f"error: {result.error}" if result.error else f"answer {result.answer}"
            seconds = f"{result.seconds:.3f}s" if result.seconds is not None else "-"
            typer.echo(f"{result.case:18} gold {result.gold!s:>8}  {detail:24} {mark:6} {seconds}")
        if progress:
            width = 30
            filled = int(width * done / len(files))
            typer.echo(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{len(files)}",
                err=True,
                nl=done == len(files),
            )
    return sorted(results, key=lambda r: r.case)


def summary(results: list[CaseResult]) -> dict[str, Any]:
    """Totals in the shape ``--json`` promises."""
    times = [r.seconds for r in results if r.seconds is not None]
    return {
        "total": len(results),
        "exact": sum(r.exact for r in results),
        "within_10pct": sum(r.within_10pct for r in results),
        "errors": sum(r.error is not None for r in results),
        "p50_s": round(percentile(times, 0.5), 4),
        "p99_s": round(percentile(times, 0.99), 4),
        "cases": [asdict(r) for r in results],
    }


@app.command("eval")
def eval_cases(
    paths: Annotated[
        list[Path],
        typer.Argument(exists=True, help="Case files or folders (numeric cases are used)."),
    ],
    embedded: Annotated[
        bool, typer.Option(help="Run in-process (embedded MODX) instead of a running service.")
    ] = False,
    url: Annotated[str | None, typer.Option(envvar="MODX_URL", help="MODX API URL.")] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Cases in flight.")] = 8,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object for scripts.")
    ] = False,
    strict: Annotated[bool, typer.Option(help="Exit 1 unless every case is exact.")] = False,
) -> None:
    """Run SARA case files through the sara-tax workflow and score them against gold."""
    files = numeric_cases(paths)
    if not files:
        typer.secho(
            "no numeric SARA cases found (a question ending in $N)", fg=typer.colors.RED, err=True
        )
        raise typer.Exit(2)
    show = not as_json

    async def main() -> list[CaseResult]:
        if embedded:
            from services.embedded import embedded_service

            with tempfile.TemporaryDirectory(prefix="modx-eval-") as tmp:
                async with (
                    embedded_service(Path(tmp), port=_free_port()) as service,
                    service.client(300) as client,
                ):
                    return await evaluate(
                        client, files, concurrency, show and sys.stderr.isatty(), show
                    )
        token = default_token()
        headers = {"authorization": f"Bearer {token}"} if token else {}
        base = url or "http://127.0.0.1:8000"
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=330) as client:
            return await evaluate(client, files, concurrency, show and sys.stderr.isatty(), show)

    results = asyncio.run(main())
    totals = summary(results)
    if as_json:
        typer.echo(json.dumps(totals))
    else:
        n = totals["total"]
        typer.secho(
            f"\n{totals['exact']}/{n} exact ({100 * totals['exact'] / n:.1f}%), "
            f"{totals['within_10pct']}/{n} within 10%, {totals['errors']} errors; "
            f"p50 {totals['p50_s']:.3f}s, p99 {totals['p99_s']:.3f}s per case",
            bold=True,
        )
    if strict and totals["exact"] != totals["total"]:
        raise typer.Exit(1)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
