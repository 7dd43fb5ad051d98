"""Every route's endpoint and dependencies are coroutines: FastAPI runs a plain ``def`` in its
thread pool, a thread hop per call on every request (measured: about a tenth of the server's CPU
in a burst of ``/wait`` requests, for ``get_runtime`` and the role checks)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts

from services.api.app import create_app
from services.config import Settings


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def _runs_on_the_loop(call: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call)


def test_no_route_runs_a_dependency_or_endpoint_in_the_thread_pool() -> None:
    app = create_app(Settings())
    checked = 0
    threaded = set()
    for context in iter_route_contexts(app.routes):
        dependant = getattr(context.route, "dependant", None)
        if dependant is None:  # a plain Starlette route (docs, MCP, A2A): no dependencies
            continue
        for call in _calls(dependant):
            checked += 1
            if not _runs_on_the_loop(call):
                threaded.add(f"{context.path}: {getattr(call, '__qualname__', call)}")
    assert checked > 100
    assert not threaded, sorted(threaded)
