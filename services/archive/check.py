"""Checking an archive with nothing but its files and the ledger's public key.

An archive checks out when: its manifest is one; each file has the SHA-256 and line count the
manifest gives (events have no chain: this is what protects them); the checkpoint is signed by
the ledger key (and, given the published checkpoints, is one of them); and each run checks out
as a ledger export would (``services.ledger.offline``): its chain whole, hashed and signed, its
outputs the chain's, and its head a leaf of the checkpoint by its inclusion proof. Each problem
is reported where it is: a run and seq, a file, or the checkpoint.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.archive import layout
from services.ledger import format as fmt
from services.ledger.checks import Report, check_run
from services.ledger.offline import check_export


class NotAnArchive(ValueError):
    """The path is not an archive (no readable manifest of the format)."""


def read_manifest(path: Path) -> tuple[Path, dict[str, Any]]:
    """The archive's directory and manifest, given the directory or its manifest."""
    directory = path if path.is_dir() else path.parent
    try:
        manifest = json.loads((directory / layout.MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise NotAnArchive(f"{path}: no readable {layout.MANIFEST} ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != layout.FORMAT:
        raise NotAnArchive(f"{path}: not a {layout.FORMAT} archive")
    return directory, manifest


def check_archive(
    path: Path,
    public_key: Ed25519PublicKey,
    published: Sequence[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The report on the archive at ``path``: ``ok``, and each problem where it is."""
    directory, manifest = read_manifest(path)
    report = Report()
    for name in layout.FILES:
        expected = manifest["files"].get(name, {})
        file = directory / name
        if not file.exists():
            report.add(None, None, "the file is missing", file=name)
        elif layout.sha256(file) != expected.get("sha256"):
            report.add(None, None, "its SHA-256 is not the manifest's", file=name)
    checkpoint = manifest.get("checkpoint")
    seq = (checkpoint or {}).get("seq")
    if checkpoint is not None and not fmt.checkpoint_signed(public_key, checkpoint):
        report.add(None, None, "signature is not the ledger key's", checkpoint=seq)
    outside = [c for c in published or () if c.get("seq") == seq]
    if checkpoint is not None and published is not None and outside != [checkpoint]:
        report.add(None, None, "the checkpoint is not the published one", checkpoint=seq)
    runs = entries = events = 0
    run_ids: set[str] = set()
    if not report.count:  # a missing or altered file: nothing in it is worth reading
        ledger = _Grouped(layout.read_lines(directory / layout.LEDGER))
        for line in layout.read_lines(directory / layout.RUNS):
            run = line["run"]
            run_ids.add(run["id"])
            chain = ledger.take(run["id"])
            entries += len(chain)
            _check_run(report, public_key, checkpoint, line, chain)
            runs += 1
        for entry in ledger.rest():
            report.add(entry.get("run_id"), entry.get("seq"), "entry of no run in the archive")
            entries += 1
        for event in layout.read_lines(directory / layout.EVENTS):
            events += 1
            if event.get("run_id") is not None and event["run_id"] not in run_ids:
                report.add(event["run_id"], None, f"event {event.get('id')} of no archived run")
        found = {layout.RUNS: runs, layout.LEDGER: entries, layout.EVENTS: events}
        for name, lines in found.items():
            if manifest["files"][name].get("lines") != lines:
                report.add(None, None, f"{lines} lines; the manifest says otherwise", file=name)
    return {
        "ok": report.count == 0,
        "archive": manifest.get("name"),
        "cutoff": manifest.get("cutoff"),
        "runs": runs,
        "entries": entries,
        "events": events,
        "checkpoint": (checkpoint or {}).get("seq"),
        "problem_count": report.count,
        "problems": report.problems,
    }


def _check_run(
    report: Report,
    public_key: Ed25519PublicKey,
    checkpoint: dict[str, Any] | None,
    line: dict[str, Any],
    chain: list[dict[str, Any]],
) -> None:
    run = line["run"]
    if run["ledger_seq"] == 0 and not chain:  # nothing recorded: nothing to prove
        check_run(report, SimpleNamespace(**run), [], [SimpleNamespace(**s) for s in line["steps"]])
        return
    bundle = {
        "format": fmt.EXPORT_FORMAT,
        "run": run,
        "steps": line["steps"],
        "entries": chain,
        "checkpoint": checkpoint,
        "leaf": line["leaf"],
        "proof": line["proof"],
    }
    found = check_export(bundle, public_key)
    for problem in found["problems"]:
        where = {k: v for k, v in problem.items() if k not in ("run_id", "seq", "problem")}
        report.add(problem.get("run_id"), problem.get("seq"), problem["problem"], **where)
    report.count += found["problem_count"] - len(found["problems"])


class _Grouped:
    """The ledger file's entries, taken run by run in the runs file's order."""

    def __init__(self, lines: Iterator[Any]) -> None:
        self._lines = lines
        self._next: dict[str, Any] | None = next(lines, None)

    def take(self, run_id: str) -> list[dict[str, Any]]:
        """The consecutive entries of ``run_id`` from here."""
        taken = []
        while self._next is not None and self._next.get("run_id") == run_id:
            taken.append(self._next)
            self._next = next(self._lines, None)
        return taken

    def rest(self) -> Iterator[dict[str, Any]]:
        """The entries no run took."""
        while self._next is not None:
            yield self._next
            self._next = next(self._lines, None)
