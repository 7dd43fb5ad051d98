"""Stopping background tasks that talk to a server through a client library.

A cancellation can be lost inside a client library: one racing the library's own timeout
comes out as a ``TimeoutError``, and redis-py 8.2's pipeline can even return normally while
reconnecting, with the cancel consumed. A loop that then waits for its next piece of work
never ends, and whoever awaits it (a shutdown) hangs. ``cancel_and_wait`` cancels again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

RECANCEL_EVERY_S = 1.0


async def cancel_and_wait(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel ``tasks`` and wait until every one has ended, cancelling again each
    ``RECANCEL_EVERY_S`` a task that is still running. Their outcomes are retrieved (no
    "exception was never retrieved" noise) and not raised."""
    tasks = list(tasks)
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=RECANCEL_EVERY_S)
    for task in tasks:
        if not task.cancelled():
            task.exception()
