"""The CLI's failures: one line that names the file, setting or field at fault, and an exit code.

Exit codes (documented in the README): 0 ok, 1 run failed, 2 bad input (a file, an option, a
setting), 3 MODX unreachable (or not started: port in use), 4 not authorized, 5 not found.
A traceback is printed only with ``--debug`` (or ``MODX_DEBUG=1``). With ``--json`` the error is
one line of JSON on stderr instead, in one shape for every command (``as_json``, docs/cli.md).
"""

from __future__ import annotations

import errno
import json
import socket
from typing import Any

import typer
import yaml
from pydantic import ValidationError

OK, RUN_FAILED, BAD_INPUT, UNREACHABLE, AUTH, NOT_FOUND = 0, 1, 2, 3, 4, 5

KINDS = {
    RUN_FAILED: "run_failed",
    BAD_INPUT: "bad_input",
    UNREACHABLE: "unreachable",
    AUTH: "unauthorized",
    NOT_FOUND: "not_found",
}
"""The error code a local failure gets from its exit code when nothing more precise names it."""


class UserError(Exception):
    """A failure the user can fix: printed as one line (and a hint), never as a traceback.

    ``code`` is the exit code; ``kind`` the error code string that ``--json`` prints (the API's
    own code for a failure the API reported).
    """

    def __init__(
        self,
        message: str,
        code: int = BAD_INPUT,
        hint: str | None = None,
        *,
        kind: str | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.message, self.code, self.hint, self.details = message, code, hint, details
        self.kind = kind or KINDS.get(code, "error")


def explain(exc: BaseException) -> UserError | None:
    """The one-line form of an exception a user caused, or None for a bug (traceback)."""
    if isinstance(exc, UserError):
        return exc
    if isinstance(exc, ValidationError) and exc.title in ("Settings", "AgentSettings"):
        return _setting_error(exc)
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        message, other = f"cannot listen: {exc.strerror}", "choose another --port"
        return UserError(message, UNREACHABLE, other, kind="port_in_use")
    from agents.sdk.errors import LoadError, RequestRejected, ServerUnavailable, SetupError

    if isinstance(exc, RequestRejected):
        code = AUTH if exc.status in (401, 403) else BAD_INPUT
        hint = "check MODX_API_TOKEN (modx up prints it)" if code == AUTH else None
        return UserError(str(exc), code, hint)
    if isinstance(exc, ServerUnavailable):
        return UserError(str(exc), UNREACHABLE, "is MODX running? start it with `modx up`")
    if isinstance(exc, (SetupError, LoadError)):
        return UserError(str(exc), BAD_INPUT)
    return None


def _setting_error(exc: ValidationError) -> UserError:
    error = exc.errors(include_url=False, include_input=False)[0]
    message = str(error["msg"]).removeprefix("Value error, ")
    if not error["loc"]:  # a rule between settings: its message names them
        return UserError(f"settings: {message}", BAD_INPUT, kind="invalid_setting")
    field = str(error["loc"][0])
    name = field if field.startswith("MODX_") else f"MODX_{field.upper()}"
    return UserError(
        f"setting {name}: {message}", BAD_INPUT, f"fix or unset {name}", kind="invalid_setting"
    )


def file_error(path: str, exc: Exception) -> UserError:
    """A definition file that is not YAML/JSON, with the line and column when known."""
    where = ""
    mark = getattr(exc, "problem_mark", None)
    if isinstance(exc, yaml.YAMLError) and mark is not None:
        where = f":{mark.line + 1}:{mark.column + 1}"
        problem = getattr(exc, "problem", None) or str(exc)
    elif isinstance(exc, json.JSONDecodeError):
        where, problem = f":{exc.lineno}:{exc.colno}", exc.msg
    else:
        problem = str(exc)
    kind = "JSON" if path.endswith(".json") else "YAML"
    return UserError(f"{path}{where}: not valid {kind}: {problem}", BAD_INPUT, kind="invalid_file")


def check_port_free(host: str, port: int) -> None:
    """Raise ``UserError`` when ``host:port`` is taken (before starting anything)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            raise UserError(
                f"port {port} on {host} is already in use",
                UNREACHABLE,
                f"another MODX may run there (try `modx run list`), or use --port {port + 1}",
                kind="port_in_use",
            ) from exc


def as_json(error: UserError) -> dict[str, Any]:
    """The error as every ``--json`` command prints it (on stderr): the code is the API's when
    the API refused the call, else a local one (``KINDS``, ``usage``, ``invalid_file``...)."""
    return {
        "error": {
            "code": error.kind,
            "message": error.message,
            "details": error.details,
            "hint": error.hint,
            "exit_code": error.code,
        }
    }


def report(error: UserError, json_output: bool) -> None:
    """Print ``error`` on stderr: one line of JSON, or ``error: ...``, the details that add to
    it, and ``hint: ...``."""
    if json_output:
        typer.echo(json.dumps(as_json(error), default=str), err=True)
        return
    typer.secho(f"error: {error.message}", fg=typer.colors.RED, err=True)
    for line in _detail_lines(error.message, error.details):
        typer.echo(line, err=True)
    if error.hint:
        typer.echo(f"hint: {error.hint}", err=True)


def _detail_lines(message: str, details: Any) -> list[str]:
    """What an error's details add to its message, a line each: the further problems of a list
    of ``{path, message}`` (the message states the first, or the only one), as ``path:
    message``; anything else as one line of JSON (``--json`` prints all of it)."""
    if not details:
        return []
    if isinstance(details, list) and all(
        isinstance(d, dict) and {"path", "message"} <= d.keys() for d in details
    ):
        problems = [f"{d['path']}: {d['message']}" for d in details]
        return [] if len(problems) == 1 else [f"  {p}" for p in problems if p not in message]
    text = json.dumps(details, default=str)
    return [f"details: {text if len(text) <= 400 else text[:400] + '...'}"]
