"""Verification of the ledger against the database, the ledger key and the published checkpoints.

Each problem is reported at the entry where it is (``run_id`` and ``seq``), or at the
checkpoint (``checkpoint``). What is checked, and what each check catches:

- each chain: seq 1, 2, ... with no gap (a deleted or reordered entry), each ``prev_hash`` the
  previous entry's hash, each hash recomputed (an edited entry), each signature by the ledger
  key (a rewrite with the hashes recomputed: only the key's holder can sign);
- each run row: its recorded chain length and head against the chain (a truncated tail); its
  output against its ``run.succeeded`` entry, a finished run's last entry against its status,
  each succeeded step's output against its ``step.succeeded`` entry;
- entries whose run is gone (a deleted run row);
- checkpoints: seq 1, 2, ..., each linked to the previous one and signed; the ones in the
  published file present and unchanged in the database; every checkpoint's root recomputed
  from the leaves; every leaf's head still in its chain at its seq (a run deleted whole, or a
  tail truncated together with the run row, after it was checkpointed); a leaf of a run moved
  to an archive (``modx db archive``) against the run's archive record instead: signed by the
  ledger key, its chain at least that long, and the same head at its length. The archive
  itself is checked by ``modx db verify-archive``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db.models import (
    ArchivedRunRow,
    LedgerCheckpointRow,
    LedgerEntryRow,
    LedgerLeafRow,
    RunRow,
    StepRow,
)
from services.ledger import format as fmt
from services.ledger.checkpoints import as_dict
from services.ledger.checks import Report, check_chain, check_published, check_run, read_published
from services.ledger.merkle import Frontier, leaf_hash

_CHUNK = 500


async def verify(
    session: AsyncSession,
    public_key: Ed25519PublicKey,
    run_id: str | None = None,
    published: Path | None = None,
    tenant: str | None = None,
) -> dict[str, Any]:
    """Check the ledger (every run's, or one run's; of ``tenant``'s runs only when given: the
    problems at other tenants' runs, and orphaned entries, are not reported then); see the
    module's docstring."""
    report = Report()
    runs = entries_seen = 0
    after = ""
    while True:
        query = select(RunRow).order_by(RunRow.id).limit(_CHUNK)
        query = (
            query.where(RunRow.id == run_id)
            if run_id is not None
            else query.where(RunRow.id > after)
        )
        if tenant is not None:
            query = query.where(RunRow.tenant == tenant)
        chunk = (await session.scalars(query)).all()
        if not chunk:
            break
        ids = [run.id for run in chunk]
        entries: dict[str, list[LedgerEntryRow]] = {i: [] for i in ids}
        for entry in await session.scalars(
            select(LedgerEntryRow)
            .where(LedgerEntryRow.run_id.in_(ids))
            .order_by(LedgerEntryRow.run_id, LedgerEntryRow.seq)
        ):
            entries[entry.run_id].append(entry)
        steps: dict[str, list[StepRow]] = {i: [] for i in ids}
        for step in await session.scalars(select(StepRow).where(StepRow.run_id.in_(ids))):
            steps[step.run_id].append(step)
        for run in chunk:
            check_chain(report, run.id, entries[run.id], public_key)
            check_run(report, run, entries[run.id], steps[run.id])
            entries_seen += len(entries[run.id])
        runs += len(chunk)
        after = chunk[-1].id
        if run_id is not None or len(chunk) < _CHUNK:
            break
    orphans = select(LedgerEntryRow.run_id, LedgerEntryRow.seq).where(
        ~select(RunRow.id).where(RunRow.id == LedgerEntryRow.run_id).exists()
    )
    if run_id is not None:
        orphans = orphans.where(LedgerEntryRow.run_id == run_id)
    orphaned: dict[str, int] = {}
    for orphan, seq in await session.execute(orphans) if tenant is None else ():
        orphaned[orphan] = min(seq, orphaned.get(orphan, seq))
    for orphan, seq in sorted(orphaned.items()):
        report.add(orphan, seq, "entries of a run that is not in the runs table")
    checkpoint = await _check_checkpoints(session, report, public_key, run_id, published, tenant)
    return {
        "ok": report.count == 0,
        "runs": runs,
        "entries": entries_seen,
        "checkpoint": checkpoint,
        "problem_count": report.count,
        "problems": report.problems,
    }


async def _check_checkpoints(
    session: AsyncSession,
    report: Report,
    public_key: Ed25519PublicKey,
    run_id: str | None,
    published: Path | None,
    tenant: str | None = None,
) -> dict[str, Any] | None:
    rows = (
        await session.scalars(select(LedgerCheckpointRow).order_by(LedgerCheckpointRow.seq))
    ).all()
    checkpoints = [as_dict(row) for row in rows]
    outside = read_published(published) if published is not None else []
    newest = check_published(report, checkpoints, outside, public_key)
    if newest is None:
        return None
    # Every checkpoint's root from the leaves, in one pass; then each leaf against its chain.
    roots = {c["tree_size"]: c for c in checkpoints}
    frontier = Frontier()
    if 0 in roots and roots[0]["root"] != frontier.root().hex():
        report.add(None, None, "the root is not the empty tree's", checkpoint=roots[0]["seq"])
    leaves = (
        select(LedgerLeafRow, LedgerEntryRow.hash, RunRow.id, RunRow.tenant, ArchivedRunRow)
        .outerjoin(
            LedgerEntryRow,
            (LedgerEntryRow.run_id == LedgerLeafRow.run_id)
            & (LedgerEntryRow.seq == LedgerLeafRow.seq),
        )
        .outerjoin(RunRow, RunRow.id == LedgerLeafRow.run_id)
        .outerjoin(ArchivedRunRow, ArchivedRunRow.run_id == LedgerLeafRow.run_id)
        .where(LedgerLeafRow.idx < newest["tree_size"])
        .order_by(LedgerLeafRow.idx)
    )
    for leaf, entry_hash, present, owner, archived in await session.execute(leaves):
        if leaf.idx != frontier.size:
            report.add(None, None, f"leaf {frontier.size} is missing", leaf=frontier.size)
            break
        frontier.append(leaf_hash(leaf.run_id, leaf.seq, leaf.head))
        at = roots.get(frontier.size)
        if at is not None and at["root"] != frontier.root().hex():
            report.add(
                None, None, "the leaves do not give the checkpoint's root", checkpoint=at["seq"]
            )
        if run_id is not None and leaf.run_id != run_id:
            continue
        if tenant is not None and owner != tenant:
            continue
        if present is None and archived is not None:
            _check_archived(report, public_key, leaf, archived)
        elif present is None:
            report.add(leaf.run_id, leaf.seq, f"run in checkpoint (leaf {leaf.idx}) was deleted")
        elif entry_hash is None:
            report.add(leaf.run_id, leaf.seq, f"entry in checkpoint (leaf {leaf.idx}) is gone")
        elif entry_hash != leaf.head:
            report.add(
                leaf.run_id, leaf.seq, f"entry differs from its checkpoint (leaf {leaf.idx})"
            )
    if frontier.size < newest["tree_size"]:
        report.add(
            None, None, "the checkpoint has leaves the database lacks", checkpoint=newest["seq"]
        )
    return {"seq": newest["seq"], "tree_size": newest["tree_size"], "root": newest["root"]}


def _check_archived(
    report: Report, public_key: Ed25519PublicKey, leaf: LedgerLeafRow, archived: ArchivedRunRow
) -> None:
    """A checkpointed leaf of a run moved to an archive, against the run's archive record."""
    if not fmt.archived_signed(
        public_key,
        archived.run_id,
        archived.ledger_seq,
        archived.ledger_head,
        archived.archive,
        archived.signature,
    ):
        report.add(leaf.run_id, leaf.seq, "the run's archive record is not the ledger key's")
    elif leaf.seq > archived.ledger_seq or (
        leaf.seq == archived.ledger_seq and leaf.head != archived.ledger_head
    ):
        report.add(
            leaf.run_id, leaf.seq, f"entry in checkpoint (leaf {leaf.idx}) is not the archived one"
        )
