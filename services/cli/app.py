"""``ModxApp``: the ``modx`` Typer application, with one-line errors and plain help.

- A failure the user caused (``services.cli.errors.explain``) prints one line, ``error: ...``,
  and a hint, and exits with its documented code; anything else is a bug and keeps its
  traceback. ``--debug`` (anywhere on the line) or ``MODX_DEBUG=1`` shows the traceback always.
- Help shows plain value types (``TEXT``, ``INTEGER``...) and nothing for flags, instead of
  Python annotations.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import typer
from typer.main import get_command

from services.cli.errors import explain

_PLAIN = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER", "Path": "PATH", "bool": ""}


class ModxApp(typer.Typer):
    """A Typer app whose failures are one line unless ``--debug`` is given."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        argv = list(kwargs.pop("args", None) or sys.argv[1:])
        debug = "--debug" in argv or os.environ.get("MODX_DEBUG", "") not in ("", "0")
        argv = [a for a in argv if a != "--debug"]
        command = get_command(self)
        _plain_help(command)
        if debug:
            return super().__call__(*args, args=argv, **kwargs)
        try:
            return command(*args, args=argv, **kwargs)
        except Exception as exc:
            error = explain(exc)
            if error is None:
                raise
            typer.secho(f"error: {error.message}", fg=typer.colors.RED, err=True)
            if error.hint:
                typer.echo(f"hint: {error.hint}", err=True)
            sys.exit(error.code)


def _plain_help(command: Any) -> None:
    """Label every parameter of ``command`` and its subcommands with a plain type."""
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
