"""The chaos scenarios, short (``bench/chaos``): default workflow settings, a private Redis and
PostgreSQL killed under load. Every run succeeds and no step completes twice."""

from __future__ import annotations

import contextlib
import glob
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.chaos.scenarios import SCENARIOS, run_scenario
from bench.chaos.servers import PrivatePostgres, descendants
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


def _faketime() -> None:
    if not glob.glob("/usr/lib/*/faketime/libfaketime.so.1"):
        missing("libfaketime (Debian's faketime)")


# The netns-* scenarios have a module of their own (test_netns.py: they need root and nft).
# replica-lost-skewed runs a replica under libfaketime (Debian's faketime), its clock 60 s
# ahead; the clocks of leases are also tested in tests/orchestrator/test_clock_skew.py.
@pytest.mark.parametrize(
    "name",
    [
        n
        for n in SCENARIOS
        if not n.startswith("netns-") and n not in ("agents-skewed", "cluster-failover")
    ],
)
async def test_every_run_succeeds_through(name: str, cluster: tuple[PrivatePostgres, Path]) -> None:
    postgres, folder = cluster
    if SCENARIOS[name][1].get("skew"):
        _faketime()
    result = await run_scenario(name, folder, postgres, runs=RUNS, rate=RATE, settle_s=150)
    assert result.faults >= 1
    assert (result.succeeded, result.failed, result.stuck) == (RUNS, 0, 0), result
    assert result.duplicate_completions == 0, result


async def test_agents_with_clocks_30_s_off_keep_their_leases_and_have_their_answers_taken(
    cluster: tuple[PrivatePostgres, Path],
) -> None:
    """One agent 30 s behind, one 30 s ahead (libfaketime): every step is run once, by both
    agents, and counted; both leases hold. With one 400 s ahead (past ``clock_skew_s``, 300 s)
    it failed: that agent was refused at registration (422, ``$.proof.signed_at``)."""
    _faketime()
    postgres, folder = cluster
    result = await run_scenario("agents-skewed", folder, postgres, runs=RUNS, rate=RATE)
    assert (result.succeeded, result.failed, result.stuck) == (RUNS, 0, 0), result
    assert (result.reexecutions, result.duplicate_completions) == (0, 0), result
    assert result.executors == 2, result
    assert result.leased_in_fault == (2, 2), result


async def test_a_redis_cluster_primary_killed_mid_load_fails_over_and_every_step_runs_once(
    cluster: tuple[PrivatePostgres, Path],
) -> None:
    """Three primaries with a replica each (``tests/fixtures/redis_cluster.py``); the primary
    that serves the tasks' stream is SIGKILLed while runs are in flight, and its replica takes
    its slots over. Every run succeeds, and no step runs twice."""
    postgres, folder = cluster
    result = await run_scenario("cluster-failover", folder, postgres, runs=RUNS, rate=RATE)
    assert result.faults == 1
    assert (result.succeeded, result.failed, result.stuck) == (RUNS, 0, 0), result
    assert (result.reexecutions, result.duplicate_completions) == (0, 0), result


def _stopped(pids: list[int]) -> list[int]:
    """Which of ``pids`` are stopped (state T in /proc)."""
    found = []
    for pid in pids:
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T":
                found.append(pid)
    return found


def test_a_frozen_and_thawed_cluster_is_left_running_and_stops_at_once(
    cluster: tuple[PrivatePostgres, Path],
) -> None:
    """After a freeze (``postgres-frozen``), no process of the cluster may stay stopped: a
    supervisor that stops itself when its child stops (``runuser``, as root) was left stopped,
    and the next scenario's ``pg_ctl stop -m immediate`` then waited on it for ever."""
    postgres, _ = cluster
    assert postgres.proc is not None
    postgres.signal(signal.SIGSTOP)
    time.sleep(0.5)
    postgres.signal(signal.SIGCONT)
    time.sleep(0.5)
    assert _stopped(descendants(postgres.proc.pid)) == []
    postgres.stop_immediate()
    assert postgres.proc.poll() is not None
    postgres.start()  # for the scenarios after this test
