"""503 ``unavailable`` while the database or the bus is down, instead of a 500.

A 500 escapes to Starlette's outermost middleware, which logs a traceback and re-raises, and
uvicorn then closes the keep-alive connection: the client's next request on it gets no answer.
Handled here, an outage is an ordinary response (``Retry-After``, connection kept), the
outage is logged once when it starts and once when it ends, and a probe in the background
notices the end even if no request comes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from bus.redis_client import CLUSTER_UNREACHABLE, FULL
from bus.tasks import cancel_and_wait
from services.outage import BUS, DATABASE, POSTGRES_UNAVAILABLE, Outage, dependency_of

log = logging.getLogger("services.api")

RETRY_AFTER_S = 2
PROBE_EVERY_S = 1.0

# Exceptions that may mean an outage; ``dependency_of`` decides. Handlers registered for
# these classes answer inside the app (``Exception`` handlers run outside it, see above).
MAYBE_OUTAGE: tuple[type[Exception], ...] = (
    DBAPIError,
    PoolTimeoutError,
    OSError,  # ConnectionError, TimeoutError and the bus's PublishError among them
    RedisConnectionError,
    RedisTimeoutError,
    *POSTGRES_UNAVAILABLE,
    *CLUSTER_UNREACHABLE,
    *FULL,
)


class Outages:
    """The API's view of its two dependencies."""

    def __init__(self) -> None:
        self.by_dependency = {
            DATABASE: Outage("the database, for API requests", log),
            BUS: Outage("the bus, for API requests", log),
        }
        self._probes: dict[str, asyncio.Task[None]] = {}

    def failed(
        self, dependency: str, exc: BaseException, probe: Callable[[], Awaitable[bool]]
    ) -> None:
        """Count a request answered 503; start probing for the end of the outage."""
        self.by_dependency[dependency].failed(exc)
        running = self._probes.get(dependency)
        if running is None or running.done():
            self._probes[dependency] = asyncio.create_task(self._probe(dependency, probe))

    async def _probe(self, dependency: str, probe: Callable[[], Awaitable[bool]]) -> None:
        # A probe that answers proves less than a request that failed: a database whose disk
        # is full answers ``SELECT 1`` and refuses every write. Ended by the probe alone, such
        # an outage was logged as over, and begun again, at each refused request (162 times
        # in 10 s of a full disk, at 2 submissions a second). It ends once requests stop
        # failing too.
        outage = self.by_dependency[dependency]
        while True:  # nothing to wait on but the dependency itself
            if await probe() and outage.quiet_for(PROBE_EVERY_S):
                break
            await asyncio.sleep(PROBE_EVERY_S)
        outage.recovered()

    async def close(self) -> None:
        """Stop the probes (at shutdown)."""
        await cancel_and_wait(self._probes.values())


def install(app: FastAPI, error_body: Callable[..., dict[str, object]]) -> None:
    """Answer outages with 503 and keep everything else as it was (a 500, logged)."""
    outages = Outages()
    app.state.outages = outages

    async def handler(request: Request, exc: Exception) -> JSONResponse:
        dependency = dependency_of(exc)
        if dependency is None:
            log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
            return JSONResponse(
                error_body("internal", f"internal error: {type(exc).__name__}"), 500
            )
        runtime = request.app.state.runtime
        probe = runtime.database_ok if dependency == DATABASE else runtime.bus_ok
        outages.failed(dependency, exc, probe)
        return JSONResponse(
            error_body(
                "unavailable",
                f"the {dependency} is unavailable; try again shortly",
                {"dependency": dependency},
            ),
            503,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

    for cls in MAYBE_OUTAGE:
        app.add_exception_handler(cls, handler)
