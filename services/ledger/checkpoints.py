"""Checkpoints: signed heads of an append-only Merkle tree over the runs' chain heads.

Every ``ledger_checkpoint_interval_s`` (and on demand, for an export), the checkpointer
appends one leaf per run whose chain grew since the last checkpoint (``[run_id, seq, head]``),
and signs the new tree head: its sequence number, size, root, the hash of the previous
checkpoint, the key's id and the time. The tree only grows, so each checkpoint covers every
head recorded before it, and a chain later cut short or rewritten no longer matches its leaf.

Checkpoints go to the ``ledger_checkpoints`` table and, from every replica, to an append-only
file (one JSON line each) outside the database; optionally each is POSTed to a URL. Publishing
checks that the new checkpoints extend the ones already in the file: a database whose
checkpoints were rewritten is reported, not published.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.db.models import LedgerCheckpointRow, LedgerEntryRow, LedgerLeafRow, utcnow
from services.ledger import format as fmt
from services.ledger.checks import read_published
from services.ledger.merkle import Frontier, leaf_hash
from services.outage import Outage, log_failure

log = logging.getLogger(__name__)

# How far back (in ledger_entries ids) each checkpoint looks again: an entry whose id was
# taken before the previous checkpoint read but committed after it is still found.
LOOKBACK_IDS = 10_000
_LOCK = 727275  # PostgreSQL advisory lock: one replica makes a checkpoint at a time


def as_dict(row: LedgerCheckpointRow) -> dict[str, Any]:
    """A checkpoint as published: its signed body and the signature."""
    return {
        "version": fmt.CHECKPOINT_VERSION,
        "seq": row.seq,
        "tree_size": row.tree_size,
        "root": row.root,
        "prev": row.prev,
        "key_id": row.key_id,
        "created_at": row.created_at,
        "signature": row.signature,
    }


class Checkpointer:
    """Makes and publishes this process's checkpoints."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        key: Ed25519PrivateKey,
        published: Path,
        *,
        url: str | None = None,
        interval_s: float = 60.0,
    ) -> None:
        self.sessions = sessions
        self.key = key
        self.public_key = key.public_key()
        self.key_id = fmt.key_id(self.public_key)
        self.published = published
        self.url = url
        self.interval_s = interval_s
        self._frontier = Frontier()
        self._lock = asyncio.Lock()
        self._last_published: dict[str, Any] | None = None
        self.outage = Outage("the database, for ledger checkpoints", log)

    async def run(self) -> None:
        """Checkpoint and publish every ``interval_s`` until cancelled."""
        while True:
            try:
                await self.checkpoint()
                await self.publish()
                self.outage.recovered()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log_failure(self.outage, exc, log, "ledger checkpoint")
            await asyncio.sleep(self.interval_s)

    async def checkpoint(self) -> dict[str, Any] | None:
        """Append the heads that changed and sign the new tree head; None when none changed."""
        async with self._lock:
            async with self.sessions() as session, session.begin():
                if session.get_bind().dialect.name == "postgresql":
                    await session.execute(text(f"SELECT pg_advisory_xact_lock({_LOCK})"))
                last = await session.scalar(
                    select(LedgerCheckpointRow).order_by(LedgerCheckpointRow.seq.desc()).limit(1)
                )
                upto = last.entries_upto if last is not None else 0
                heads, newest = await _grown_heads(session, max(0, upto - LOOKBACK_IDS))
                if not heads and last is not None:
                    return None
                frontier = await self._caught_up(session, last.tree_size if last else 0)
                leaves: list[dict[str, Any]] = []
                for run_id, (seq, head) in sorted(heads.items()):
                    leaves.append(
                        {"idx": frontier.size, "run_id": run_id, "seq": seq, "head": head}
                    )
                    frontier.append(leaf_hash(run_id, seq, head))
                body = {
                    "version": fmt.CHECKPOINT_VERSION,
                    "seq": (last.seq if last is not None else 0) + 1,
                    "tree_size": frontier.size,
                    "root": frontier.root().hex(),
                    "prev": fmt.checkpoint_hash(as_dict(last)) if last is not None else "",
                    "key_id": self.key_id,
                    "created_at": utcnow().isoformat(),
                }
                body["signature"] = fmt.sign_checkpoint(self.key, body)
                if leaves:
                    await session.execute(insert(LedgerLeafRow), leaves)
                row = {k: v for k, v in body.items() if k != "version"}
                await session.execute(
                    insert(LedgerCheckpointRow), [{**row, "entries_upto": max(newest, upto)}]
                )
            self._frontier = frontier  # committed: the next checkpoint grows from here
        return body

    async def _caught_up(self, session: AsyncSession, tree_size: int) -> Frontier:
        """A copy of the frontier grown to ``tree_size`` leaves (other replicas' checkpoints)."""
        frontier = self._frontier.copy() if self._frontier.size <= tree_size else Frontier()
        if frontier.size < tree_size:
            query = (
                select(LedgerLeafRow.run_id, LedgerLeafRow.seq, LedgerLeafRow.head)
                .where(LedgerLeafRow.idx >= frontier.size, LedgerLeafRow.idx < tree_size)
                .order_by(LedgerLeafRow.idx)
            )
            for run_id, seq, head in await session.execute(query):
                frontier.append(leaf_hash(run_id, seq, head))
        return frontier

    async def publish(self) -> int:
        """Append to the file the checkpoints it lacks; returns how many were appended.

        Each must be signed by this ledger key and link to the last one in the file;
        otherwise nothing is appended and the mismatch is logged as an error.
        """
        if self._last_published is None:
            existing = read_published(self.published)
            self._last_published = existing[-1] if existing else {}
        after = int(self._last_published.get("seq", 0))
        async with self.sessions() as session:
            rows = (
                await session.scalars(
                    select(LedgerCheckpointRow)
                    .where(LedgerCheckpointRow.seq > after)
                    .order_by(LedgerCheckpointRow.seq)
                )
            ).all()
        fresh: list[dict[str, Any]] = []
        previous = self._last_published
        for row in rows:
            checkpoint = as_dict(row)
            expected_prev = fmt.checkpoint_hash(previous) if previous else ""
            if not fmt.checkpoint_signed(self.public_key, checkpoint) or (
                checkpoint["prev"] != expected_prev or checkpoint["seq"] != after + len(fresh) + 1
            ):
                log.error(
                    "ledger checkpoint %s in the database does not extend the published ones "
                    "in %s (bad signature or link): not published",
                    checkpoint["seq"],
                    self.published,
                )
                break
            fresh.append(checkpoint)
            previous = checkpoint
        if not fresh:
            return 0
        await asyncio.to_thread(_append, self.published, fresh)
        self._last_published = fresh[-1]
        if self.url:
            await self._post(fresh)
        return len(fresh)

    async def _post(self, checkpoints: list[dict[str, Any]]) -> None:
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                for checkpoint in checkpoints:
                    response = await client.post(str(self.url), json=checkpoint)
                    response.raise_for_status()
        except httpx.HTTPError as exc:
            log.warning("posting ledger checkpoints to %s failed: %s", self.url, exc)


async def _grown_heads(
    session: AsyncSession, after_id: int
) -> tuple[dict[str, tuple[int, str]], int]:
    """Runs whose chain has entries past their last leaf: run id -> (seq, head) of the newest
    entry, and the highest entry id read."""
    query = select(
        LedgerEntryRow.id, LedgerEntryRow.run_id, LedgerEntryRow.seq, LedgerEntryRow.hash
    ).where(LedgerEntryRow.id > after_id)
    heads: dict[str, tuple[int, str]] = {}
    newest = after_id
    for entry_id, run_id, seq, digest in await session.execute(query):
        newest = max(newest, entry_id)
        if run_id not in heads or heads[run_id][0] < seq:
            heads[run_id] = (seq, digest)
    run_ids = list(heads)
    for start in range(0, len(run_ids), 1000):
        chunk = run_ids[start : start + 1000]
        leaves = select(LedgerLeafRow.run_id, func.max(LedgerLeafRow.seq)).where(
            LedgerLeafRow.run_id.in_(chunk)
        )
        for run_id, seq in await session.execute(leaves.group_by(LedgerLeafRow.run_id)):
            if heads[run_id][0] <= seq:
                del heads[run_id]
    return heads, newest


def _append(path: Path, checkpoints: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    with os.fdopen(fd, "a") as handle:
        for checkpoint in checkpoints:
            handle.write(json.dumps(checkpoint, sort_keys=True, separators=(",", ":")) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
