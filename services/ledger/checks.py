"""The checks of the ledger that need no database: shared by ``verify`` (the server's) and
``offline`` (an export's, anywhere). Each problem is reported at its entry (run id, seq)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.ledger import format as fmt

MAX_PROBLEMS = 100
TERMINAL = {"succeeded", "failed", "cancelled", "timed_out"}
STEP_KINDS = ("step.succeeded", "step.reused")


class Report:
    """What a verification found."""

    def __init__(self) -> None:
        self.problems: list[dict[str, Any]] = []
        self.count = 0

    def add(self, run_id: str | None, seq: int | None, problem: str, **extra: Any) -> None:
        """One problem, at an entry (``run_id``, ``seq``) or elsewhere (``extra``)."""
        self.count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append({"run_id": run_id, "seq": seq, "problem": problem, **extra})


def check_chain(
    report: Report, run_id: str, entries: Sequence[Any], public_key: Ed25519PublicKey
) -> None:
    """The chain of one run, ``entries`` in seq order (objects with the entry's columns)."""
    head, expected = "", 1
    for entry in entries:
        if entry.seq != expected:
            missing = "missing" if entry.seq > expected else "out of order"
            report.add(run_id, expected, f"entry {expected} is {missing} (found seq {entry.seq})")
        if entry.prev_hash != head:
            report.add(run_id, entry.seq, "prev_hash is not the previous entry's hash")
        if fmt.chain_hash(entry.prev_hash, run_id, entry.seq, entry.kind, entry.data) != entry.hash:
            report.add(run_id, entry.seq, "hash does not match the entry")
        if not fmt.entry_signed(public_key, entry.hash, entry.signature):
            report.add(run_id, entry.seq, "signature is not the ledger key's")
        head, expected = entry.hash, entry.seq + 1


def check_run(
    report: Report,
    run: Any,
    entries: Sequence[Any],
    steps: Sequence[Any],
) -> None:
    """A run row (and its steps) against its chain: length, head, outputs, final entry."""
    last_seq = entries[-1].seq if entries else 0
    last_hash = entries[-1].hash if entries else ""
    if run.ledger_seq > last_seq:
        report.add(
            run.id,
            last_seq + 1,
            f"the chain ends at entry {last_seq}; the run records {run.ledger_seq}",
        )
    elif run.ledger_seq < last_seq:
        report.add(
            run.id, run.ledger_seq + 1, f"the run records {run.ledger_seq} entries of {last_seq}"
        )
    elif run.ledger_head != last_hash:
        report.add(run.id, last_seq, "the run's recorded head is not the chain's")
    if run.status in TERMINAL and (not entries or entries[-1].kind != f"run.{run.status}"):
        report.add(run.id, last_seq + 1, f"the run is {run.status}; its last entry does not say so")
    outcome = entries[-1] if entries and entries[-1].kind == f"run.{run.status}" else None
    recorded_input = _get(outcome.data, "input_sha256") if outcome is not None else None
    # Outcome entries name the run's input since 2026-12-07 (older ones do not); an export
    # made before then carries no input.
    if (
        outcome is not None
        and recorded_input is not None
        and hasattr(run, "input")
        and _digest(run.input) != recorded_input
    ):
        report.add(run.id, outcome.seq, "runs.input is not the input in the ledger")
    if run.status == "succeeded":
        final = next((e for e in reversed(entries) if e.kind == "run.succeeded"), None)
        if final is not None and not _same(_get(final.data, "output"), run.output):
            report.add(run.id, final.seq, "runs.output is not the output in the ledger")
    recorded = {
        (_get(e.data, "step_id"), _get(e.data, "attempt")): e
        for e in entries
        if e.kind in STEP_KINDS
    }
    items: dict[str, list[Any]] = {}
    for step in sorted(steps, key=lambda s: s.item_index or 0):
        if step.item_index is not None:
            items.setdefault(step.definition_id, []).append(step.output)
    for step in sorted(steps, key=lambda s: s.step_id):
        if step.status != "succeeded":
            continue
        entry = recorded.get((step.step_id, step.attempt))
        if entry is not None:
            if not _same(_get(entry.data, "output"), step.output):
                report.add(run.id, entry.seq, f"step {step.step_id}'s output is not the ledger's")
        elif step.item_index is None and step.definition_id in items:
            # A fan-out's own output is its items' (each in the ledger), in order.
            if not _same(step.output, items[step.definition_id]):
                report.add(run.id, None, f"step {step.step_id}'s output is not its items'")
        elif not (step.item_index is None and _same(step.output, [])):  # no items: []
            report.add(run.id, None, f"step {step.step_id} succeeded without a ledger entry")


def check_published(
    report: Report,
    checkpoints: Sequence[dict[str, Any]],
    published: Sequence[dict[str, Any]],
    public_key: Ed25519PublicKey,
) -> dict[str, Any] | None:
    """The checkpoints (database) against each other, the key and the ``published`` ones;
    returns the newest valid one."""
    by_seq = {c["seq"]: c for c in checkpoints}
    for outside in published:
        inside = by_seq.get(outside.get("seq"))
        if inside is None:
            report.add(
                None,
                None,
                "a published checkpoint is not in the database",
                checkpoint=outside.get("seq"),
            )
        elif inside != outside:
            report.add(
                None,
                None,
                "the database's checkpoint differs from the published one",
                checkpoint=outside["seq"],
            )
    newest: dict[str, Any] | None = None
    previous: dict[str, Any] | None = None
    for checkpoint in checkpoints:
        seq = checkpoint["seq"]
        expected = (previous["seq"] + 1) if previous else 1
        if seq != expected:
            report.add(None, None, f"checkpoint {expected} is missing", checkpoint=expected)
        if checkpoint["prev"] != (fmt.checkpoint_hash(previous) if previous else ""):
            report.add(None, None, "prev is not the previous checkpoint's hash", checkpoint=seq)
        if not fmt.checkpoint_signed(public_key, checkpoint):
            report.add(None, None, "signature is not the ledger key's", checkpoint=seq)
        else:
            newest = checkpoint
        previous = checkpoint
    return newest


def read_published(path: Path) -> list[dict[str, Any]]:
    """The checkpoints in a published file, in order (a torn last line is left out)."""
    if not path.exists():
        return []
    published = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(ValueError):
            published.append(json.loads(line))
    return published


def _get(data: Any, name: str) -> Any:
    return data.get(name) if isinstance(data, dict) else None


def _digest(value: Any) -> str | None:
    try:
        return fmt.input_digest(value)
    except (TypeError, ValueError):
        return None


def _same(a: Any, b: Any) -> bool:
    try:
        return fmt.canonical(a) == fmt.canonical(b)
    except (TypeError, ValueError):
        return False
