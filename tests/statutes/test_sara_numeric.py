"""The 80 numeric SARA cases: tax(Person, Year, Amount) must equal the gold answer exactly.

Each case runs in its own ``swipl`` process (the processes run concurrently, once per session);
each case is one test.  A last test checks the performance targets on the CPU time the query
itself takes: total < 10 s, median < 50 ms, max < 1 s.
"""

from __future__ import annotations

import os
import statistics
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.statutes.sara import NumericCase, numeric_cases, run_case_goal, tax_goal

pytestmark = pytest.mark.prolog

CASES = numeric_cases()


@dataclass(frozen=True)
class Outcome:
    """What ``tax/3`` returned for a case, and the CPU time it took."""

    answer: str
    cpu_ms: float | None
    stderr: str


@pytest.fixture(scope="session")
def numeric_outcomes(swipl: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Run every numeric case once (concurrently, one process per case)."""
    workdir: Path = tmp_path_factory.mktemp("sara_numeric")

    def run(case: NumericCase) -> tuple[str, Outcome]:
        proc = run_case_goal(swipl, case.path, tax_goal(case.person, case.year), workdir)
        lines = proc.stdout.strip().splitlines()
        if proc.returncode != 0 or not lines:
            return case.name, Outcome("error", None, proc.stderr[-2000:])
        answer, ms = lines[-1].split()
        return case.name, Outcome(answer, float(ms), proc.stderr[-2000:])

    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 2)) as pool:
        return dict(pool.map(run, CASES))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_numeric_case_exact(case: NumericCase, numeric_outcomes: dict[str, Outcome]) -> None:
    outcome = numeric_outcomes[case.name]
    assert outcome.answer == str(case.gold), (
        f"tax({case.person}, {case.year}, A): expected {case.gold}, got {outcome.answer}\n"
        f"{outcome.stderr}"
    )


def test_numeric_cases_found() -> None:
    if not CASES:
        pytest.skip("SARA data not found (set MODX_SARA_DIR)")
    assert len(CASES) == 80


def test_numeric_performance(numeric_outcomes: dict[str, Outcome]) -> None:
    if not CASES:
        pytest.skip("SARA data not found (set MODX_SARA_DIR)")
    times = [o.cpu_ms for o in numeric_outcomes.values() if o.cpu_ms is not None]
    assert len(times) == len(CASES)
    total_s = sum(times) / 1000
    assert total_s < 10, f"total {total_s:.2f} s"
    assert statistics.median(times) < 50, f"median {statistics.median(times):.1f} ms"
    assert max(times) < 1000, f"max {max(times):.0f} ms"
