"""Long requests one token and one tenant hold open at once on this API process: run streams
(``/v1/runs/{id}/stream``) and waits (``/v1/runs/{id}/wait``).

Each one is a socket and a task of the process for up to an hour (a stream's ``timeout_s``):
past ``MODX_OPEN_STREAMS_PER_TOKEN`` of one token, or ``MODX_OPEN_STREAMS_PER_TENANT`` of one
tenant's tokens together, the next is answered 429. The counts are this process's own: behind
several replicas, a token may hold that many on each.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import contextmanager

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from services.api.errors import ApiError
from services.auth import Principal
from services.config import Settings
from services.quota import Quota, QuotaExceeded

RETRY_AFTER_S = 5
"""What a 429 asks for: streams and waits end on their own (their run ends, or their timeout)."""


class OpenStreams:
    """The streams and waits each token and each tenant hold open now."""

    def __init__(self, settings: Settings) -> None:
        self._tokens = Quota("MODX_OPEN_STREAMS_PER_TOKEN", lambda: settings.open_streams_per_token)
        self._tenants = Quota(
            "MODX_OPEN_STREAMS_PER_TENANT", lambda: settings.open_streams_per_tenant
        )

    def take(self, principal: Principal) -> Callable[[], None]:
        """Count one more for ``principal``'s token and tenant; returns what counts it out
        (once, however often called). Raises a 429 ``ApiError`` naming the limit reached."""
        token = _token_key(principal)
        try:
            self._tokens.take(token)
            try:
                self._tenants.take(principal.tenant)
            except QuotaExceeded:
                self._tokens.give(token)
                raise
        except QuotaExceeded as exc:
            who = "this token" if exc.key == token else f"tenant {principal.tenant!r}"
            raise ApiError(
                429,
                "too_many_requests",
                f"{who} holds {exc.limit} run streams and waits open on this API process "
                f"already ({exc.setting}); try again when one ends",
                {"limit": exc.setting, "max": exc.limit},
                headers={"Retry-After": str(RETRY_AFTER_S)},
            ) from None
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._tokens.give(token)
                self._tenants.give(principal.tenant)

        return release

    @contextmanager
    def hold(self, principal: Principal) -> Iterator[None]:
        """One open stream of ``principal``'s while the block runs."""
        release = self.take(principal)
        try:
            yield
        finally:
            release()


class HeldStream(StreamingResponse):
    """A streaming response that counts its stream out once it is over, however it ends
    (finished, timed out, or the client went away): its body's own ``finally`` never runs
    when the body was not started."""

    def __init__(
        self,
        content: AsyncIterator[str],
        release: Callable[[], None],
        media_type: str,
        headers: Mapping[str, str],
    ) -> None:
        super().__init__(content, media_type=media_type, headers=headers)
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


def _token_key(principal: Principal) -> str:
    if principal.token_id is not None:
        return f"token {principal.token_id}"
    if principal.agent_id is not None:
        return f"agent {principal.agent_id}"
    return f"configured {principal.role} {principal.name}"  # MODX_API_TOKEN, MODX_ADMIN_TOKEN
