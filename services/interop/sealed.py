"""What an A2A or MCP caller learns of an error MODX did not mean to answer: its type, never its
text.

Both SDKs answer an exception a request handler raises with its text (the a2a-sdk's dispatcher
``InternalError(message=str(exc))``, on a stream too; the MCP SDK's server ``ErrorData(code=0,
message=str(err))``): a database error came back to the caller with its SQL statement and
parameters. A handler wrapped by ``sealing`` (a call) or ``sealing_stream`` (a stream) logs
such an error with its traceback and raises the protocol's internal error, ``internal error:
<type>``, as the REST API answers a 500. The protocol's own errors (``meant``) pass as they are.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncGenerator, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

Internal = Callable[[str], Exception]
"""The protocol's internal error, made from its message."""


def _internal(exc: Exception, internal: Internal) -> Exception:
    log.exception("an A2A or MCP request failed")
    return internal(f"internal error: {type(exc).__name__}")


def sealing(
    meant: type[Exception], internal: Internal
) -> Callable[[Callable[P, Coroutine[Any, Any, T]]], Callable[P, Coroutine[Any, Any, T]]]:
    """A decorator: a handler's call whose errors other than ``meant`` answer by type only."""

    def seal(method: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, Coroutine[Any, Any, T]]:
        @functools.wraps(method)
        async def call(*args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return await method(*args, **kwargs)
            except meant:
                raise
            except Exception as exc:
                raise _internal(exc, internal) from None

        return call

    return seal


def sealing_stream(
    meant: type[Exception], internal: Internal
) -> Callable[[Callable[P, AsyncGenerator[T]]], Callable[P, AsyncGenerator[T]]]:
    """A decorator: a handler's stream whose errors other than ``meant`` answer by type only."""

    def seal(method: Callable[P, AsyncGenerator[T]]) -> Callable[P, AsyncGenerator[T]]:
        @functools.wraps(method)
        async def stream(*args: P.args, **kwargs: P.kwargs) -> AsyncGenerator[T]:
            try:
                async for item in method(*args, **kwargs):
                    yield item
            except meant:
                raise
            except Exception as exc:
                raise _internal(exc, internal) from None

        return stream

    return seal
