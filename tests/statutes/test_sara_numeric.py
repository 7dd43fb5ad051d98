"""The 80 numeric SARA cases: tax(Person, Year, Amount) must equal the gold answer exactly.

The cases run in two ``swipl`` processes (``run_tax_batch``: each case's facts are consulted,
queried and unloaded in turn, and the fact base must be empty before each); each case is one
test.  A last test checks the performance targets on the CPU time of the queries themselves:
total < 10 s, median < 50 ms, max < 1 s.
"""

from __future__ import annotations

import statistics
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.statutes.sara import (
    NumericCase,
    TaxOutcome,
    case_params,
    numeric_cases,
    require_sara,
    run_tax_batch,
)

pytestmark = pytest.mark.prolog

CASES = numeric_cases()
BATCHES = 2


@pytest.fixture(scope="session")
def numeric_outcomes(
    swipl: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, TaxOutcome], str]:
    """Run every numeric case once."""
    require_sara()
    workdir: Path = tmp_path_factory.mktemp("sara_numeric")
    chunks = [CASES[i::BATCHES] for i in range(BATCHES)]
    with ThreadPoolExecutor(max_workers=BATCHES) as pool:
        results = list(pool.map(lambda chunk: run_tax_batch(swipl, chunk, workdir), chunks))
    outcomes: dict[str, TaxOutcome] = {}
    stderr = ""
    for out, err in results:
        outcomes.update(out)
        stderr += err
    return outcomes, stderr


@pytest.mark.parametrize("case", case_params(CASES))
def test_numeric_case_exact(
    case: NumericCase, numeric_outcomes: tuple[dict[str, TaxOutcome], str]
) -> None:
    outcomes, stderr = numeric_outcomes
    assert case is not None
    outcome = outcomes.get(case.name)
    assert outcome is not None, f"{case.name} did not run\n{stderr[-3000:]}"
    assert outcome.answer == str(case.gold), (
        f"tax({case.person}, {case.year}, A): expected {case.gold}, got {outcome.answer}"
    )


def test_every_numeric_case_ran(numeric_outcomes: tuple[dict[str, TaxOutcome], str]) -> None:
    """The table is the whole data set, and every row of it ran."""
    assert len(CASES) == 80
    assert sorted(numeric_outcomes[0]) == sorted(c.name for c in CASES)


def test_numeric_performance(numeric_outcomes: tuple[dict[str, TaxOutcome], str]) -> None:
    outcomes, _ = numeric_outcomes
    times = [o.cpu_ms for o in outcomes.values() if o.cpu_ms is not None]
    assert len(times) == len(CASES)
    total_s = sum(times) / 1000
    assert total_s < 10, f"total {total_s:.2f} s"
    assert statistics.median(times) < 50, f"median {statistics.median(times):.1f} ms"
    assert max(times) < 1000, f"max {max(times):.0f} ms"
