"""The Python client of the REST API: ``Client`` (blocking) and ``AsyncClient`` (asyncio).

Both have the same methods with the same arguments. What a call sends and how an answer is read
is written once (``_calls`` and the ``from_api`` readers); the two classes differ only in how
they wait for I/O. Errors are exceptions from ``modx.errors``, never a status to check.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from modx.errors import ModxError, Unavailable, Unreachable, error_for, error_text
from modx.locate import find_server
from modx.sse import SseParser

TERMINAL = frozenset({"succeeded", "failed", "cancelled", "timed_out"})
# The longest /wait the server grants and the slice a stream is asked for; longer waits are
# made of several.
SLICE_S = 300.0


@dataclass(frozen=True)
class Accepted:
    """The answer to a submit or a retry: the run, its state, and whether this call created it
    (False when an idempotency key found an earlier run)."""

    run_id: str
    status: str
    created: bool

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> Accepted:
        return cls(body["run_id"], body["status"], bool(body.get("created", True)))


@dataclass(frozen=True)
class Step:
    """One step of a run (``raw`` has every field the API sent)."""

    step_id: str
    capability: str
    status: str
    attempt: int
    output: Any
    error: dict[str, Any] | None
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> Step:
        return cls(
            body["step_id"],
            body.get("capability", ""),
            body["status"],
            body.get("attempt", 0),
            body.get("output"),
            body.get("error"),
            body,
        )


@dataclass(frozen=True)
class Run:
    """A run with its steps (``raw`` has every field the API sent)."""

    run_id: str
    workflow: str
    status: str
    input: Any
    output: Any
    error: dict[str, Any] | None
    steps: tuple[Step, ...]
    raw: dict[str, Any] = field(repr=False)

    @property
    def finished(self) -> bool:
        """True once the run has ended: succeeded, failed, cancelled or timed out."""
        return self.status in TERMINAL

    @property
    def reason(self) -> str | None:
        """Why the run did not succeed, in one line (``modx.errors.error_text``), or None."""
        return None if self.error is None else error_text(self.error)

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> Run:
        return cls(
            body["run_id"],
            body["workflow"],
            body["status"],
            body.get("input"),
            body.get("output"),
            body.get("error"),
            tuple(Step.from_api(s) for s in body.get("steps", [])),
            body,
        )


@dataclass(frozen=True)
class Event:
    """One entry of a run's history, as ``GET /v1/runs/{id}/events`` and the stream give it."""

    id: int
    type: str
    step_id: str | None
    from_state: str | None
    to_state: str | None
    data: dict[str, Any]
    created_at: str

    @property
    def final(self) -> bool:
        """True for the run's own last transition (nothing follows it)."""
        return self.step_id is None and self.to_state in TERMINAL

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> Event:
        return cls(
            int(body["id"]),
            body["type"],
            body.get("step_id"),
            body.get("from_state"),
            body.get("to_state"),
            body.get("data") or {},
            str(body.get("created_at", "")),
        )


@dataclass(frozen=True)
class _Call:
    method: str
    path: str
    params: dict[str, Any] | None = None
    json: Any = None
    headers: dict[str, str] | None = None


class _calls:
    @staticmethod
    def submit(
        workflow: str | dict[str, Any],
        input: Any,
        version: int | None,
        idempotency_key: str | None,
        deadline_s: float | None,
    ) -> _Call:
        body: dict[str, Any] = {"workflow": workflow, "input": input}
        for key, value in (
            ("version", version),
            ("idempotency_key", idempotency_key),
            ("deadline_s", deadline_s),
        ):
            if value is not None:
                body[key] = value
        return _Call("POST", "/v1/runs", json=body)

    @staticmethod
    def wait(run_id: str, seconds: float) -> _Call:
        return _Call("GET", f"/v1/runs/{_seg(run_id)}/wait", params={"timeout_s": _slice(seconds)})

    @staticmethod
    def stream(run_id: str, last: int, seconds: float) -> _Call:
        headers = {"Last-Event-ID": str(last)} if last else None
        return _Call(
            "GET",
            f"/v1/runs/{_seg(run_id)}/stream",
            {"timeout_s": _slice(seconds)},
            headers=headers,
        )

    @staticmethod
    def runs(status: str | None, workflow: str | None, limit: int, cursor: str | None) -> _Call:
        params = {"status": status, "workflow": workflow, "limit": limit, "cursor": cursor}
        return _Call("GET", "/v1/runs", {k: v for k, v in params.items() if v is not None})


def _seg(value: str) -> str:
    """One path segment: a run id or a name can never reach another route."""
    return quote(value, safe="")


def _slice(seconds: float) -> float:
    return max(0.001, min(SLICE_S, seconds))


def _left(end: float | None) -> float:
    return SLICE_S if end is None else end - time.monotonic()


def _end(timeout: float | None) -> float | None:
    return None if timeout is None else time.monotonic() + timeout


AWAY_S = 60.0
"""How long a wait with no timeout waits for a server that is away (restarting, its database
down): the run lives on in the database, and the wait goes on when the server is back."""

AWAY = (Unreachable, Unavailable)


def _pause(exc: ModxError, end: float | None, away_since: float) -> float | None:
    """Seconds to wait before asking a server that is away again (its ``Retry-After``, else 1),
    or None to give up: the wait's time is up, or with no timeout, ``AWAY_S`` has passed."""
    left = _left(end) if end is not None else AWAY_S - (time.monotonic() - away_since)
    return None if left <= 0 else min(exc.retry_after or 1.0, left)


def _answer(response: httpx.Response) -> Any:
    """The body of a success, or the matching ``ModxError``."""
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = response.text
    if response.status_code >= 400:
        raise error_for(response.status_code, body, response.headers.get("retry-after"))
    return body


def _unreachable(url: str, exc: httpx.HTTPError) -> Unreachable:
    return Unreachable(0, "unreachable", f"cannot reach MODX at {url}: {type(exc).__name__}: {exc}")


def _http_options(url: str | None, token: str | None, timeout: float) -> dict[str, Any]:
    server = find_server(url, token)
    headers = {"user-agent": "modx-python"}
    if server.token:
        headers["authorization"] = f"Bearer {server.token}"
    # Reads may last a whole wait slice; connecting and writing may not.
    return {
        "base_url": server.url,
        "headers": headers,
        "timeout": httpx.Timeout(timeout, read=SLICE_S + 30.0),
    }


class Client:
    """A blocking client. ``url`` and ``token`` default as for the CLI (``MODX_URL``,
    ``MODX_API_TOKEN``, else what ``modx up`` recorded). Use it as a context manager, or call
    ``close()``."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        options = _http_options(url, token, timeout)
        self.url: str = options["base_url"]
        self._http = httpx.Client(transport=transport, **options)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """Any API call; returns the decoded body, raises a ``ModxError`` for an error answer."""
        try:
            response = self._http.request(method, path, params=params, json=json, headers=headers)
        except httpx.HTTPError as exc:
            raise _unreachable(self.url, exc) from exc
        return _answer(response)

    def _do(self, call: _Call) -> Any:
        return self.request(
            call.method, call.path, params=call.params, json=call.json, headers=call.headers
        )

    def submit(
        self,
        workflow: str | dict[str, Any],
        input: Any = None,
        *,
        version: int | None = None,
        idempotency_key: str | None = None,
        deadline_s: float | None = None,
    ) -> Accepted:
        """Start a run of a registered workflow (by name, or ``name@version``) or of an inline
        definition. The same ``idempotency_key`` gives back the same run, so with one a server
        that is away is asked again, for up to ``AWAY_S``."""
        call = _calls.submit(workflow, input, version, idempotency_key, deadline_s)
        away_since = None
        while True:
            try:
                return Accepted.from_api(self._do(call))
            except AWAY as exc:
                away_since = away_since or time.monotonic()
                pause = None if idempotency_key is None else _pause(exc, None, away_since)
                if pause is None:
                    raise
                time.sleep(pause)

    def get(self, run_id: str) -> Run:
        """The run as it is now, with its steps."""
        return Run.from_api(self.request("GET", f"/v1/runs/{_seg(run_id)}"))

    def wait(self, run_id: str, timeout: float | None = None) -> Run:
        """The run once it has finished, or as it is when ``timeout`` seconds have passed
        (check ``run.finished``). The server wakes the call when the run ends: no polling."""
        end, away_since = _end(timeout), None
        while True:
            try:
                run = Run.from_api(self._do(_calls.wait(run_id, _left(end))))
            except AWAY as exc:  # a server restarting: the run is still there
                away_since = away_since or time.monotonic()
                if (pause := _pause(exc, end, away_since)) is None:
                    raise
                time.sleep(pause)
                continue
            away_since = None
            if run.finished or _left(end) <= 0:
                return run

    def run(
        self, workflow: str | dict[str, Any], input: Any = None, *, timeout: float | None = None
    ) -> Run:
        """Submit, then wait for the run to finish."""
        return self.wait(self.submit(workflow, input).run_id, timeout)

    def stream(
        self, run_id: str, *, after: int = 0, timeout: float | None = None
    ) -> Iterator[Event]:
        """The run's events as they are written, from the one after ``after``, until its final
        event (or ``timeout``). A stream the server closes early is resumed where it stopped."""
        end, last, away_since = _end(timeout), after, None
        while True:
            seen = 0
            call = _calls.stream(run_id, last, _left(end))
            try:
                with self._http.stream(
                    call.method, call.path, params=call.params, headers=call.headers
                ) as response:
                    if response.status_code >= 400:
                        response.read()
                        _answer(response)
                    away_since = None
                    parser = SseParser()
                    for line in response.iter_lines():
                        sse = parser.feed(line)
                        if sse is None:
                            continue
                        event = Event.from_api(json.loads(sse.data))
                        last, seen = event.id, seen + 1
                        yield event
                        if event.final:
                            return
            except (httpx.HTTPError, Unavailable) as exc:
                # A server restarting, or its database down: the run is still there, and the
                # stream resumes after the last event seen.
                away = _unreachable(self.url, exc) if isinstance(exc, httpx.HTTPError) else exc
                away_since = away_since or time.monotonic()
                if (pause := _pause(away, end, away_since)) is None:
                    raise away from (None if away is exc else exc)
                time.sleep(pause)
                continue
            # Closed before the final event: the time is up, or the run ended before `after`.
            if _left(end) <= 0 or (not seen and self.get(run_id).finished):
                return

    def events(self, run_id: str, after: int = 0) -> list[Event]:
        """The run's history (one page, from the event after ``after``)."""
        rows = self.request("GET", f"/v1/runs/{_seg(run_id)}/events", params={"after": after})
        return [Event.from_api(row) for row in rows]

    def runs(
        self, *, status: str | None = None, workflow: str | None = None, page_size: int = 50
    ) -> Iterator[Run]:
        """Every run (newest first) matching the filters, a page at a time."""
        cursor: str | None = None
        while True:
            page = self._do(_calls.runs(status, workflow, page_size, cursor))
            yield from (Run.from_api(item) for item in page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def cancel(self, run_id: str) -> Accepted:
        """Cancel a run: nothing more is dispatched. ``Conflict`` if it has already ended."""
        return Accepted.from_api(self.request("POST", f"/v1/runs/{_seg(run_id)}/cancel"))

    def retry(self, run_id: str) -> Accepted:
        """Start a new run of a failed run that resumes from its failed step."""
        return Accepted.from_api(self.request("POST", f"/v1/runs/{_seg(run_id)}/retry"))

    def signal(self, run_id: str, name: str, data: Any = None) -> Any:
        """Send signal ``name`` with ``data`` to the step of the run that waits for it (or
        will: ``kept`` in the answer). ``Conflict`` when no step waits or will wait for it;
        ``InvalidRequest`` when its schema refuses."""
        path = f"/v1/runs/{_seg(run_id)}/signals/{_seg(name)}"
        return self.request("POST", path, json=data)

    def register(self, definition: dict[str, Any]) -> dict[str, Any]:
        """Register a workflow definition (a new version if the name exists)."""
        body: dict[str, Any] = self.request("POST", "/v1/workflows", json=definition)
        return body


class AsyncClient:
    """The asyncio twin of ``Client``: the same methods, awaited (``stream`` and ``runs`` are
    async iterators). Use it with ``async with``, or call ``await aclose()``."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        options = _http_options(url, token, timeout)
        self.url: str = options["base_url"]
        self._http = httpx.AsyncClient(transport=transport, **options)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """Any API call; returns the decoded body, raises a ``ModxError`` for an error answer."""
        try:
            response = await self._http.request(
                method, path, params=params, json=json, headers=headers
            )
        except httpx.HTTPError as exc:
            raise _unreachable(self.url, exc) from exc
        return _answer(response)

    async def _do(self, call: _Call) -> Any:
        return await self.request(
            call.method, call.path, params=call.params, json=call.json, headers=call.headers
        )

    async def submit(
        self,
        workflow: str | dict[str, Any],
        input: Any = None,
        *,
        version: int | None = None,
        idempotency_key: str | None = None,
        deadline_s: float | None = None,
    ) -> Accepted:
        """See ``Client.submit``."""
        call = _calls.submit(workflow, input, version, idempotency_key, deadline_s)
        away_since = None
        while True:
            try:
                return Accepted.from_api(await self._do(call))
            except AWAY as exc:
                away_since = away_since or time.monotonic()
                pause = None if idempotency_key is None else _pause(exc, None, away_since)
                if pause is None:
                    raise
                await asyncio.sleep(pause)

    async def get(self, run_id: str) -> Run:
        """See ``Client.get``."""
        return Run.from_api(await self.request("GET", f"/v1/runs/{_seg(run_id)}"))

    async def wait(self, run_id: str, timeout: float | None = None) -> Run:
        """See ``Client.wait``."""
        end, away_since = _end(timeout), None
        while True:
            try:
                run = Run.from_api(await self._do(_calls.wait(run_id, _left(end))))
            except AWAY as exc:
                away_since = away_since or time.monotonic()
                if (pause := _pause(exc, end, away_since)) is None:
                    raise
                await asyncio.sleep(pause)
                continue
            away_since = None
            if run.finished or _left(end) <= 0:
                return run

    async def run(
        self, workflow: str | dict[str, Any], input: Any = None, *, timeout: float | None = None
    ) -> Run:
        """See ``Client.run``."""
        return await self.wait((await self.submit(workflow, input)).run_id, timeout)

    async def stream(
        self, run_id: str, *, after: int = 0, timeout: float | None = None
    ) -> AsyncIterator[Event]:
        """See ``Client.stream``."""
        end, last, away_since = _end(timeout), after, None
        while True:
            seen = 0
            call = _calls.stream(run_id, last, _left(end))
            try:
                async with self._http.stream(
                    call.method, call.path, params=call.params, headers=call.headers
                ) as response:
                    if response.status_code >= 400:
                        await response.aread()
                        _answer(response)
                    away_since = None
                    parser = SseParser()
                    async for line in response.aiter_lines():
                        sse = parser.feed(line)
                        if sse is None:
                            continue
                        event = Event.from_api(json.loads(sse.data))
                        last, seen = event.id, seen + 1
                        yield event
                        if event.final:
                            return
            except (httpx.HTTPError, Unavailable) as exc:
                away = _unreachable(self.url, exc) if isinstance(exc, httpx.HTTPError) else exc
                away_since = away_since or time.monotonic()
                if (pause := _pause(away, end, away_since)) is None:
                    raise away from (None if away is exc else exc)
                await asyncio.sleep(pause)
                continue
            if _left(end) <= 0 or (not seen and (await self.get(run_id)).finished):
                return

    async def events(self, run_id: str, after: int = 0) -> list[Event]:
        """See ``Client.events``."""
        rows = await self.request("GET", f"/v1/runs/{_seg(run_id)}/events", params={"after": after})
        return [Event.from_api(row) for row in rows]

    async def runs(
        self, *, status: str | None = None, workflow: str | None = None, page_size: int = 50
    ) -> AsyncIterator[Run]:
        """See ``Client.runs``."""
        cursor: str | None = None
        while True:
            page = await self._do(_calls.runs(status, workflow, page_size, cursor))
            for item in page["items"]:
                yield Run.from_api(item)
            cursor = page.get("next_cursor")
            if not cursor:
                return

    async def cancel(self, run_id: str) -> Accepted:
        """See ``Client.cancel``."""
        return Accepted.from_api(await self.request("POST", f"/v1/runs/{_seg(run_id)}/cancel"))

    async def retry(self, run_id: str) -> Accepted:
        """See ``Client.retry``."""
        return Accepted.from_api(await self.request("POST", f"/v1/runs/{_seg(run_id)}/retry"))

    async def signal(self, run_id: str, name: str, data: Any = None) -> Any:
        """See ``Client.signal``."""
        return await self.request(
            "POST", f"/v1/runs/{_seg(run_id)}/signals/{_seg(name)}", json=data
        )

    async def register(self, definition: dict[str, Any]) -> dict[str, Any]:
        """See ``Client.register``."""
        body: dict[str, Any] = await self.request("POST", "/v1/workflows", json=definition)
        return body
