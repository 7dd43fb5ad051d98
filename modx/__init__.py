"""MODX's Python client: ``from modx import Client`` (or ``AsyncClient``).

    from modx import Client

    with Client() as modx:                      # MODX_URL / MODX_API_TOKEN, or `modx up`'s
        run = modx.run("sara-tax", {"case": "..."}, timeout=60)
        print(run.status, run.output)

Errors are exceptions (``modx.errors``): ``NotFound``, ``Conflict``, ``InvalidRequest`` (with
the fields at fault in ``details``), ``Unauthorized``, ``Unreachable``...
"""

from modx.client import Accepted, AsyncClient, Client, Event, Run, Step
from modx.errors import (
    Conflict,
    Forbidden,
    InvalidRequest,
    ModxError,
    NotFound,
    RateLimited,
    Unauthorized,
    Unavailable,
    Unreachable,
    error_text,
)

__all__ = [
    "Accepted",
    "AsyncClient",
    "Client",
    "Conflict",
    "Event",
    "Forbidden",
    "InvalidRequest",
    "ModxError",
    "NotFound",
    "RateLimited",
    "Run",
    "Step",
    "Unauthorized",
    "Unavailable",
    "Unreachable",
    "error_text",
]
