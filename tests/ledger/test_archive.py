"""``modx db archive`` and ``modx db verify-archive`` on a copy of the golden ledger (real runs
through MODX), on PostgreSQL and on SQLite: two of its runs made two months old, one recent,
and an unfinished run as old as they are."""

from __future__ import annotations

import asyncio
import gzip
import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text, update
from typer.testing import CliRunner, Result

from services.archive import layout
from services.archive.check import check_archive
from services.cli.main import app
from services.db import partitions
from services.db.models import A2aTaskRow, ArchivedRunRow, EventRow, LedgerEntryRow, RunRow
from services.ledger import keys
from services.ledger.checks import read_published
from tests.ledger.conftest import ENTRIES, Copy

OLD = datetime.now(UTC) - timedelta(days=60)


@dataclass
class Scene:
    """The copy, made ready to archive."""

    ledger: Copy
    data_dir: Path  # a copy of the golden data directory: the key, the published checkpoints
    env: dict[str, str]
    old: list[str]  # finished two months ago
    stuck: str  # unfinished, two months old
    events: dict[str, int]  # events per run before archiving

    async def cli(self, *args: str) -> Result:
        """``modx`` with these arguments (in a thread: the CLI runs its own event loop)."""
        return await asyncio.to_thread(CliRunner().invoke, app, list(args), env=self.env)

    @property
    def published(self) -> list[dict[str, Any]]:
        return read_published(self.data_dir / "ledger-checkpoints.jsonl")


async def _count(ledger: Copy, table: Any, run_id: str) -> int:
    async with ledger.db.connect() as conn:
        query = select(func.count()).select_from(table).where(table.c.run_id == run_id)
        return (await conn.execute(query)).scalar_one()


@pytest.fixture
async def scene(ledger: Copy, tmp_path: Path) -> Scene:
    golden = ledger.golden
    data_dir = tmp_path / "modx"
    shutil.copytree(golden.data_dir, data_dir)
    old_runs = golden.checkpointed
    async with ledger.db.begin() as conn:
        if conn.dialect.name == "postgresql":  # the month the old rows go to
            for table in partitions.TABLES:
                await conn.run_sync(partitions.create_month, table, partitions.month_start(OLD))
        await conn.execute(
            update(RunRow)
            .where(RunRow.id.in_(old_runs))
            .values(created_at=OLD, started_at=OLD, finished_at=OLD, updated_at=OLD)
        )
        for row in (EventRow, LedgerEntryRow):
            await conn.execute(update(row).where(row.run_id.in_(old_runs)).values(created_at=OLD))
        await conn.execute(
            insert(RunRow),
            [
                {
                    "id": "stuck",
                    "workflow_name": "w",
                    "definition": {},
                    "status": "running",
                    "created_at": OLD,
                    "updated_at": OLD,
                }
            ],
        )
        await conn.execute(
            insert(EventRow),
            [{"run_id": "stuck", "type": "run.changed", "data": {}, "created_at": OLD}] * 3,
        )
    url = ledger.db.url.render_as_string(hide_password=False)
    events = {
        r: await _count(ledger, EventRow.__table__, r) for r in [*old_runs, golden.later, "stuck"]
    }
    env = {"MODX_DATA_DIR": str(data_dir), "MODX_DATABASE_URL": url}
    return Scene(ledger, data_dir, env, old_runs, "stuck", events)


async def _archive(scene: Scene, *extra: str) -> dict[str, Any]:
    result = await scene.cli("db", "archive", "--older-than", "30d", "--json", *extra)
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


async def test_archive_takes_exactly_the_old_finished_runs(scene: Scene) -> None:
    ledger = scene.ledger
    dry = await _archive(scene, "--dry-run", "--out", str(scene.data_dir / "none"))
    assert not (scene.data_dir / "none").exists()
    for run_id in scene.old:  # a dry run changes nothing
        assert await _count(ledger, LedgerEntryRow.__table__, run_id) > 0
    done = await _archive(scene)
    expected_entries = ENTRIES[3] + ENTRIES[4]
    assert done["runs"] == dry["runs"] == 2
    assert done["ledger_entries"] == dry["ledger_entries"] == expected_entries
    assert done["events"] == dry["events"] == sum(scene.events[r] for r in scene.old)
    assert done["partitions_dropped"] == dry["partitions_dropped"]
    archive = Path(done["archive"])
    lines = [line["run"]["id"] for line in layout.read_lines(archive / layout.RUNS)]
    assert sorted(lines) == sorted(scene.old)

    # The archive checks out against the key and the published checkpoints.
    public = keys.read_key_file(scene.data_dir / "ledger.key").public_key()
    report = check_archive(archive, public, scene.published)
    assert report["ok"], report["problems"]
    assert (report["runs"], report["entries"]) == (2, expected_entries)

    # Gone from the database: the old runs; intact: the recent one and the unfinished one.
    async with ledger.db.connect() as conn:
        left = set((await conn.execute(select(RunRow.id))).scalars())
        tombstones = set((await conn.execute(select(ArchivedRunRow.run_id))).scalars())
    assert left == {ledger.golden.later, scene.stuck}
    assert tombstones == set(scene.old)
    for run_id in (ledger.golden.later, scene.stuck):
        assert await _count(ledger, EventRow.__table__, run_id) == scene.events[run_id]
    for run_id in scene.old:
        assert await _count(ledger, EventRow.__table__, run_id) == 0
        assert await _count(ledger, LedgerEntryRow.__table__, run_id) == 0

    # On PostgreSQL the old month's ledger partition held only archived rows: dropped. Its
    # events partition holds the unfinished run's events: kept.
    if ledger.golden.backend == "postgres":
        month = partitions.month_start(OLD)
        events_month = partitions.month_name("events", month)
        ledger_month = partitions.month_name("ledger_entries", month)
        assert done["partitions_dropped"] == [ledger_month]
        assert done["partitions_kept"] == [events_month]
        async with ledger.db.connect() as conn:
            exists = await conn.execute(
                text("SELECT to_regclass(:a), to_regclass(:b)"),
                {"a": events_month, "b": ledger_month},
            )
            assert exists.one() == (events_month, None)

    # What stays still verifies, the archived runs' checkpoint leaves by their records.
    report = await ledger.verify()
    assert report["ok"], report["problems"]
    assert report["runs"] == 2
    cli = await scene.cli("db", "verify-archive", str(archive), "--json")
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.stdout)["ok"] is True


async def test_verify_after_archive_needs_the_signed_records(scene: Scene) -> None:
    await _archive(scene)
    async with scene.ledger.db.begin() as conn:
        await conn.execute(
            update(ArchivedRunRow)
            .where(ArchivedRunRow.run_id == scene.old[0])
            .values(ledger_head="0" * 64)
        )
    report = await scene.ledger.verify()
    assert not report["ok"]
    assert {p["run_id"] for p in report["problems"]} == {scene.old[0]}
    assert "archive record" in report["problems"][0]["problem"]


def _rewrite(path: Path, change: Any) -> None:
    lines = list(layout.read_lines(path))
    with gzip.open(path, "wt") as handle:
        for line in lines:
            handle.write(json.dumps(change(line)) + "\n")


async def test_a_tampered_archive_fails_at_the_entry(scene: Scene) -> None:
    archive = Path((await _archive(scene))["archive"])
    public = keys.read_key_file(scene.data_dir / "ledger.key").public_key()
    victim = scene.old[1]

    def edit(entry: dict[str, Any]) -> dict[str, Any]:
        if entry["run_id"] == victim and entry["seq"] == 2:
            entry["data"]["output"] = {"forged": True}
        return entry

    _rewrite(archive / layout.LEDGER, edit)
    report = check_archive(archive, public)
    assert not report["ok"]
    assert report["problems"] == [
        {
            "run_id": None,
            "seq": None,
            "problem": "its SHA-256 is not the manifest's",
            "file": layout.LEDGER,
        }
    ]
    # The forger fixes the manifest too: the chain still gives them away, at that entry.
    manifest = json.loads((archive / layout.MANIFEST).read_text())
    manifest["files"][layout.LEDGER]["sha256"] = layout.sha256(archive / layout.LEDGER)
    (archive / layout.MANIFEST).write_text(json.dumps(manifest))
    report = check_archive(archive, public)
    assert not report["ok"]
    assert {(p["run_id"], p["seq"]) for p in report["problems"]} == {(victim, 2)}
    assert report["problems"][0]["problem"] == "hash does not match the entry"
    cli = await scene.cli("db", "verify-archive", str(archive))
    assert cli.exit_code == 1
    assert f"run_id {victim}, seq 2: hash does not match the entry" in cli.output


async def test_archive_cli_errors(scene: Scene, tmp_path: Path) -> None:
    bad = await scene.cli("db", "archive", "--older-than", "soon", "--json")
    assert bad.exit_code == 2
    assert "--older-than 'soon'" in json.loads(bad.stderr)["error"]["message"]
    assert bad.stdout == ""  # errors go to stderr, JSON or not
    plain = await scene.cli("db", "archive", "--older-than", "0d")
    assert plain.exit_code == 2 and plain.output.count("\n") == 1
    assert plain.output.startswith("error: --older-than '0d'")
    nothing = await scene.cli("db", "verify-archive", str(tmp_path))
    assert nothing.exit_code == 2
    assert nothing.output.startswith(f"error: {tmp_path}: no readable manifest.json")
    # A cut-off before everything: nothing to archive, nothing removed.
    empty = json.loads((await scene.cli("db", "archive", "--older-than", "3650d", "--json")).stdout)
    assert (empty["runs"], empty["events"], empty["partitions_dropped"]) == (0, 0, [])


async def test_a_child_of_an_unfinished_run_stays(scene: Scene) -> None:
    async with scene.ledger.db.begin() as conn:
        child = {
            "id": "child-of-stuck",
            "workflow_name": "w",
            "definition": {},
            "status": "cancelled",
            "parent_run_id": scene.stuck,
            "created_at": OLD,
            "finished_at": OLD,
            "updated_at": OLD,
        }
        await conn.execute(insert(RunRow), [child])
    done = await _archive(scene)
    assert done["runs"] == 2  # the two old finished runs, not the unfinished run's child
    async with scene.ledger.db.connect() as conn:
        left = set((await conn.execute(select(RunRow.id))).scalars())
    assert "child-of-stuck" in left and not left & set(scene.old)


async def test_an_archived_runs_a2a_task_goes_with_it(scene: Scene) -> None:
    """A run started over A2A has an ``a2a_tasks`` row under its id (the client's context):
    it goes into the run's line of the archive and out of the database with the run."""
    old, recent = scene.old[0], scene.ledger.golden.later
    rows = [
        {"id": run_id, "tenant": "default", "context_id": f"ctx-{run_id}", "history": [],
         "created_at": OLD, "updated_at": OLD}
        for run_id in (old, recent)
    ]  # fmt: skip
    async with scene.ledger.db.begin() as conn:
        await conn.execute(insert(A2aTaskRow), rows)
    done = await _archive(scene)
    lines = {
        line["run"]["id"]: line for line in layout.read_lines(Path(done["archive"]) / layout.RUNS)
    }
    assert lines[old]["a2a_task"]["context_id"] == f"ctx-{old}"
    assert lines[scene.old[1]]["a2a_task"] is None
    async with scene.ledger.db.connect() as conn:
        left = set((await conn.execute(select(A2aTaskRow.id))).scalars())
    assert left == {recent}
