"""Checking a run's ledger export with nothing but the export and the ledger's public key.

An export (``modx ledger export``, ``GET /v1/runs/{id}/ledger``) holds the run as recorded
(status, output, steps' outputs), its chain of entries, a signed checkpoint, the run's leaf in
that checkpoint's tree and the leaf's inclusion proof. It checks out when the chain is whole,
hashed and signed, the run's and steps' outputs are the ones in the chain, the leaf holds the
chain's head and the proof leads from the leaf to the checkpoint's signed root. Given the
published checkpoints, the export's checkpoint must also be one of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.ledger import format as fmt
from services.ledger.checks import Report, check_chain, check_run
from services.ledger.merkle import leaf_hash, verify_inclusion


def check_export(
    bundle: dict[str, Any],
    public_key: Ed25519PublicKey,
    published: Sequence[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The report on ``bundle``: ``ok``, and each problem at its entry."""
    report = Report()
    if bundle.get("format") != fmt.EXPORT_FORMAT:
        report.add(None, None, f"not a {fmt.EXPORT_FORMAT} export")
        return _result(report, bundle)
    run = SimpleNamespace(**bundle["run"])
    entries = [SimpleNamespace(**entry) for entry in bundle["entries"]]
    steps = [SimpleNamespace(**step) for step in bundle["steps"]]
    check_chain(report, run.id, entries, public_key)
    check_run(report, run, entries, steps)
    checkpoint, leaf = bundle.get("checkpoint"), bundle.get("leaf")
    if checkpoint is None or leaf is None:
        report.add(run.id, None, "no checkpoint covers the run's chain")
        return _result(report, bundle)
    if not fmt.checkpoint_signed(public_key, checkpoint):
        report.add(
            None, None, "signature is not the ledger key's", checkpoint=checkpoint.get("seq")
        )
    if leaf["run_id"] != run.id:
        report.add(run.id, None, "the leaf is another run's")
    seq = leaf["seq"]
    if not 1 <= seq <= len(entries) or entries[seq - 1].hash != leaf["head"]:
        report.add(run.id, seq, "the checkpointed head is not this entry's hash")
    elif seq != len(entries):
        report.add(run.id, seq + 1, f"entries after {seq} are in no checkpoint")
    proof = [bytes.fromhex(node) for node in bundle.get("proof", [])]
    if not verify_inclusion(
        leaf_hash(leaf["run_id"], seq, leaf["head"]),
        leaf["index"],
        checkpoint["tree_size"],
        proof,
        bytes.fromhex(checkpoint["root"]),
    ):
        report.add(run.id, seq, "the inclusion proof does not lead to the checkpoint's root")
    if published is not None:
        same = [c for c in published if c.get("seq") == checkpoint.get("seq")]
        if same != [checkpoint]:
            report.add(
                None, None, "the checkpoint is not the published one", checkpoint=checkpoint["seq"]
            )
    return _result(report, bundle)


def _result(report: Report, bundle: dict[str, Any]) -> dict[str, Any]:
    run = bundle.get("run") or {}
    return {
        "ok": report.count == 0,
        "run_id": run.get("id"),
        "status": run.get("status"),
        "entries": len(bundle.get("entries") or []),
        "checkpoint": (bundle.get("checkpoint") or {}).get("seq"),
        "problem_count": report.count,
        "problems": report.problems,
    }
