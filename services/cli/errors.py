"""The CLI's failures: one line that names the file, setting or field at fault, and an exit code.

Exit codes (documented in the README): 0 ok, 1 run failed, 2 bad input (a file, an option, a
setting), 3 MODX unreachable (or not started: port in use), 4 not authorized, 5 not found.
A traceback is printed only with ``--debug`` (or ``MODX_DEBUG=1``).
"""

from __future__ import annotations

import errno
import json
import socket
from typing import Any

import yaml
from pydantic import ValidationError

OK, RUN_FAILED, BAD_INPUT, UNREACHABLE, AUTH, NOT_FOUND = 0, 1, 2, 3, 4, 5


class UserError(Exception):
    """A failure the user can fix: printed as one line (and a hint), never as a traceback."""

    def __init__(self, message: str, code: int = BAD_INPUT, hint: str | None = None) -> None:
        super().__init__(message)
        self.message, self.code, self.hint = message, code, hint


def explain(exc: BaseException) -> UserError | None:
    """The one-line form of an exception a user caused, or None for a bug (traceback)."""
    if isinstance(exc, UserError):
        return exc
    if isinstance(exc, ValidationError) and exc.title in ("Settings", "AgentSettings"):
        return _setting_error(exc)
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return UserError(f"cannot listen: {exc.strerror}", UNREACHABLE, "choose another --port")
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
        return UserError(f"settings: {message}", BAD_INPUT)
    field = str(error["loc"][0])
    name = field if field.startswith("MODX_") else f"MODX_{field.upper()}"
    return UserError(f"setting {name}: {message}", BAD_INPUT, f"fix or unset {name}")


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
    return UserError(f"{path}{where}: not valid {kind}: {problem}", BAD_INPUT)


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
            ) from exc


def as_json(error: UserError) -> dict[str, Any]:
    """The error as the ``--json`` commands print it."""
    return {"error": {"message": error.message, "hint": error.hint, "code": error.code}}
