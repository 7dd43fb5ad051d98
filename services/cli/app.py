"""``ModxApp``: the ``modx`` Typer application, with one-line errors and plain help.

- A usage error (a missing argument, an unknown option, a file that does not exist) is one
  line too, with the command's ``--help`` as the hint, exit code 2.
- A failure the user caused (``services.cli.errors.explain``) prints one line, ``error: ...``,
  and a hint, and exits with its documented code; anything else is a bug and keeps its
  traceback. ``--debug`` (anywhere on the line) or ``MODX_DEBUG=1`` shows the traceback always.
- With ``--json`` on the line (before a ``--``), every such error is one line of JSON on stderr
  instead, in the shape ``services.cli.errors.as_json`` documents.
- Help shows plain value types (``TEXT``, ``INTEGER``...) and nothing for flags, instead of
  Python annotations.
"""

from __future__ import annotations

import inspect
import os
import re
import sys
from typing import Any, NoReturn

import typer
from typer.main import get_command

from services.cli.errors import BAD_INPUT, OK, RUN_FAILED, UserError, explain, report

_PLAIN = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "Path": "PATH", "bool": ""}


class ModxApp(typer.Typer):
    """A Typer app whose failures are one line unless ``--debug`` is given."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        argv = list(kwargs.pop("args", None) or sys.argv[1:])
        debug = "--debug" in argv or os.environ.get("MODX_DEBUG", "") not in ("", "0")
        argv = [a for a in argv if a != "--debug"]
        own = argv[: argv.index("--")] if "--" in argv else argv  # after --: a command's words
        json_output = "--json" in own
        command = get_command(self)
        _plain_help(command)
        if debug:
            return super().__call__(*args, args=argv, **kwargs)
        # Not standalone: click would print a usage error as a boxed screen of its own.
        options: dict[str, Any] = {**kwargs, "args": argv, "standalone_mode": False}
        try:
            result = command.main(*args, **options)
        except typer.TyperException as exc:  # click's errors (typer vendors click)
            _usage_error(exc, json_output)
        except typer.Abort:
            report(UserError("aborted", RUN_FAILED, kind="aborted"), json_output)
            sys.exit(RUN_FAILED)
        except Exception as exc:
            error = explain(exc)
            if error is None:
                raise
            report(error, json_output)
            sys.exit(error.code)
        # Not standalone, click returns the exit code of ``typer.Exit`` instead of exiting.
        sys.exit(result if isinstance(result, int) else OK)


def _usage_error(exc: typer.TyperException, json_output: bool) -> NoReturn:
    """A usage error as one line, with the command's ``--help`` as the hint (a group given no
    subcommand has printed its help already)."""
    message = getattr(exc, "format_message", lambda: str(exc))()
    ctx = getattr(exc, "ctx", None)
    code = getattr(exc, "exit_code", BAD_INPUT)
    if type(exc).__name__ == "NoArgsIsHelpError":
        if message.strip():  # rich help prints itself; plain help is the message
            typer.echo(message, err=True)
    else:
        where = ctx.command_path if ctx is not None else "modx"
        hint = f"`{where} --help` says what it takes"
        report(UserError(message, code, hint, kind="usage"), json_output)
    sys.exit(code)


def _plain_help(command: Any) -> None:
    """Label every parameter of ``command`` and its subcommands with a plain type, and unwrap
    their docstrings (the help keeps their line breaks, ragged at the terminal's width)."""
    if command.help:
        command.help = _unwrap(command.help)
    for param in command.params:
        _plain(param)
    original = command.get_help_option

    def help_option(ctx: Any) -> Any:
        option = original(ctx)
        if option is not None:
            _plain(option)
        return option

    command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        _plain_help(sub)


def _unwrap(text: str) -> str:
    """``text`` with each paragraph on one line (paragraphs stay apart)."""
    paragraphs = re.split(r"\n\s*\n", inspect.cleandoc(text))
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


def _plain(param: Any) -> None:
    label = _label(param)
    param.display_type_rich = lambda ctx: label


def _label(param: Any) -> str:
    if getattr(param, "is_bool_flag", False) or getattr(param, "is_flag", False):
        return ""
    desc = getattr(param, "type_descriptor", None)
    if desc is None:
        return ""
    if desc.is_choice:
        return "|".join(str(getattr(c, "value", c)) for c in desc.choices or ())
    name = str(param.bare_type())
    return _PLAIN.get(name, name.upper())
