"""``modx ledger``: make the ledger key, export a run's ledger, and verify, online or offline.

``verify`` exits 0 when everything checks out, 1 when a problem was found (each printed at its
entry), 2 on a bad file or key.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from services.cli.client import BAD_REQUEST, RUN_FAILED, Client, fail

app = typer.Typer(help="The ledger: keys, exports and verification.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
UrlOpt = Annotated[str | None, typer.Option("--url", envvar="MODX_URL", help="MODX API URL.")]


@app.command("keygen")
def keygen(
    file: Annotated[Path, typer.Argument(help="Where to write the private key (0600).")],
    if_missing: Annotated[
        bool, typer.Option(help="Keep an existing key instead of refusing to overwrite it.")
    ] = False,
) -> None:
    """Make a ledger key (give it to every replica as MODX_LEDGER_KEY_FILE); prints the public
    key, which is what verifiers need."""
    from services.ledger import keys

    if file.exists() and not if_missing:
        fail(f"{file} exists; a ledger key is never overwritten (--if-missing keeps it)", 2)
    key = keys.read_key_file(file) if file.exists() else keys.create_key_file(file)
    typer.echo(keys.public_key_text(key))


@app.command("public-key")
def public_key(
    key_file: Annotated[
        Path | None, typer.Option(help="Derive it from this private key file instead.")
    ] = None,
    url: UrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The ledger's public key (base64), from the server or from a private key file."""
    from services.ledger import format as fmt
    from services.ledger import keys

    if key_file is not None:
        public = keys.read_key_file(key_file).public_key()
        data = {"public_key": keys.public_key_text(public), "key_id": fmt.key_id(public)}
    else:
        data = Client(url, as_json=as_json).request("GET", "/v1/ledger/public-key")
    typer.echo(json.dumps(data) if as_json else data["public_key"])


@app.command("export")
def export(
    run_id: Annotated[str, typer.Argument(help="The run.")],
    out: Annotated[Path | None, typer.Option("--out", help="Write here, not to stdout.")] = None,
    url: UrlOpt = None,
) -> None:
    """A run's entries with a signed checkpoint and the proof that it covers them."""
    bundle = Client(url).request("GET", f"/v1/runs/{run_id}/ledger")
    text = json.dumps(bundle, indent=2, sort_keys=True)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n")
        typer.echo(f"wrote {out} ({len(bundle['entries'])} entries)", err=True)


@app.command("verify")
def verify(
    offline: Annotated[
        Path | None, typer.Option("--offline", help="Check this export; no server needed.")
    ] = None,
    key: Annotated[
        str | None,
        typer.Option("--public-key", help="The ledger's public key: base64, or a file of it."),
    ] = None,
    checkpoints: Annotated[
        Path | None,
        typer.Option(help="The published checkpoints file: the export's must be in it."),
    ] = None,
    run_id: Annotated[
        str | None, typer.Option("--run", help="Only this run (against the server).")
    ] = None,
    url: UrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Verify an export offline (--offline FILE --public-key KEY), or the server's ledger."""
    if offline is None:
        params = {"run_id": run_id} if run_id else {}
        report = Client(url, as_json=as_json).request("GET", "/v1/ledger/verify", params=params)
    else:
        report = _offline(offline, key, checkpoints, as_json)
    print_report(report, as_json)
    if not report["ok"]:
        raise typer.Exit(RUN_FAILED)


def _offline(
    path: Path, key: str | None, checkpoints: Path | None, as_json: bool
) -> dict[str, Any]:
    from services.ledger import keys
    from services.ledger.checks import read_published
    from services.ledger.offline import check_export

    if key is None:
        fail("--offline needs --public-key (the ledger's public key)", BAD_REQUEST, as_json)
    try:
        public = keys.public_key(key)
        bundle = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        fail(f"cannot read the export or the key: {exc}", BAD_REQUEST, as_json)
    published = read_published(checkpoints) if checkpoints is not None else None
    try:
        return check_export(bundle, public, published)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        fail(f"{path} is not a ledger export: {exc!r}", BAD_REQUEST, as_json)


def print_report(report: dict[str, Any], as_json: bool) -> None:
    """A verification report: one line, then each problem where it is (or JSON)."""
    if as_json:
        typer.echo(json.dumps(report))
        return
    if report["ok"]:
        typer.secho("ledger verified: " + _summary(report), fg=typer.colors.GREEN)
        return
    typer.secho(
        f"ledger NOT verified: {report['problem_count']} problem(s); " + _summary(report),
        fg=typer.colors.RED,
    )
    for problem in report["problems"]:
        where = ", ".join(
            f"{name} {problem[name]}"
            for name in ("file", "run_id", "seq", "checkpoint", "leaf")
            if problem.get(name) is not None
        )
        typer.echo(f"  {where or 'ledger'}: {problem['problem']}")


def _summary(report: dict[str, Any]) -> str:
    parts = []
    if "runs" in report:
        parts.append(f"{report['runs']} run(s)")
    elif report.get("run_id"):
        parts.append(f"run {report['run_id']} ({report.get('status')})")
    parts.append(f"{report['entries']} entries")
    checkpoint = report.get("checkpoint")
    if isinstance(checkpoint, dict):
        checkpoint = checkpoint.get("seq")
    if checkpoint is not None:
        parts.append(f"checkpoint {checkpoint}")
    return ", ".join(parts)
