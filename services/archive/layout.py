"""An archive's files: a directory holding ``manifest.json`` and three gzip JSON Lines files.

- ``runs.jsonl.gz``: one line per run, ``{"run": row, "steps": [row], "leaf", "proof"}``: the
  run's leaf in the manifest's checkpoint (``{"index", "run_id", "seq", "head"}``, null for a
  run with no ledger entry) and its inclusion proof (hex, from the leaf up).
- ``ledger.jsonl.gz``: the runs' ledger entries, one row a line, grouped by run in the order
  of ``runs.jsonl.gz``, each run's by seq.
- ``events.jsonl.gz``: the runs' events (and events of no run older than the cut-off), by id.
- ``manifest.json``: format, name, cut-off, the signed checkpoint, each file's SHA-256 and line
  count, and the row counts.

Rows are the tables' columns as JSON; times are ISO 8601 strings.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

FORMAT = "modx.archive.v1"
MANIFEST = "manifest.json"
RUNS, LEDGER, EVENTS = "runs.jsonl.gz", "ledger.jsonl.gz", "events.jsonl.gz"
FILES = (RUNS, LEDGER, EVENTS)


def jsonable(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A row as JSON values (times as ISO 8601)."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


class LinesWriter:
    """Appends JSON lines to a gzip file, counting them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines = 0
        self._file = gzip.GzipFile(path, "wb")  # closed by __exit__

    def write(self, value: Any) -> None:
        """One line."""
        self._file.write(json.dumps(value, separators=(",", ":")).encode() + b"\n")
        self.lines += 1

    def __enter__(self) -> LinesWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._file.close()
        with self.path.open("rb") as handle:  # on disk before any row leaves the database
            os.fsync(handle.fileno())


def read_lines(path: Path) -> Iterator[Any]:
    """The JSON values of a gzip JSON Lines file, in order."""
    with gzip.open(path, "rt") as handle:
        for line in handle:
            yield json.loads(line)


def sha256(path: Path) -> str:
    """The SHA-256 hex of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    """``manifest.json``, written last and synced: an archive without one is incomplete."""
    path = directory / MANIFEST
    with path.open("w") as handle:
        json.dump(manifest, handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
