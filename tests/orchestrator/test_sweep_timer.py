"""The sweep timer under uvloop: a due time already past must not break the next one."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import uvloop

from services.config import Settings
from services.db.models import utcnow
from services.runtime import Runtime


def test_a_due_time_in_the_past_then_another_schedules_a_sweep_under_uvloop(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        runtime = await Runtime.open(Settings(data_dir=tmp_path), orchestrate=False)
        try:
            orchestrator = runtime.orchestrator
            # uvloop answers ``call_at`` with a past time with a handle that has no ``when()``;
            # the second call compared against it and raised AttributeError.
            orchestrator._sweep_at(utcnow() - timedelta(seconds=5))
            orchestrator._sweep_at(utcnow() + timedelta(seconds=60))
            orchestrator._sweep_at(utcnow() - timedelta(seconds=1))
            await asyncio.wait_for(orchestrator._sweep_now.wait(), 30)
        finally:
            await runtime.close()

    uvloop.run(main())
