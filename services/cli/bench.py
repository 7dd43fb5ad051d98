"""``modx bench``: measure the bus, the orchestrator, scaling and the legal pipeline.

Each command starts what it needs (PostgreSQL databases, Redis databases, ``modx serve``,
agent processes, a Celery worker), warms up, repeats each measurement, prints progress on
stderr, and writes ``<date>-<name>.json``, ``.md`` and ``.png`` to ``--out`` (by default
``bench/results``, whose newest tables are then copied into ``bench/README.md``).
Exit codes: 0 ok, 1 a benchmark failed, 2 bad input, 3 PostgreSQL or Redis is unreachable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from services.cli.client import BAD_REQUEST, UNREACHABLE, fail

app = typer.Typer(
    help="Benchmarks: bus, orchestrator, scaling, legal (see bench/README.md).",
    no_args_is_help=True,
)

QuickOpt = Annotated[bool, typer.Option("--quick", help="Tiny sizes, 2 repeats (CI smoke).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the results as JSON on stdout.")]
OutOpt = Annotated[
    Path | None, typer.Option("--out", help="Where to write results (default bench/results).")
]
LogsOpt = Annotated[
    Path | None, typer.Option("--logs", help="Keep the processes' logs in this folder.")
]


def _run(
    names: list[str],
    quick: bool,
    as_json: bool,
    out: Path | None,
    logs: Path | None,
    options: dict[str, dict[str, Any]] | None = None,
) -> None:
    from bench.harness import RESULTS_DIR
    from bench.runner import run

    try:
        results: dict[str, Any] = run(
            names, quick=quick, out_dir=out or RESULTS_DIR, logs=logs, options=options
        )
    except RuntimeError as exc:
        fail(str(exc), UNREACHABLE)
    failed = [name for name, data in results.items() if "error" in data["results"]]
    if as_json:
        typer.echo(json.dumps(results, default=str))
    else:
        for name, data in results.items():
            state = f"FAILED: {data['results']['error']}" if name in failed else "ok"
            typer.echo(f"{name:13} {state}  ({data['duration_s']:.0f} s)")
    raise typer.Exit(1 if failed else 0)


@app.command()
def bus(
    quick: QuickOpt = False, as_json: JsonOpt = False, out: OutOpt = None, logs: LogsOpt = None
) -> None:
    """Redis Streams transport against a hand-written redis-py loop."""
    _run(["bus"], quick, as_json, out, logs)


@app.command()
def orchestrator(
    quick: QuickOpt = False, as_json: JsonOpt = False, out: OutOpt = None, logs: LogsOpt = None
) -> None:
    """10-step no-op chains: MODX on PostgreSQL + Redis against Celery, with a breakdown."""
    _run(["orchestrator"], quick, as_json, out, logs)


@app.command()
def scaling(
    quick: QuickOpt = False, as_json: JsonOpt = False, out: OutOpt = None, logs: LogsOpt = None
) -> None:
    """Agents, orchestrator replicas, workflow length, registry size."""
    _run(["scaling"], quick, as_json, out, logs)


@app.command()
def legal(
    quick: QuickOpt = False, as_json: JsonOpt = False, out: OutOpt = None, logs: LogsOpt = None
) -> None:
    """SARA numeric cases through the sara-tax workflow and through the reasoner alone."""
    _run(["legal"], quick, as_json, out, logs)


@app.command()
def replicas(
    quick: QuickOpt = False, as_json: JsonOpt = False, out: OutOpt = None, logs: LogsOpt = None
) -> None:
    """CPU per step (servers, agents, PostgreSQL) with 1, 2 and 3 orchestrator replicas."""
    _run(["replicas"], quick, as_json, out, logs)


@app.command()
def history(
    quick: QuickOpt = False,
    as_json: JsonOpt = False,
    out: OutOpt = None,
    logs: LogsOpt = None,
    reuse: Annotated[
        str | None,
        typer.Option(
            "--reuse",
            help="Measure against this database from `python -m bench.history generate` "
            "(kept) instead of generating the large history first.",
        ),
    ] = None,
) -> None:
    """Run list, run detail and /wait with 10 thousand and with 10 million events stored."""
    if reuse is not None and not reuse.startswith("modx_bench_history_"):
        fail(
            "--reuse: a database made by `python -m bench.history generate` (modx_bench_history_*)",
            BAD_REQUEST,
        )
    _run(["history"], quick, as_json, out, logs, {"history": {"reuse": reuse}} if reuse else None)


@app.command("all")
def all_(
    quick: QuickOpt = False, as_json: JsonOpt = False, out: OutOpt = None, logs: LogsOpt = None
) -> None:
    """Every benchmark, in turn."""
    _run(["bus", "orchestrator", "scaling", "legal"], quick, as_json, out, logs)
