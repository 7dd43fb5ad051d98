"""The garbage collector's settings for a long-running server process.

CPython's cyclic collector runs a pass over the youngest objects after every 700 net
allocations, and a full pass over every tracked object once enough have survived. In
``modx serve`` under 200 clients (``python -m bench.hotpath``), a full pass walked about
280,000 objects that live as long as the process (modules, pydantic and SQLAlchemy schemas,
routes), 5 times in one run at 160-240 ms each: with the young passes, 1.5 s of collector
time in a run of about 4,600 steps, a quarter of the server's CPU.

Once the server is up (``settle``): the objects alive then are frozen (moved out of the
collector's sight, ``gc.freeze``: they are never collected, which is what they were going to
be anyway), and the youngest generation collects after ``YOUNG_THRESHOLD`` net allocations,
so that the objects of requests and steps in flight are mostly freed by reference counting
before a pass finds them and promotes them towards the full pass. Cycles are still found and
freed; only later.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import REGISTRY
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

YOUNG_THRESHOLD = 10_000
"""Net allocations of tracked objects between two passes over the youngest generation
(CPython's default: 700). The older generations keep their defaults (every 10 passes of the
one below)."""


def settle() -> None:
    """Freeze what is alive now and space the young passes out (call once the process has
    started: its long-lived objects exist)."""
    gc.collect()  # what start-up left as garbage is freed, not frozen
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


class PassTimes(Collector):
    """The time the collector's passes took, by generation: ``modx_gc_seconds_total``.

    Summed in plain floats: a pass may start inside any allocation, also one made while a
    metric's (non-reentrant) lock is held, so the callback touches no metric.
    """

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self._started = 0.0

    def on_pass(self, phase: str, info: dict[str, Any]) -> None:
        """``gc.callbacks`` entry."""
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds[info["generation"]] += time.perf_counter() - self._started

    def collect(self) -> Iterator[CounterMetricFamily]:
        """The Prometheus view (read at each scrape)."""
        family = CounterMetricFamily(
            "modx_gc_seconds",
            "Wall time of the garbage collector's passes, by generation, since the server started",
            labels=["generation"],
        )
        for generation, seconds in enumerate(self.seconds):
            family.add_metric([str(generation)], seconds)
        yield family


PASS_TIMES = PassTimes()


def count_pass_times() -> None:
    """Time every pass from now on (once per process; ``modx_gc_seconds_total``)."""
    if PASS_TIMES.on_pass not in gc.callbacks:
        gc.callbacks.append(PASS_TIMES.on_pass)
        REGISTRY.register(PASS_TIMES)


async def when_ready(_runtime: object) -> None:
    """``settle`` as a start-up hook of the app (``app.state.on_ready``), with the passes'
    times counted."""
    count_pass_times()
    settle()
