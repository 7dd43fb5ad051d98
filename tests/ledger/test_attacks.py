"""Attacks on the ledger by someone who knows the code and can write to the database, but holds
neither the ledger key nor the published checkpoint file. Each is reported at the exact entry;
on PostgreSQL and on SQLite (``golden`` is parametrized)."""

from __future__ import annotations

import json
import logging
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from services.db.engine import session_factory
from services.db.models import (
    EventRow,
    LedgerCheckpointRow,
    LedgerEntryRow,
    LedgerLeafRow,
    RunRow,
    StepRow,
)
from services.ledger import keys
from services.ledger.checkpoints import Checkpointer
from services.ledger.format import chain_hash
from tests.ledger.conftest import ENTRIES, Copy


def at(report: dict[str, Any], run_id: str) -> list[tuple[int | None, str]]:
    """The problems reported for ``run_id``: (seq, what); with any, the ledger is not ok."""
    found = [(p["seq"], p["problem"]) for p in report["problems"] if p["run_id"] == run_id]
    assert not found or (report["ok"] is False and report["problem_count"] >= len(found))
    return found


async def entries(ledger: Copy, run_id: str) -> list[LedgerEntryRow]:
    async with ledger.db.connect() as conn:
        rows = await conn.execute(
            select(LedgerEntryRow).where(LedgerEntryRow.run_id == run_id).order_by("seq")
        )
        return list(rows.all())  # type: ignore[arg-type]


async def test_the_untouched_ledger_verifies(ledger: Copy) -> None:
    golden = ledger.golden
    assert golden.verify_report["problems"] == [] and golden.verify_report["ok"]
    report = await ledger.verify()
    assert report["ok"], report["problems"]
    assert report["runs"] == 3 and report["entries"] == sum(ENTRIES.values())
    assert report["checkpoint"]["seq"] >= 2  # the genesis one, and the export's
    chain = await entries(ledger, golden.checkpointed[0])
    assert [e.seq for e in chain] == list(range(1, ENTRIES[3] + 1))
    assert all(e.signature for e in chain)
    assert (golden.data_dir / "ledger.key").stat().st_mode & 0o777 == 0o600


async def test_an_edited_entry_is_reported_at_its_seq(ledger: Copy) -> None:
    run_id = ledger.golden.checkpointed[0]
    chain = await entries(ledger, run_id)
    forged = {**chain[1].data, "output": {"items": [7, 7, 7]}}
    async with ledger.db.begin() as conn:
        await conn.execute(
            update(LedgerEntryRow)
            .where(LedgerEntryRow.run_id == run_id, LedgerEntryRow.seq == 2)
            .values(data=forged)
        )
    report = await ledger.verify()
    assert not report["ok"]
    assert at(report, run_id)[0] == (2, "hash does not match the entry")
    assert {seq for seq, _ in at(report, run_id)} == {2}  # nothing else of the run
    assert at(report, ledger.golden.checkpointed[1]) == []


async def test_a_rewrite_with_the_chain_recomputed_is_reported_where_it_starts(
    ledger: Copy,
) -> None:
    """The attacker edits the sum's output and recomputes every later hash with the code's own
    function, and updates the run row, the run's output and the step's output to match."""
    run_id = ledger.golden.checkpointed[0]
    chain = await entries(ledger, run_id)
    first = next(e.seq for e in chain if e.data.get("step_id") == "sum")
    head = chain[first - 2].hash
    async with ledger.db.begin() as conn:
        for entry in chain[first - 1 :]:
            data = dict(entry.data)
            if data.get("step_id") == "sum":
                data["output"] = {"total": 1_000_000}
            if entry.kind == "run.succeeded":
                data["output"] = 1_000_000
            digest = chain_hash(head, run_id, entry.seq, entry.kind, data)
            await conn.execute(
                update(LedgerEntryRow)
                .where(LedgerEntryRow.id == entry.id)
                .values(data=data, prev_hash=head, hash=digest)
            )
            head = digest
        await conn.execute(
            update(RunRow).where(RunRow.id == run_id).values(output=1_000_000, ledger_head=head)
        )
        await conn.execute(
            update(StepRow)
            .where(StepRow.run_id == run_id, StepRow.step_id == "sum")
            .values(output={"total": 1_000_000})
        )
    report = await ledger.verify()
    problems = at(report, run_id)
    assert problems[0] == (first, "signature is not the ledger key's")
    assert min(seq for seq, _ in problems if seq is not None) == first
    # Hashes, links and outputs agree with each other: only the key and the checkpoint say no.
    assert {p for _, p in problems} <= {
        "signature is not the ledger key's",
        f"entry differs from its checkpoint (leaf {_leaf(report, run_id)})",
    }
    assert (ENTRIES[3], f"entry differs from its checkpoint (leaf {_leaf(report, run_id)})") in (
        problems
    )


def _leaf(report: dict[str, Any], run_id: str) -> str:
    for problem in report["problems"]:
        if problem["run_id"] == run_id and "(leaf " in problem["problem"]:
            return str(problem["problem"]).split("(leaf ")[1].rstrip(")")
    return "?"


async def test_a_truncated_tail_is_reported_at_the_first_missing_entry(ledger: Copy) -> None:
    run_id = ledger.golden.checkpointed[0]
    async with ledger.db.begin() as conn:
        await conn.execute(
            delete(LedgerEntryRow).where(LedgerEntryRow.run_id == run_id, LedgerEntryRow.seq > 3)
        )
    problems = at(await ledger.verify(), run_id)
    assert problems[0] == (4, f"the chain ends at entry 3; the run records {ENTRIES[3]}")


async def test_a_tail_truncated_with_the_run_row_is_caught_by_the_checkpoint(
    ledger: Copy,
) -> None:
    """The run row is made to agree with the shortened chain; the checkpoint still holds the
    head at entry 6, and the run, succeeded, no longer ends with its run.succeeded entry."""
    run_id = ledger.golden.checkpointed[0]
    chain = await entries(ledger, run_id)
    async with ledger.db.begin() as conn:
        await conn.execute(
            delete(LedgerEntryRow).where(LedgerEntryRow.run_id == run_id, LedgerEntryRow.seq > 3)
        )
        await conn.execute(
            update(RunRow)
            .where(RunRow.id == run_id)
            .values(ledger_seq=3, ledger_head=chain[2].hash)
        )
    problems = at(await ledger.verify(), run_id)
    assert (4, "the run is succeeded; its last entry does not say so") in problems
    assert any(seq == ENTRIES[3] and "in checkpoint" in p and "is gone" in p for seq, p in problems)
    # Nothing before the cut; the steps whose entries went say so (they have no seq).
    assert all(seq >= 4 for seq, _ in problems if seq is not None)
    assert (None, "step sum succeeded without a ledger entry") in problems


async def test_a_deleted_run_is_reported(ledger: Copy) -> None:
    run_id = ledger.golden.checkpointed[1]
    async with ledger.db.begin() as conn:
        for table, column in (
            (LedgerEntryRow, LedgerEntryRow.run_id),
            (EventRow, EventRow.run_id),
            (StepRow, StepRow.run_id),
            (RunRow, RunRow.id),
        ):
            await conn.execute(delete(table).where(column == run_id))
    report = await ledger.verify()
    assert report["runs"] == 2
    problems = at(report, run_id)
    assert len(problems) == 1
    assert problems[0][0] == ENTRIES[4] and "was deleted" in problems[0][1]


async def test_a_deleted_run_row_leaves_its_entries_reported(ledger: Copy) -> None:
    run_id = ledger.golden.later
    async with ledger.db.begin() as conn:
        await conn.execute(delete(StepRow).where(StepRow.run_id == run_id))
        await conn.execute(delete(RunRow).where(RunRow.id == run_id))
    problems = at(await ledger.verify(), run_id)
    assert problems == [(1, "entries of a run that is not in the runs table")]


async def test_an_edited_run_output_is_reported_at_its_entry(ledger: Copy) -> None:
    run_id = ledger.golden.checkpointed[0]
    async with ledger.db.begin() as conn:
        await conn.execute(update(RunRow).where(RunRow.id == run_id).values(output=41))
    problems = at(await ledger.verify(), run_id)
    assert problems == [(ENTRIES[3], "runs.output is not the output in the ledger")]


async def test_an_edited_step_output_is_reported_at_its_entry(ledger: Copy) -> None:
    run_id = ledger.golden.later
    chain = await entries(ledger, run_id)
    seq = next(e.seq for e in chain if e.data.get("step_id") == "square[1]")
    async with ledger.db.begin() as conn:
        await conn.execute(
            update(StepRow)
            .where(StepRow.run_id == run_id, StepRow.step_id == "square[1]")
            .values(output={"value": 5})
        )
    problems = at(await ledger.verify(), run_id)
    assert len(problems) == 2 and set(problems) == {
        (seq, "step square[1]'s output is not the ledger's"),
        (None, "step square's output is not its items'"),  # the fan-in no longer adds up
    }


async def test_reordered_entries_are_reported_where_the_order_breaks(ledger: Copy) -> None:
    run_id = ledger.golden.later
    async with ledger.db.begin() as conn:
        for old, new in ((2, -2), (3, 2), (-2, 3)):  # swap 2 and 3 past the unique constraint
            await conn.execute(
                update(LedgerEntryRow)
                .where(LedgerEntryRow.run_id == run_id, LedgerEntryRow.seq == old)
                .values(seq=new)
            )
    problems = at(await ledger.verify(), run_id)
    assert problems[0] == (2, "prev_hash is not the previous entry's hash")
    assert {seq for seq, _ in problems} == {2, 3, 4}  # 4 follows what is now 3


async def test_a_deleted_entry_is_reported_at_its_seq(ledger: Copy) -> None:
    run_id = ledger.golden.checkpointed[0]
    step_id = (await entries(ledger, run_id))[2].data["step_id"]
    async with ledger.db.begin() as conn:
        await conn.execute(
            delete(LedgerEntryRow).where(LedgerEntryRow.run_id == run_id, LedgerEntryRow.seq == 3)
        )
    problems = at(await ledger.verify(), run_id)
    assert problems[0] == (3, "entry 3 is missing (found seq 4)")
    assert {seq for seq, _ in problems if seq is not None} == {3, 4}  # 4's link is broken
    assert [p for seq, p in problems if seq is None] == [
        f"step {step_id} succeeded without a ledger entry"
    ]


async def test_rewritten_checkpoints_are_reported_against_the_published_file(
    ledger: Copy,
) -> None:
    """Leaves are rewritten to fit a forged chain, and the checkpoint's root with them: the
    signature no longer holds, and the file outside the database still has the real one."""
    async with ledger.db.begin() as conn:
        last = (
            await conn.execute(select(LedgerCheckpointRow).order_by(LedgerCheckpointRow.seq.desc()))
        ).first()
        assert last is not None
        await conn.execute(
            update(LedgerLeafRow).where(LedgerLeafRow.idx == 0).values(head="0" * 64)
        )
        await conn.execute(
            update(LedgerCheckpointRow)
            .where(LedgerCheckpointRow.seq == last.seq)
            .values(root="1" * 64)
        )
    report = await ledger.verify()
    assert report["ok"] is False
    checkpoint_problems = {
        (p["checkpoint"], p["problem"]) for p in report["problems"] if p.get("checkpoint")
    }
    assert (last.seq, "the database's checkpoint differs from the published one") in (
        checkpoint_problems
    )
    assert (last.seq, "signature is not the ledger key's") in checkpoint_problems


async def test_a_deleted_checkpoint_is_reported(ledger: Copy) -> None:
    async with ledger.db.begin() as conn:
        await conn.execute(delete(LedgerCheckpointRow).where(LedgerCheckpointRow.seq == 1))
    report = await ledger.verify()
    assert report["ok"] is False
    problems = {(p.get("checkpoint"), p["problem"]) for p in report["problems"]}
    assert (1, "a published checkpoint is not in the database") in problems
    assert (1, "checkpoint 1 is missing") in problems


async def test_a_replica_does_not_publish_rewritten_checkpoints(
    ledger: Copy, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A checkpoint forged in the database (new root, no key to sign it) is not appended to the
    file by the replicas that publish; an honest new one is."""
    published = tmp_path / "checkpoints.jsonl"
    shutil.copy(ledger.published, published)
    before = published.read_text()
    key = keys.read_key_file(ledger.golden.data_dir / "ledger.key")
    sessions = session_factory(ledger.db)
    honest = Checkpointer(sessions, key, published)
    made = await honest.checkpoint()  # the run finished after the last one: it is due
    assert made is not None and made["tree_size"] > ledger.golden.export["checkpoint"]["tree_size"]
    async with ledger.db.begin() as conn:
        await conn.execute(
            update(LedgerCheckpointRow)
            .where(LedgerCheckpointRow.seq == made["seq"])
            .values(root="2" * 64)
        )
    with caplog.at_level(logging.ERROR):
        assert await honest.publish() == 0
    assert published.read_text() == before
    assert f"ledger checkpoint {made['seq']} in the database does not extend" in caplog.text


async def test_new_checkpoints_are_posted_to_the_configured_url(
    ledger: Copy, tmp_path: Path
) -> None:
    received: list[dict[str, Any]] = []

    class Witness(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Witness)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        published = tmp_path / "checkpoints.jsonl"
        shutil.copy(ledger.published, published)
        key = keys.read_key_file(ledger.golden.data_dir / "ledger.key")
        url = f"http://127.0.0.1:{server.server_address[1]}/checkpoints"
        checkpointer = Checkpointer(session_factory(ledger.db), key, published, url=url)
        made = await checkpointer.checkpoint()
        assert await checkpointer.publish() == 1
    finally:
        server.shutdown()
        thread.join()
    assert made is not None and received == [made]
    assert json.loads(published.read_text().splitlines()[-1]) == made


async def test_an_edited_run_input_is_reported_at_its_outcome(ledger: Copy) -> None:
    """The question an answer answers is bound too: the outcome entry names the input's hash
    (before, ``UPDATE runs SET input = …`` went unnoticed by verify and by exports)."""
    run_id = ledger.golden.checkpointed[0]
    async with ledger.db.begin() as conn:
        await conn.execute(update(RunRow).where(RunRow.id == run_id).values(input={"n": 99}))
    problems = at(await ledger.verify(), run_id)
    assert problems == [(ENTRIES[3], "runs.input is not the input in the ledger")]
