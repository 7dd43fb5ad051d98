"""Stopping: background tasks that talk to a server through a client library, and the steps
of a stop that need a server, under one deadline.

A cancellation can be lost inside a client library: one racing the library's own timeout
comes out as a ``TimeoutError``, and redis-py 8.2's pipeline can even return normally while
reconnecting, with the cancel consumed. A loop that then waits for its next piece of work
never ends, and whoever awaits it (a shutdown) hangs. ``cancel_and_wait`` cancels again.

A stop's steps that need a server (acknowledge, release, give a lease back) run through
``cleanup``, inside ``stop_within``: all of them, in this task and in the tasks it starts,
share one deadline, so a process whose server does not answer stops once, not once per step
and component. A step that fails because its server cannot be reached is an expected outage:
one line says what and why. Any other failure is a bug and keeps its traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Iterable, Iterator
from contextvars import ContextVar
from typing import Any

RECANCEL_EVERY_S = 1.0
RECANCEL_LATE_S = 0.1
"""Past the deadline no time is left to close gracefully: SQLAlchemy, cancelled in a query
to a database that does not answer, spends up to 2 s closing the connection unless cancelled
again."""

STOP_TIMEOUT_S = 5.0
"""How long a stop may wait for its servers, all its steps together. With uvicorn's 3 s for
open connections first, a whole ``modx serve`` stops within Docker's 10 s before SIGKILL."""

_deadline: ContextVar[float | None] = ContextVar("stop_deadline", default=None)


async def cancel_and_wait(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel ``tasks`` and wait until every one has ended, cancelling again each
    ``RECANCEL_EVERY_S`` a task that is still running (each ``RECANCEL_LATE_S`` once a stop's
    deadline has passed). Their outcomes are retrieved (no "exception was never retrieved"
    noise) and not raised."""
    tasks = list(tasks)
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        late = time_left() == 0.0
        _, pending = await asyncio.wait(
            pending, timeout=RECANCEL_LATE_S if late else RECANCEL_EVERY_S
        )
    for task in tasks:
        if not task.cancelled():
            task.exception()


@contextlib.contextmanager
def stop_within(
    timeout_s: float | None = None, *, at_deadline: Callable[[], object] | None = None
) -> Iterator[None]:
    """Give the ``cleanup`` steps awaited inside (here and in tasks started here) until
    ``timeout_s`` (``STOP_TIMEOUT_S``) from now, or until the deadline of an enclosing stop
    when that comes first.

    ``at_deadline`` is called once if the stop is still under way at its deadline: to cut
    what a task can only wait on (a library that finishes a close whatever cancels it), so
    that cancelling it again ends it."""
    loop = asyncio.get_running_loop()
    seconds = STOP_TIMEOUT_S if timeout_s is None else timeout_s
    enclosing = _deadline.get()
    deadline = loop.time() + seconds
    deadline = deadline if enclosing is None else min(enclosing, deadline)
    token = _deadline.set(deadline)
    timer = loop.call_at(deadline, at_deadline) if at_deadline is not None else None
    try:
        yield
    finally:
        if timer is not None:
            timer.cancel()
        _deadline.reset(token)


def time_left() -> float | None:
    """Seconds until the deadline of the stop under way (at least 0), or None outside one."""
    deadline = _deadline.get()
    if deadline is None:
        return None
    return max(0.0, deadline - asyncio.get_running_loop().time())


async def cleanup(
    what: str,
    step: Coroutine[Any, Any, object],
    *,
    server: str,
    unreachable: Callable[[BaseException], bool],
    logger: logging.Logger,
) -> bool:
    """Run ``step`` until the stop's deadline (``STOP_TIMEOUT_S`` outside ``stop_within``);
    True when it succeeded.

    A failure is logged as one warning, ``"<what> failed: <cause>"``: without a traceback when
    ``unreachable`` says that it means ``server`` cannot be reached (an outage: the traceback
    would only show the client library waiting), with it otherwise (a bug). A step still
    running at the deadline is cancelled and fails with a ``TimeoutError``.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    left = time_left()
    task = asyncio.ensure_future(step)  # a task: cancelled again when a library swallows it
    try:
        await asyncio.wait([task], timeout=STOP_TIMEOUT_S if left is None else left)
    finally:
        await cancel_and_wait([task])  # a no-op when it has ended
    if task.cancelled():
        if left == 0.0:  # it ran up to its first wait: another step had used the time up
            logger.warning("%s failed: the stop's deadline had passed before it began", what)
            return False
        exc: BaseException = TimeoutError()
        cause = f"TimeoutError after {loop.time() - started:.1f} s (the stop's deadline)"
    else:
        failure = task.exception()
        if failure is None:
            return True
        exc = failure
        cause = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if unreachable(exc):
        logger.warning("%s failed: %s, %s unreachable", what, cause, server)
    else:
        logger.warning("%s failed: %s", what, cause, exc_info=exc)
    return False
