"""The human side of the list commands: a header row, then columns as wide as their widest cell.

Scripts read ``--json`` instead: every list prints ``page(items, next_cursor)``, one shape.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import typer


def page(items: list[Any], next_cursor: str | None = None) -> dict[str, Any]:
    """What every ``--json`` list prints: ``{"items": [...], "next_cursor": ...}``; the cursor
    is null when ``items`` is all there is (``run list`` pages, the other lists never do)."""
    return {"items": items, "next_cursor": next_cursor}


def print_page(items: list[Any], next_cursor: str | None = None) -> None:
    """A list as ``--json`` prints it: one line on stdout."""
    typer.echo(json.dumps(page(items, next_cursor), default=str))


def print_table(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    colors: Sequence[str | None] | None = None,
) -> None:
    """``header`` and ``rows`` in aligned columns (the last one unpadded), ``colors[i]`` the
    colour of row ``i``; the header is printed even with no rows, so an empty list reads as one."""
    cells = [[str(c) for c in header]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(row: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()

    typer.secho(line(cells[0]), bold=True)
    for i, row in enumerate(cells[1:]):
        typer.secho(line(row), fg=colors[i] if colors else None)
