"""``modx db``: migrations, and archiving old history (docs/history.md).

These commands work on the database itself (``MODX_DATABASE_URL``, or the embedded SQLite
file), not through the API. ``archive`` also needs the ledger key, as the service does: it
makes a checkpoint and signs each archived run's record. Exit codes: 0 ok, 1 an archive that
does not verify, 2 bad input, 3 the database unreachable.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from services.cli.client import BAD_REQUEST, RUN_FAILED, UNREACHABLE, fail
from services.cli.ledger import print_report

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

    from services.config import Settings

app = typer.Typer(help="Database migrations and history archives.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
_AGE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@app.command("upgrade")
def upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Migrate the database (MODX_DATABASE_URL, or the embedded SQLite file) up."""
    from services.config import Settings
    from services.db import migrate

    url = Settings().resolved_database_url
    migrate.upgrade(url, revision)
    typer.echo(f"database at {url.split('@')[-1]} is at {revision}")


@app.command("downgrade")
def downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "base",
) -> None:
    """Migrate the database down."""
    from services.config import Settings
    from services.db import migrate

    url = Settings().resolved_database_url
    migrate.downgrade(url, revision)
    typer.echo(f"database at {url.split('@')[-1]} is at {revision}")


def parse_age(text: str) -> timedelta | None:
    """``30d``, ``12h``, ``2w``, ``90m``, ``45s`` as a duration (None if not one, or zero)."""
    match = _AGE.match(text)
    if match is None or int(match.group(1)) == 0:
        return None
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@app.command("archive")
def archive(
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than", help="Archive the runs finished longer ago than this: 30d, 12h, 2w."
        ),
    ] = "30d",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where to put the archive's directory [<data dir>/archives]."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would go, and change nothing.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Export finished runs older than the cut-off (runs, steps, events, ledger entries, with
    the checkpoint that covers them) to gzip JSON Lines, then remove them from the database,
    dropping the history partitions that held only them."""
    from services.config import Settings
    from services.ledger import keys

    age = parse_age(older_than)
    if age is None:
        fail(
            f"--older-than {older_than!r}: expected a duration such as 30d, 12h or 2w",
            BAD_REQUEST,
            as_json,
        )
    settings = Settings()
    try:
        key = keys.load(settings)
    except (keys.LedgerKeyMissing, ValueError, OSError) as exc:
        fail(f"the ledger key: {exc}", BAD_REQUEST, as_json)
    target = out if out is not None else settings.data_dir / "archives"
    if not dry_run:
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            fail(f"--out {target}: {exc.strerror or exc}", BAD_REQUEST, as_json)
    cutoff = datetime.now(UTC) - age

    def progress(done: int, total: int) -> None:
        typer.echo(f"{'counted' if dry_run else 'archived'} {done}/{total} runs", err=True)

    result = asyncio.run(_archive(settings, key, cutoff, target, dry_run, progress, as_json))
    if as_json:
        typer.echo(json.dumps(result))
        return
    verb = "would archive" if dry_run else "archived"
    typer.echo(
        f"{verb} {result['runs']} runs ({result['steps']} steps, {result['events']} events, "
        f"{result['ledger_entries']} ledger entries) finished before {result['cutoff']}"
    )
    if result["archive"]:
        typer.echo(f"  to {result['archive']}")
    if result["partitions_dropped"]:
        verb = "would drop" if dry_run else "dropped"
        typer.echo(f"  {verb} partitions: {', '.join(result['partitions_dropped'])}")
    if result["partitions_kept"]:
        typer.echo(
            "  kept partitions (they hold runs still in the database): "
            + ", ".join(result["partitions_kept"])
        )


async def _archive(
    settings: Settings,
    key: Ed25519PrivateKey,
    cutoff: datetime,
    out: Path,
    dry_run: bool,
    progress: Callable[[int, int], None],
    as_json: bool,
) -> dict[str, Any]:
    from sqlalchemy.exc import DBAPIError

    from services.archive.writer import archive as run_archive
    from services.db.engine import create_engine, is_sqlite, session_factory
    from services.ledger.checkpoints import Checkpointer

    url = settings.resolved_database_url
    db = create_engine(url) if is_sqlite(url) else create_engine(url, pool_size=2, max_overflow=0)
    checkpointer = Checkpointer(
        session_factory(db),
        key,
        settings.resolved_checkpoint_file,
        url=settings.ledger_checkpoint_url,
    )
    where = url.split("@")[-1]
    try:
        return await run_archive(
            db, key, checkpointer, cutoff, out, dry_run=dry_run, progress=progress
        )
    except (OSError, ConnectionError) as exc:
        fail(f"cannot reach the database at {where}: {exc}", UNREACHABLE, as_json)
    except DBAPIError as exc:
        hint = "is it migrated? `modx db upgrade`"
        fail(f"the database at {where}: {exc.orig}", BAD_REQUEST, as_json, hint=hint)
    finally:
        await db.dispose()


@app.command("verify-archive")
def verify_archive(
    path: Annotated[Path, typer.Argument(help="The archive's directory (or its manifest.json).")],
    key: Annotated[
        str | None,
        typer.Option(
            "--public-key",
            help="The ledger's public key, base64 or a file of it [the configured ledger key's].",
        ),
    ] = None,
    checkpoints: Annotated[
        Path | None,
        typer.Option(help="The published checkpoints file: the archive's must be in it."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check an archive: its files against the manifest, every run's chain, and the chains
    against the signed checkpoint; each problem at its entry."""
    from services.archive.check import NotAnArchive, check_archive
    from services.ledger.checks import read_published

    public = _public_key(key, as_json)
    published = read_published(checkpoints) if checkpoints is not None else None
    try:
        report = check_archive(path, public, published)
    except NotAnArchive as exc:
        fail(str(exc), BAD_REQUEST, as_json)
    except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
        fail(f"{path}: cannot read the archive: {exc!r}", BAD_REQUEST, as_json)
    print_report(report, as_json)
    if not report["ok"]:
        raise typer.Exit(RUN_FAILED)


def _public_key(text: str | None, as_json: bool) -> Ed25519PublicKey:
    from services.config import Settings
    from services.ledger import keys

    try:
        if text is not None:
            return keys.public_key(text)
        settings = Settings()
        configured = settings.ledger_key or settings.ledger_key_file
        if configured is None and not (settings.data_dir / "ledger.key").exists():
            fail("no ledger key here: give --public-key", BAD_REQUEST, as_json)
        return keys.load(settings).public_key()
    except (keys.LedgerKeyMissing, ValueError, OSError) as exc:
        fail(f"the ledger's public key: {exc}", BAD_REQUEST, as_json)
