"""The chaos scenarios, short (``bench/chaos``): default workflow settings, a private Redis and
PostgreSQL killed under load. Every run succeeds and no step completes twice."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.chaos.scenarios import SCENARIOS, run_scenario
from bench.chaos.servers import PrivatePostgres
from tests.fixtures.services import missing

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

RUNS = 16
RATE = 4.0  # four seconds of submissions: the faults land while runs are in flight


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PrivatePostgres, Path]]:
    """One private PostgreSQL cluster for the module (each scenario has its own database)."""
    if shutil.which("redis-server") is None:
        missing("redis-server")
    folder = tmp_path_factory.mktemp("chaos")
    try:
        postgres = PrivatePostgres(folder / "postgres")
    except RuntimeError as exc:
        missing(str(exc))
    postgres.init()
    postgres.start()
    yield postgres, folder
    postgres.stop()


# replica-lost-skewed needs libfaketime (Debian's faketime) for a replica's clock; the clocks
# of leases are tested in tests/orchestrator/test_clock_skew.py.
@pytest.mark.parametrize("name", [name for name in SCENARIOS if name != "replica-lost-skewed"])
async def test_every_run_succeeds_through(name: str, cluster: tuple[PrivatePostgres, Path]) -> None:
    postgres, folder = cluster
    result = await run_scenario(name, folder, postgres, runs=RUNS, rate=RATE, settle_s=150)
    assert result.faults >= 1
    assert (result.succeeded, result.failed, result.stuck) == (RUNS, 0, 0), result
    assert result.duplicate_completions == 0, result
