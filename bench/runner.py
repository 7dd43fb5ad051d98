"""Runs benchmarks by name and writes their results; ``modx bench`` calls ``run``.

A benchmark is a module with a frozen config dataclass (``quick()`` gives the CI sizes) and
``async run(config, logs) -> (results, notes)``. A benchmark that fails is recorded as such (its
error in the results file) and the others still run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import time
import traceback
from pathlib import Path
from typing import Any

from bench.harness import RESULTS_DIR, envelope, load_average, log, write_outputs

BENCHMARKS: dict[str, tuple[str, str]] = {
    "bus": ("bench.bus", "BusConfig"),
    "orchestrator": ("bench.orchestrator", "OrchestratorConfig"),
    "scaling": ("bench.scaling", "ScalingConfig"),
    "legal": ("bench.legal", "LegalConfig"),
    "replicas": ("bench.replicas", "ReplicasConfig"),
    "history": ("bench.history", "HistoryConfig"),
}


async def run_one(
    name: str, quick: bool, out_dir: Path, logs: Path, options: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One benchmark: measure, then write its JSON, Markdown and PNG. ``options`` replace
    fields of its config."""
    module_name, config_name = BENCHMARKS[name]
    module = importlib.import_module(module_name)
    config_class = getattr(module, config_name)
    config = config_class.quick() if quick else config_class()
    if options:
        config = dataclasses.replace(config, **options)
    load_before = load_average()
    started = time.monotonic()
    log(f"{name}: starting (load average {load_before})")
    own_logs = logs / name
    own_logs.mkdir(parents=True, exist_ok=True)
    try:
        results, notes = await module.run(config, own_logs)
    except Exception as exc:
        log(f"{name}: failed: {exc!r}\n{traceback.format_exc()}")
        results, notes = {"error": repr(exc)}, [f"process logs were in {own_logs}"]
    data = envelope(
        name, {**dataclasses.asdict(config), "quick": quick}, results, load_before, started, notes
    )
    paths = write_outputs(out_dir, data)
    log(
        f"{name}: done in {data['duration_s']:.0f} s; wrote {paths['json'].name}, "
        f"{paths['md'].name}, {paths['png'].name} in {out_dir}"
    )
    return data


def run(
    names: list[str],
    *,
    quick: bool,
    out_dir: Path = RESULTS_DIR,
    logs: Path | None = None,
    options: dict[str, dict[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Run ``names`` in order; update the README's table when writing to ``bench/results``.
    ``options``: benchmark name -> fields of its config to replace."""
    from bench.report import update_readme
    from bench.stack import log_dir, require_servers

    require_servers()

    async def main() -> dict[str, dict[str, Any]]:
        with log_dir(logs) as where:
            return {
                name: await run_one(name, quick, out_dir, where, (options or {}).get(name))
                for name in names
            }

    results = asyncio.run(main())
    if out_dir.resolve() == RESULTS_DIR.resolve() and not quick:
        update_readme(out_dir)
    return results
