"""``modx legal eval``: SARA case files through the ``sara-tax`` (numeric questions) and
``sara-entail`` (binary questions) workflows, scored against gold, each kind separately."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from services.cli.client import BAD_REQUEST, RUN_FAILED, default_token, fail

app = typer.Typer(
    help="Legal reasoning: evaluate SARA cases, explain an answer.", no_args_is_help=True
)

GOLD = re.compile(r"\$\s*(-?[\d,]+)\s*$")
VERDICT = re.compile(r"\b(Entailment|Contradiction)\s*$")
WORKFLOW = {"numeric": "sara-tax", "binary": "sara-entail"}
GOAL = {"numeric": "tax:TaxAnswer", "binary": "tax:EntailmentAnswer"}  # --from-text


@dataclass
class CaseResult:
    """One case's outcome, as ``--json`` prints it.

    Numeric cases fill ``answer`` (a number), ``exact`` and ``within_10pct``; binary cases fill
    ``answer`` and ``gold`` with ``"Entailment"``/``"Contradiction"`` and ``correct``.
    """

    case: str
    gold: int | str | None
    answer: float | str | None
    exact: bool
    within_10pct: bool
    seconds: float | None
    error: str | None = None
    run_id: str | None = None
    kind: str = "numeric"
    correct: bool | None = None
    explanation: str | None = None


class UnknownCaseKind(ValueError):
    """A case file whose question ends neither in ``$N`` nor in a verdict."""


def case_files(paths: list[Path]) -> list[Path]:
    """The ``*.pl`` files under ``paths`` (files or folders)."""
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.rglob("*.pl")) if path.is_dir() else [path])
    return files


def case_kind(path: Path, text: str) -> str:
    """``"numeric"`` or ``"binary"`` from the gold answer that ends the question.

    Raises:
        UnknownCaseKind: Naming the file.
    """
    gold = gold_of(text)
    if isinstance(gold, int):
        return "numeric"
    if isinstance(gold, str):
        return "binary"
    raise UnknownCaseKind(
        f"{path}: the % Question line ends neither in $<amount> nor in Entailment/Contradiction"
    )


def numeric_cases(paths: list[Path]) -> list[Path]:
    """Case files under ``paths`` (files or folders) whose question has a dollar answer."""
    return [f for f in case_files(paths) if isinstance(gold_of(f.read_text()), int)]


def gold_of(text: str) -> int | str | None:
    """The gold answer at the end of the question line: ``$N`` as an int, or the verdict."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.strip() == "% Question" and index + 1 < len(lines):
            match = GOLD.search(lines[index + 1])
            if match:
                return int(match.group(1).replace(",", ""))
            verdict = VERDICT.search(lines[index + 1])
            return verdict.group(1) if verdict else None
    return None


def percentile(values: list[float], q: float) -> float:
    """The q-quantile by linear interpolation (q in [0, 1])."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * q
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


TERMINAL = ("succeeded", "failed", "cancelled", "timed_out")
BUSY = (429, 503)


async def _busy_retry(
    send: Callable[[], Awaitable[httpx.Response]], attempts: int = 8
) -> httpx.Response:
    """``send()`` again while a loaded server answers 429/503, after its ``Retry-After``."""
    for _ in range(attempts - 1):
        response = await send()
        if response.status_code not in BUSY:
            return response
        try:
            after = float(response.headers.get("retry-after", "1"))
        except ValueError:
            after = 1.0
        await asyncio.sleep(min(max(after, 0.0), 10.0))
    return await send()


async def wait_run(client: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    """The run once it is terminal. A busy server's 429/503 is waited out; any other error
    answer raises ``httpx.HTTPStatusError`` (never a run without a ``status``)."""
    while True:
        response = await _busy_retry(
            lambda: client.get(f"/v1/runs/{run_id}/wait", params={"timeout_s": 300})
        )
        response.raise_for_status()
        run: dict[str, Any] = response.json()
        if run.get("status") in TERMINAL:
            return run


async def evaluate(
    client: httpx.AsyncClient,
    files: list[Path],
    concurrency: int,
    progress: bool,
    print_lines: bool,
    explain: bool = False,
    from_text: bool = False,
) -> list[CaseResult]:
    """Submit every case, wait for each, and score it."""
    limit = asyncio.Semaphore(concurrency)
    results: list[CaseResult] = []
    if from_text:  # a goal run is planned over the live agents: wait for the legal agent
        from services.demo import wait_for_agents

        await wait_for_agents(client, {"legal.formalize", "legal.infer", "legal.entail"})

    texts = {path: path.read_text() for path in files}

    async def one(path: Path) -> CaseResult:
        text = texts[path]
        gold = gold_of(text)
        kind = case_kind(path, text)
        async with limit:
            started = time.perf_counter()
            try:
                if from_text:  # English only: formalize -> validate -> infer/entail, planned
                    from agents.legal.formalize import case_text_of

                    given = {"tax:CaseText": case_text_of(text)}
                    produce = GOAL[kind]
                    body: dict[str, Any] = {"goal": {"produce": produce, "given": given}}
                else:
                    body = {
                        "workflow": WORKFLOW[kind],
                        "input": {"case": text, "case_id": path.stem},
                    }
                response = await _busy_retry(lambda: client.post("/v1/runs", json=body))
                response.raise_for_status()
                run_id = response.json()["run_id"]
                run = await wait_run(client, run_id)
            except httpx.HTTPError as exc:
                return CaseResult(
                    path.stem, gold, None, False, False, None, f"request failed: {exc}", kind=kind
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
                kind=kind,
                correct=False if kind == "binary" else None,
            )
        answer = run["output"]["answer"]
        explanation = run["output"].get("explanation") if explain else None
        if kind == "binary":
            right = answer == gold
            return CaseResult(
                path.stem,
                gold,
                answer,
                right,
                right,
                seconds,
                None,
                run_id,
                kind,
                right,
                explanation,
            )
        assert isinstance(gold, int)
        exact = answer == gold
        close = abs(answer - gold) <= 0.1 * abs(gold)
        return CaseResult(
            path.stem, gold, answer, exact, close, seconds, None, run_id, explanation=explanation
        )

    tasks = [asyncio.create_task(one(f)) for f in files]
    width = 30
    blank = width + 3 + 2 * len(str(len(files)))  # "[...] n/total"
    for done, task in enumerate(asyncio.as_completed(tasks), start=1):
        result = await task
        results.append(result)
        if print_lines:
            if progress:  # the bar shares the terminal line: wipe it before the result
                typer.echo("\r" + " " * blank + "\r", err=True, nl=False)
            if result.kind == "binary":
                mark = "right" if result.correct else "WRONG"
            else:
                mark = "exact" if result.exact else ("±10%" if result.within_10pct else "WRONG")
            detail = f"error: {result.error}" if result.error else f"answer {result.answer}"
            seconds = f"{result.seconds:.3f}s" if result.seconds is not None else "-"
            typer.echo(f"{result.case:18} gold {result.gold!s:>8}  {detail:24} {mark:6} {seconds}")
            if result.explanation:
                typer.echo(result.explanation + "\n")
        if progress:
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
    numeric = [r for r in results if r.kind == "numeric"]
    binary = [r for r in results if r.kind == "binary"]
    cases = []
    for r in results:
        row = asdict(r)
        if r.kind == "numeric":
            del row["correct"]
        if r.explanation is None:
            del row["explanation"]
        cases.append(row)
    return {
        "total": len(numeric),
        "exact": sum(r.exact for r in numeric),
        "within_10pct": sum(r.within_10pct for r in numeric),
        "errors": sum(r.error is not None for r in numeric),
        "binary": {
            "total": len(binary),
            "correct": sum(bool(r.correct) for r in binary),
            "errors": sum(r.error is not None for r in binary),
        },
        "p50_s": round(percentile(times, 0.5), 4),
        "p99_s": round(percentile(times, 0.99), 4),
        "cases": cases,
    }


@app.command("eval")
def eval_cases(
    paths: Annotated[
        list[Path],
        typer.Argument(exists=True, help="Case files or folders (numeric and binary cases)."),
    ],
    embedded: Annotated[
        bool, typer.Option(help="Run in-process (embedded MODX) instead of a running service.")
    ] = False,
    url: Annotated[str | None, typer.Option(envvar="MODX_URL", help="MODX API URL.")] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Cases in flight.")] = 8,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object for scripts.")
    ] = False,
    strict: Annotated[
        bool, typer.Option(help="Exit 1 unless every case is exact (numeric) or correct (binary).")
    ] = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="Print (or put in the JSON) each case's explanation.")
    ] = False,
    from_text: Annotated[
        bool,
        typer.Option(
            "--from-text",
            help="Answer the cases from their English (% Text and % Question only) through "
            "legal.formalize and the LLM at MODX_LLM_BASE_URL: numeric cases by legal.infer, "
            "binary ones by legal.entail.",
        ),
    ] = False,
) -> None:
    """Run SARA case files through sara-tax / sara-entail and score them against gold."""
    files = case_files(paths)
    try:
        for f in files:
            case_kind(f, f.read_text())
    except UnknownCaseKind as exc:
        fail(str(exc), BAD_REQUEST)
    if not files:
        fail("no SARA case files found (*.pl)", BAD_REQUEST)
    if from_text and not os.environ.get("MODX_LLM_BASE_URL"):
        fail(
            "--from-text needs an OpenAI-compatible server: set MODX_LLM_BASE_URL "
            "(and MODX_LLM_MODEL, MODX_LLM_API_KEY)",
            BAD_REQUEST,
        )
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
                        client,
                        files,
                        concurrency,
                        show and sys.stderr.isatty(),
                        show,
                        explain,
                        from_text,
                    )
        token = default_token()
        headers = {"authorization": f"Bearer {token}"} if token else {}
        base = url or "http://127.0.0.1:8000"
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=330) as client:
            return await evaluate(
                client, files, concurrency, show and sys.stderr.isatty(), show, explain, from_text
            )

    started = time.perf_counter()
    results = asyncio.run(main())
    elapsed = time.perf_counter() - started
    totals = summary(results)
    totals["elapsed_s"] = round(elapsed, 3)
    if as_json:
        typer.echo(json.dumps(totals))
    else:
        n, b = totals["total"], totals["binary"]
        if n:
            typer.secho(
                f"\nnumeric: {totals['exact']}/{n} exact ({100 * totals['exact'] / n:.1f}%), "
                f"{totals['within_10pct']}/{n} within 10%, {totals['errors']} errors",
                bold=True,
            )
        if b["total"]:
            typer.secho(
                f"binary: {b['correct']}/{b['total']} correct "
                f"({100 * b['correct'] / b['total']:.1f}%), {b['errors']} errors",
                bold=True,
            )
        typer.secho(
            f"p50 {totals['p50_s']:.3f}s, p99 {totals['p99_s']:.3f}s per case, "
            f"{elapsed:.1f}s in all",
            bold=True,
        )
    if strict and (totals["exact"] != totals["total"] or b_wrong(totals)):
        raise typer.Exit(1)


@app.command("explain")
def explain_case(
    case_file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A case file.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object for scripts.")
    ] = False,
) -> None:
    """Answer one case file here (no service needed) and explain the answer for a person."""
    from agents.legal.explanation import answer_value, explain_answer, readable
    from ontology import CaseFormatError, ReasonerError, ReasonerPool, parse_case, statutes_rules

    try:
        case = parse_case(case_file)
    except CaseFormatError as exc:
        fail(f"{case_file}: {exc}", BAD_REQUEST)

    async def main() -> Any:
        async with ReasonerPool(statutes_rules(), size=1) as pool:
            return await pool.query(case.facts, case.query.goal())

    try:
        answer = asyncio.run(main())
    except ReasonerError as exc:
        fail(f"{case_file}: {exc}", RUN_FAILED, kind="reasoner_error")
    shown = readable(answer.proof, answer_value(answer))
    if as_json:
        payload = {
            "case": case.case_id,
            "question": case.question,
            "gold": case.gold,
            "answer": answer_value(answer),
            "explanation": shown.text(),
            "lines": shown.lines(),
            "not_applicable": [
                {"citation": n.citation, "text": n.text, "under": n.under, "why": n.why}
                for n in shown.not_applicable
            ],
        }
        typer.echo(json.dumps(payload))
    else:
        typer.echo(explain_answer(answer, question=case.question))


def b_wrong(totals: dict[str, Any]) -> bool:
    """Some binary case is not answered correctly."""
    return bool(totals["binary"]["correct"] != totals["binary"]["total"])


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
