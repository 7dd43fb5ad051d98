"""The CLI's HTTP client: finds the service, authenticates, and maps failures to exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from typer._click.globals import get_current_context  # typer vendors click: its context

import modx
from modx.locate import find_server
from services.cli.errors import (
    AUTH,
    BAD_INPUT,
    NOT_FOUND,
    OK,
    RUN_FAILED,
    UNREACHABLE,
    UserError,
    report,
)

BAD_REQUEST = BAD_INPUT
__all__ = [
    "AUTH",
    "BAD_REQUEST",
    "JSON_HINT",
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
    kind: str | None = None,
) -> NoReturn:
    """Print an error on stderr (as JSON when asked, or when the command was given ``--json``)
    and exit with ``code``; ``kind`` is the error code ``--json`` prints (from ``code`` if
    omitted)."""
    error = UserError(message, code, hint, kind=kind, details=details)
    report(error, as_json or json_requested())
    raise typer.Exit(code)


def json_requested() -> bool:
    """Whether the command running was given ``--json`` (every such option is ``as_json``)."""
    ctx = get_current_context(silent=True)
    return bool(ctx is not None and ctx.params.get("as_json"))


class Client:
    """The CLI's side of ``modx.Client``: the same calls, with every failure printed as one line
    (with a hint where one helps) and turned into the matching exit code."""

    def __init__(
        self, url: str | None = None, token: str | None = None, as_json: bool = False
    ) -> None:
        self.server = find_server(url, token)
        self.url, self.token = self.server.url, self.server.token
        self.as_json = as_json
        self.api = modx.Client(self.url, self.token)

    @contextmanager
    def guard(self) -> Iterator[modx.Client]:
        """Use the API inside it; an error ends the command with its message and exit code."""
        try:
            yield self.api
        except modx.ModxError as exc:
            self._fail(exc)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the API; on an error, print it and exit with the matching code."""
        with self.guard() as api:
            return api.request(method, path, **kwargs)

    def _fail(self, exc: modx.ModxError) -> NoReturn:
        if isinstance(exc, modx.Unreachable):
            # The client's message starts "cannot reach MODX at URL: " too; say it once.
            why = exc.message.removeprefix(f"cannot reach MODX at {self.url}: ")
            fail(
                f"cannot reach MODX at {self.url} (from {self.server.url_from}): {why}",
                UNREACHABLE,
                self.as_json,
                hint="is it running? start it with `modx up`, or point MODX_URL at it",
                kind=exc.code,
            )
        code = {401: AUTH, 403: AUTH, 404: NOT_FOUND}.get(exc.status, BAD_REQUEST)
        if exc.status >= 500:
            code = UNREACHABLE
        message = f"{exc.status} {exc.message}"
        fail(message, code, self.as_json, exc.details, self._hint(exc), kind=exc.code)

    def _hint(self, exc: modx.ModxError) -> str | None:
        if exc.status == 401:
            return (
                f"the token from {self.server.token_from} was refused; "
                "use the one `modx up` printed (export MODX_API_TOKEN=...)"
                if self.token
                else "no token found: set MODX_API_TOKEN (modx up prints it)"
            )
        if exc.status == 404:
            # The API names what is missing first: "run '…' does not exist", "workflow '…' …".
            listing = LISTINGS.get(exc.message.split(" ", 1)[0])
            return f"`{listing}` shows those your token's tenant has" if listing else None
        if exc.code == "signal_refused":
            return (
                "the JSON path names the field at fault in the signal's body "
                "(`$` is the --data of `run signal`; the wait's schema says what it takes)"
            )
        if exc.status in (400, 422) and exc.details:
            return (
                "the JSON path names the field at fault: `$` is what was sent (the file of "
                "`workflow register`; `$.input` is the --input of `run submit`)"
            )
        return None


LISTINGS = {noun: f"modx {noun} list" for noun in ("run", "workflow", "agent", "token", "tenant")}
"""The command that lists each kind of object a 404 can name."""

JSON_HINT = "quote the JSON for the shell ('{\"n\": 1}'), or pass a file: @input.json"
