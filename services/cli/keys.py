"""``modx keys``: make the service's Ed25519 keys (``services/keys.py`` loads them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from bus.signing import create_key_file, public_key_to_str
from services.cli.client import BAD_REQUEST, fail

app = typer.Typer(help="The service's signing keys.", no_args_is_help=True)


@app.command("generate")
def generate(
    path: Annotated[Path, typer.Argument(help="Where to write the private key (mode 0600).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Create a private key in PATH (refused if PATH exists) and print its public key.

    Give the file to every replica, e.g. ``MODX_ORCHESTRATOR_KEY_FILE=PATH``.
    """
    if path.exists():
        fail(f"{path} exists; not overwriting a key", BAD_REQUEST)
    public_key = public_key_to_str(create_key_file(path).public_key())
    if as_json:
        typer.echo(json.dumps({"path": str(path), "public_key": public_key}))
    else:
        typer.echo(f"private key written to {path}\npublic key: {public_key}")
