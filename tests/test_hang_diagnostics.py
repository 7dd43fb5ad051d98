"""The hang diagnostic (tests/fixtures/hangs.py) names a stuck task and shows where it waits."""

from __future__ import annotations

import asyncio

from tests.fixtures.hangs import describe, unfinished_tasks


async def _waits_for_ever(never: asyncio.Future[None]) -> None:
    try:
        await never
    except asyncio.CancelledError:  # swallowed, as the hangs this finds do
        await asyncio.Event().wait()


async def test_a_task_that_swallowed_its_cancel_is_shown_where_it_waits() -> None:
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    stuck = asyncio.create_task(_waits_for_ever(never), name="stuck-one")
    await asyncio.sleep(0)
    stuck.cancel()
    await asyncio.sleep(0.01)
    assert not stuck.done()
    found = unfinished_tasks()
    assert stuck in found
    text = describe(found)
    assert "--- stuck-one (cancelling=1)" in text
    assert "_waits_for_ever" in text
    # Cleaned up: the inner wait is cancelled too, and nothing is left behind.
    stuck.cancel()
    await asyncio.gather(stuck, return_exceptions=True)
    assert stuck.done()
