"""The CLI's HTTP client: finds the service, authenticates, and maps failures to exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, NoReturn

import httpx
import typer

from services.cli.errors import AUTH, BAD_INPUT, NOT_FOUND, OK, RUN_FAILED, UNREACHABLE
from services.cli.state import find_server
from services.sse import SseEvent, SseParser

BAD_REQUEST = BAD_INPUT
__all__ = [
    "AUTH",
    "BAD_REQUEST",
    "NOT_FOUND",
    "OK",
    "RUN_FAILED",
    "UNREACHABLE",
    "Client",
    "default_token",
    "fail",
]


def default_token() -> str | None:
    """The token the CLI uses: ``MODX_API_TOKEN``, else what ``modx up`` recorded."""
    return find_server().token


def fail(
    message: str,
    code: int,
    as_json: bool = False,
    details: Any = None,
    hint: str | None = None,
) -> NoReturn:
    """Print an error (as JSON when asked) and exit with ``code``."""
    if as_json:
        typer.echo(json.dumps({"error": {"message": message, "details": details, "hint": hint}}))
    else:
        typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
        if details:
            typer.echo(json.dumps(details, indent=2), err=True)
        if hint:
            typer.echo(f"hint: {hint}", err=True)
    raise typer.Exit(code)


class Client:
    """A thin synchronous client of the REST API."""

    def __init__(
        self, url: str | None = None, token: str | None = None, as_json: bool = False
    ) -> None:
        self.server = find_server(url, token)
        self.url, self.token = self.server.url, self.server.token
        self.as_json = as_json
        headers = {"authorization": f"Bearer {self.token}"} if self.token else {}
        self.http = httpx.Client(
            base_url=self.url, headers=headers, timeout=httpx.Timeout(30.0, read=330.0)
        )

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the API; on an error, print it and exit with the matching code."""
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            self._unreachable(exc)
        self._check(response)
        return response.json() if response.content else None

    def events(self, path: str, **kwargs: Any) -> Iterator[SseEvent]:
        """The Server-Sent Events of a GET on ``path``, until the server closes the stream."""
        parser = SseParser()
        try:
            with self.http.stream("GET", path, **kwargs) as response:
                if response.status_code >= 400:
                    response.read()
                    self._check(response)
                for line in response.iter_lines():
                    event = parser.feed(line)
                    if event is not None:
                        yield event
        except httpx.HTTPError as exc:
            self._unreachable(exc)

    def _unreachable(self, exc: httpx.HTTPError) -> NoReturn:
        fail(
            f"cannot reach MODX at {self.url} (from {self.server.url_from}): {type(exc).__name__}",
            UNREACHABLE,
            self.as_json,
            hint="is it running? start it with `modx up`, or point MODX_URL at it",
        )

    def _check(self, response: httpx.Response) -> None:
        """On an error answer, print it and exit with the matching code."""
        if response.status_code >= 400:
            try:
                error = response.json().get("error", {})
            except ValueError:
                error = {"message": response.text}
            code = {401: AUTH, 403: AUTH, 404: NOT_FOUND}.get(response.status_code, BAD_REQUEST)
            if response.status_code >= 500:
                code = UNREACHABLE
            hint = None
            if response.status_code == 401:
                hint = (
                    f"the token from {self.server.token_from} was refused; "
                    "use the one `modx up` printed (export MODX_API_TOKEN=...)"
                    if self.token
                    else "no token found: set MODX_API_TOKEN (modx up prints it)"
                )
            fail(
                f"{response.status_code} {error.get('message', '')}",
                code,
                self.as_json,
                error.get("details"),
                hint,
            )
