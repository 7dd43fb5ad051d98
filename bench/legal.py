"""Legal: the numeric SARA training cases through the ``sara-tax`` workflow and through the
reasoner alone.

- **Workflow** (embedded MODX in this process, the legal agent inside it, exactly as
  ``modx legal eval --embedded`` runs): every case with ``services.cli.legal.evaluate``, once
  with ``concurrency`` cases in flight (cases/s) and once one case at a time (p50/p99 per case:
  four steps, parse, validate, infer, explain, each through the orchestrator and the bus).
- **Reasoner alone**: ``parse_case`` (one SWI-Prolog case expander) and ``ReasonerPool.query``
  (two SWI-Prolog workers) called directly, one case at a time (p50/p99 of parse + query), and
  the queries alone with ``concurrency`` in flight (cases/s).

Every answer is checked against the gold amount; the counts of exact answers are reported.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.harness import Series, latency_summary, log
from bench.stack import free_port


@dataclass(frozen=True)
class LegalConfig:
    """Sizes of the legal benchmark."""

    cases: int | None = None  # None: every numeric case
    concurrency: int = 8
    pool_size: int = 2
    repeats: int = 5

    @classmethod
    def quick(cls) -> LegalConfig:
        """Tiny sizes for the CI smoke run."""
        return cls(cases=3, repeats=2)


def case_files(cfg: LegalConfig) -> list[Path]:
    """The numeric SARA cases (a ``$N`` answer), in case-number order."""
    from ontology import sara_dir
    from services.cli.legal import numeric_cases

    files = numeric_cases([sara_dir() / "cases"])
    files.sort(key=lambda p: int(p.stem.rsplit("_", 1)[1]) if p.stem[-1].isdigit() else 0)
    return files[: cfg.cases] if cfg.cases else files


async def _workflow(cfg: LegalConfig, files: list[Path], series: Series) -> dict[str, Any]:
    from agents.legal.agent import agent as legal
    from services.cli.legal import evaluate
    from services.embedded import embedded_service

    exact: list[int] = []
    with tempfile.TemporaryDirectory(prefix="modx-bench-legal-") as tmp:
        async with (
            embedded_service(Path(tmp), port=free_port(), agents=[legal]) as service,
            service.client(300) as client,
        ):
            await evaluate(client, files[:2], 2, False, False)  # warm-up: workers, caches
            for repeat in range(cfg.repeats):
                started = time.perf_counter()
                results = await evaluate(client, files, cfg.concurrency, False, False)
                wall = time.perf_counter() - started
                one_by_one = await evaluate(client, files, 1, False, False)
                latency = latency_summary([r.seconds for r in one_by_one if r.seconds is not None])
                series.add("workflow.cases_per_s", len(files) / wall)
                series.add_all({k: latency[k] for k in ("p50_ms", "p99_ms")}, "workflow.")
                exact.append(sum(r.exact for r in results) + sum(r.exact for r in one_by_one))
                log(
                    f"legal workflow repeat {repeat + 1}/{cfg.repeats}: "
                    f"{len(files) / wall:.1f} cases/s ({cfg.concurrency} in flight); one at a "
                    f"time p50 {latency['p50_ms']:.0f} ms, p99 {latency['p99_ms']:.0f} ms"
                )
    return {"exact_per_repeat": exact, "answers_per_repeat": 2 * len(files)}


async def _reasoner(cfg: LegalConfig, files: list[Path], series: Series) -> dict[str, Any]:
    from ontology import CaseExpander, ReasonerPool, parse_case, statutes_rules

    exact: list[int] = []
    async with ReasonerPool(statutes_rules(), size=cfg.pool_size, default_timeout_s=120) as pool:
        with CaseExpander() as expander:
            cases = [parse_case(path, expander=expander) for path in files[:2]]  # warm-up
            for case in cases:
                await pool.query(case.facts, _goal(case))
            for repeat in range(cfg.repeats):
                parse_s, query_s, total_s, right = [], [], [], 0
                parsed = []
                for path in files:
                    started = time.perf_counter()
                    case = parse_case(path, expander=expander)
                    parsed_at = time.perf_counter()
                    answer = await pool.query(case.facts, _goal(case))
                    done = time.perf_counter()
                    parse_s.append(parsed_at - started)
                    query_s.append(done - parsed_at)
                    total_s.append(done - started)
                    right += answer.bindings.get("Amount") == case.gold
                    parsed.append(case)
                started = time.perf_counter()
                await _query_all(pool, parsed, cfg.concurrency)
                concurrent_s = time.perf_counter() - started
                total = latency_summary(total_s)
                series.add("reasoner.cases_per_s", len(files) / sum(total_s))
                series.add_all({k: total[k] for k in ("p50_ms", "p99_ms")}, "reasoner.")
                series.add("reasoner.parse_p50_ms", latency_summary(parse_s)["p50_ms"])
                series.add("reasoner.query_p50_ms", latency_summary(query_s)["p50_ms"])
                series.add("reasoner.query_p99_ms", latency_summary(query_s)["p99_ms"])
                series.add("reasoner.queries_per_s_concurrent", len(files) / concurrent_s)
                exact.append(right)
                log(
                    f"legal reasoner repeat {repeat + 1}/{cfg.repeats}: parse + query "
                    f"{len(files) / sum(total_s):.1f} cases/s, p50 {total['p50_ms']:.0f} ms; "
                    f"queries alone {len(files) / concurrent_s:.1f}/s"
                )
    return {"exact_per_repeat": exact, "answers_per_repeat": len(files)}


def _goal(case: Any) -> str:
    """The Prolog goal of a numeric case (a ``tax/3`` query)."""
    from ontology import TaxQuery

    if not isinstance(case.query, TaxQuery):
        raise ValueError(f"{case.case_id} is not a numeric tax case")
    return case.query.goal()


async def _query_all(pool: Any, cases: list[Any], concurrency: int) -> None:
    """Every case's query, ``concurrency`` at a time."""
    limit = asyncio.Semaphore(concurrency)

    async def query(case: Any) -> None:
        async with limit:
            await pool.query(case.facts, _goal(case))

    await asyncio.gather(*(query(c) for c in cases))


async def run(cfg: LegalConfig, logs: Path) -> tuple[dict[str, Any], list[str]]:
    """The workflow, then the reasoner alone."""
    files = case_files(cfg)
    if not files:
        raise RuntimeError("no numeric SARA cases found (set MODX_SARA_DIR)")
    series = Series()
    workflow = await _workflow(cfg, files, series)
    reasoner = await _reasoner(cfg, files, series)
    results = {
        "figures": series.summary(),
        "cases": len(files),
        "workflow": workflow,
        "reasoner": reasoner,
        "config": asdict(cfg),
    }
    notes = [
        f"{len(files)} numeric SARA cases. The workflow runs embedded (SQLite, in-process bus) "
        "in the benchmark process, with the legal agent inside: what `modx legal eval "
        "--embedded` does.",
        f"Both use {cfg.pool_size} SWI-Prolog reasoner workers and one case expander.",
    ]
    return results, notes
