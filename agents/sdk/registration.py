"""The agent's side of the registry protocol (docs/protocol.md, "Registration").

``register`` sends the card and gets back the agent's id, token, heartbeat interval and bus
URL (``in_process_bus``, asked first, says whether that bus is out of this process's reach);
``heartbeat`` renews the lease; ``deregister`` asks to be drained and removed. A 4xx
answer is final (``RequestRejected``: a bad token or card does not heal by waiting); a
connection error or a 5xx is transient (``ServerUnavailable``) and callers back off and retry.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents.sdk.errors import RequestRejected, ServerUnavailable
from agents.sdk.settings import AgentSettings

logger = logging.getLogger("agents.sdk")

UNKNOWN_AGENT = frozenset({401, 404, 410})
"""Heartbeat answers meaning the server no longer knows us (lost state, expired record)."""


class Registration(BaseModel):
    """The registry's answer to ``POST /v1/agents``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    agent_id: str
    token: str = Field(repr=False)
    heartbeat_interval_s: float = Field(gt=0)
    lease_s: float | None = None
    bus_url: str | None = None
    inbox_only: tuple[str, ...] = ()
    """Capabilities whose tasks come to the inbox only (their stream is another tenant's)."""
    orchestrator_key: str | None = None
    """The orchestrator's public key (base64): tasks not signed with it are refused."""


class RegistryClient:
    """Calls the MODX registry endpoints with the client token or the agent token.

    Args:
        settings: Where the server is and the client token.
        client: An ``httpx.AsyncClient`` to use (e.g. on an ASGI transport); one is created
            from ``settings`` when omitted, and closed by ``aclose``.
    """

    def __init__(self, settings: AgentSettings, client: httpx.AsyncClient | None = None) -> None:
        self._settings = settings
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(
            base_url=settings.url.rstrip("/"), timeout=settings.http_timeout_s
        )

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_client:
            await self._client.aclose()

    async def register(self, card: Mapping[str, Any]) -> Registration:
        """Register once.

        Raises:
            RequestRejected: On a 4xx answer or a malformed 201 answer.
            ServerUnavailable: When the server is unreachable or answers 5xx.
        """
        token = self._settings.api_token
        try:
            response = await self._request("POST", "/v1/agents", token=token, json=dict(card))
        except RequestRejected as exc:
            if exc.status == 401 and not token:
                raise RequestRejected(
                    f"{exc} (MODX_API_TOKEN is not set)", status=exc.status, body=exc.body
                ) from exc
            raise
        try:
            return Registration.model_validate(response.json())
        except (ValidationError, ValueError) as exc:
            raise RequestRejected(
                f"registration answer is not {{agent_id, token, heartbeat_interval_s}}: {exc}",
                status=response.status_code,
                body=response.text,
            ) from exc

    async def register_until(
        self, card: Mapping[str, Any], stop: asyncio.Event
    ) -> Registration | None:
        """Register, backing off and retrying while the server is unavailable.

        Returns:
            The registration, or None when ``stop`` was set before it succeeded.

        Raises:
            RequestRejected: On a 4xx answer (retrying would not help).
        """
        failures = 0
        while not stop.is_set():
            try:
                return await self.register(card)
            except ServerUnavailable as exc:
                delay = self.backoff(failures)
                failures += 1
                logger.warning(
                    "MODX at %s unavailable (%s); registering again in %.1fs",
                    self._settings.url,
                    exc,
                    delay,
                )
                await wait_or_timeout(stop, delay)
        return None

    async def in_process_bus(self) -> str | None:
        """The URL of the server's bus when it lives in the server's process (an embedded
        server's ``memory://``), from ``GET /v1/bus``; None for Redis, and when the server
        does not say (an older server, or one unavailable: registering finds out then)."""
        try:
            response = await self._request("GET", "/v1/bus", token=self._settings.api_token)
            url = response.json().get("url")
        except (RequestRejected, ServerUnavailable, ValueError, AttributeError):
            return None
        return url if isinstance(url, str) and url.startswith("memory:") else None

    async def heartbeat(self, registration: Registration, in_flight: int) -> bool:
        """Renew the lease.

        Returns:
            False when the server no longer knows the agent (it must register again).

        Raises:
            ServerUnavailable: When the server is unreachable or answers 5xx.
            RequestRejected: On another 4xx answer.
        """
        try:
            await self._request(
                "POST",
                f"/v1/agents/{registration.agent_id}/heartbeat",
                token=registration.token,
                json={"in_flight": in_flight},
            )
        except RequestRejected as exc:
            if exc.status in UNKNOWN_AGENT:
                return False
            raise
        return True

    async def deregister(self, registration: Registration, attempts: int = 3) -> bool:
        """Ask to be removed; a few quick retries, then give up (the lease will expire anyway).

        Returns:
            True when the server acknowledged (or already did not know the agent).
        """
        for attempt in range(attempts):
            try:
                await self._request(
                    "DELETE", f"/v1/agents/{registration.agent_id}", token=registration.token
                )
                return True
            except RequestRejected as exc:
                return exc.status in UNKNOWN_AGENT
            except ServerUnavailable as exc:
                logger.warning("deregistration failed (%s)", exc)
                if attempt + 1 < attempts:
                    await asyncio.sleep(self.backoff(attempt))
        return False

    async def post(self, path: str, token: str | None, body: Mapping[str, Any]) -> httpx.Response:
        """POST JSON to ``path`` with a bearer token; errors as in ``register``."""
        return await self._request("POST", path, token=token, json=dict(body))

    def backoff(self, failures: int) -> float:
        """Exponential back-off with jitter, so restarted agents do not stampede the server."""
        growth = self._settings.retry_initial_s * 2.0 ** min(failures, 30)
        ceiling = min(self._settings.retry_max_s, growth)
        return ceiling * random.uniform(0.5, 1.0)

    async def _request(
        self, method: str, path: str, *, token: str | None, json: Any = None
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            response = await self._client.request(method, path, headers=headers, json=json)
        except httpx.TransportError as exc:
            raise ServerUnavailable(f"{method} {path}: {exc!r}") from exc
        if response.status_code >= 500:
            raise ServerUnavailable(f"{method} {path}: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise RequestRejected(
                f"{method} {path}: HTTP {response.status_code}: {_error_message(response)}",
                status=response.status_code,
                body=response.text,
            )
        return response


async def keep_alive(
    client: RegistryClient,
    current: list[Registration],
    card: Callable[[], Mapping[str, Any]],
    in_flight: Callable[[], int],
    stop: asyncio.Event,
    on_registered_again: Callable[[Registration], Awaitable[None]] | None = None,
) -> None:
    """Send heartbeats forever (until cancelled), registering again when forgotten (and
    returning when forgotten while ``stop`` is set).

    Args:
        client: The registry client.
        current: A one-item list holding the registration; replaced on re-registration so
            the caller deregisters the right id.
        card: Builds the card to register again with.
        in_flight: The number of tasks in flight, sent with each heartbeat.
        stop: Once set (shutting down), a forgotten agent does not register again.
        on_registered_again: Called with the new registration (e.g. to move the inbox).
    """
    forgotten = False  # the server refused the registration's token: it is not sent again
    while True:
        await asyncio.sleep(current[0].heartbeat_interval_s)
        if not forgotten:
            try:
                known = await client.heartbeat(current[0], in_flight())
            except (ServerUnavailable, RequestRejected) as exc:
                # The lease may lapse; the next heartbeat that gets through brings it back.
                logger.warning("heartbeat failed: %s", exc)
                continue
            if known:
                continue
            # Each heartbeat more with that token would be a failed token check, and enough
            # of them lock every client of this address out (the server's throttle).
            forgotten = True
            logger.warning("MODX no longer knows agent %s", current[0].agent_id)
        if stop.is_set():
            return  # shutting down: a forgotten agent does not register again
        logger.warning("registering %s again", current[0].agent_id)
        try:
            fresh = await client.register(card())
        except (ServerUnavailable, RequestRejected) as exc:
            logger.warning("registering again failed (%s); retrying at the next heartbeat", exc)
            continue
        current[0], forgotten = fresh, False
        if on_registered_again is not None:
            await on_registered_again(fresh)
        logger.info("registered again as %s", fresh.agent_id)


async def wait_or_timeout(event: asyncio.Event, delay_s: float) -> bool:
    """Wait for ``event`` at most ``delay_s`` seconds; True when it was set."""
    try:
        async with asyncio.timeout(delay_s):
            await event.wait()
    except TimeoutError:
        return False
    return True


def _error_message(response: httpx.Response) -> str:
    # The API answers {"error": {"code", "message", "details"}}; fall back to the raw text.
    try:
        error = response.json().get("error", {})
        return f"{error.get('code', '')}: {error.get('message', '')}".strip(": ")
    except (ValueError, AttributeError):
        return response.text[:200]
