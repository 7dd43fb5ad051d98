"""A run's ledger exported and checked by an outsider: with the export and the public key only
(``modx ledger verify --offline``), and against the server (``modx ledger verify``)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import update
from typer.testing import CliRunner

from services.cli.main import app
from services.db.engine import session_factory
from services.db.models import RunRow
from services.ledger import format as fmt
from services.ledger import keys
from services.ledger.checkpoints import Checkpointer
from services.ledger.checks import read_published
from services.ledger.export import export_run
from services.ledger.offline import check_export
from tests.fixtures.errors import assert_error
from tests.ledger.conftest import ENTRIES, Copy, Golden


def problems(report: dict[str, Any]) -> list[tuple[int | None, str]]:
    return [(p["seq"], p["problem"]) for p in report["problems"]]


def test_the_export_proves_the_run_to_an_outsider(golden: Golden) -> None:
    public = keys.public_key(golden.public_key)
    published = read_published(golden.data_dir / "ledger-checkpoints.jsonl")
    report = check_export(golden.export, public, published)
    assert report["ok"], report["problems"]
    assert report["entries"] == ENTRIES[3] and report["status"] == "succeeded"
    assert golden.export["run"]["output"] == 0 + 1 + 4  # the answer it proves
    assert golden.export["leaf"]["seq"] == ENTRIES[3] and golden.export["proof"]
    assert golden.export["checkpoint"] in published


def test_a_tampered_export_is_reported_at_its_entry(golden: Golden) -> None:
    public = keys.public_key(golden.public_key)
    last = ENTRIES[3]

    def check(change: Any) -> list[tuple[int | None, str]]:
        bundle = copy.deepcopy(golden.export)
        change(bundle)
        return problems(check_export(bundle, public))

    def output(bundle: dict[str, Any]) -> None:
        bundle["run"]["output"] = 6

    assert check(output) == [(last, "runs.output is not the output in the ledger")]

    def question(bundle: dict[str, Any]) -> None:  # the answer shown for another question
        bundle["run"]["input"] = {"n": 99}

    assert check(question) == [(last, "runs.input is not the input in the ledger")]

    def entry(bundle: dict[str, Any]) -> None:
        bundle["entries"][1]["data"]["agent_id"] = "someone-else"

    assert check(entry)[0] == (2, "hash does not match the entry")

    def proof(bundle: dict[str, Any]) -> None:
        bundle["leaf"]["index"] += 1

    assert check(proof) == [(last, "the inclusion proof does not lead to the checkpoint's root")]

    def cut(bundle: dict[str, Any]) -> None:  # the tail dropped, the run made to agree
        del bundle["entries"][-1]
        bundle["run"]["ledger_seq"] -= 1
        bundle["run"]["ledger_head"] = bundle["entries"][-1]["hash"]

    assert (last, "the checkpointed head is not this entry's hash") in check(cut)

    def resigned(bundle: dict[str, Any]) -> None:  # the whole export signed by another key
        forger = Ed25519PrivateKey.generate()
        for item in bundle["entries"]:
            item["signature"] = fmt.sign_entry(forger, item["hash"])
        bundle["checkpoint"]["signature"] = fmt.sign_checkpoint(forger, bundle["checkpoint"])

    found = check(resigned)
    assert [seq for seq, p in found if p == "signature is not the ledger key's"] == [
        *range(1, last + 1),
        None,  # and the checkpoint's
    ]


def test_an_export_whose_checkpoint_was_not_published_is_reported(golden: Golden) -> None:
    public = keys.public_key(golden.public_key)
    published = [
        c
        for c in read_published(golden.data_dir / "ledger-checkpoints.jsonl")
        if c["seq"] != golden.export["checkpoint"]["seq"]
    ]
    report = check_export(golden.export, public, published)
    assert report["problems"] == [
        {
            "run_id": None,
            "seq": None,
            "problem": "the checkpoint is not the published one",
            "checkpoint": golden.export["checkpoint"]["seq"],
        }
    ]


def test_modx_ledger_verify_offline_and_against_the_server(golden: Golden, tmp_path: Path) -> None:
    assert golden.cli.exit_code == 0, golden.cli.output
    assert "ledger verified: 3 run(s)" in golden.cli.output
    assert_error(golden.missing, 404, "not_found")

    exported = tmp_path / "run.json"
    exported.write_text(json.dumps(golden.export))
    key_file = tmp_path / "ledger.pub"
    key_file.write_text(golden.public_key + "\n")
    runner = CliRunner()
    args = ["ledger", "verify", "--offline", str(exported), "--public-key", str(key_file)]
    ok = runner.invoke(
        app, [*args, "--checkpoints", str(golden.data_dir / "ledger-checkpoints.jsonl")]
    )
    assert ok.exit_code == 0, ok.output
    assert f"run {golden.checkpointed[0]} (succeeded), {ENTRIES[3]} entries" in ok.output

    forged = copy.deepcopy(golden.export)
    forged["run"]["output"] = 6
    exported.write_text(json.dumps(forged))
    bad = runner.invoke(app, [*args, "--json"])
    assert bad.exit_code == 1
    report = json.loads(bad.stdout)
    assert problems(report) == [(ENTRIES[3], "runs.output is not the output in the ledger")]

    other = keys.public_key_text(Ed25519PrivateKey.generate())
    exported.write_text(json.dumps(golden.export))
    wrong_key = runner.invoke(app, [*args[:-1], other])
    assert wrong_key.exit_code == 1 and "signature is not the ledger key's" in wrong_key.output

    garbled = runner.invoke(app, [*args[:-1], "not-a-key"])
    assert garbled.exit_code == 2


async def test_an_export_of_a_tampered_database_does_not_verify(ledger: Copy) -> None:
    """The server exports honestly what the database now says; the outsider sees the edit."""
    run_id = ledger.golden.checkpointed[0]
    async with ledger.db.begin() as conn:
        await conn.execute(update(RunRow).where(RunRow.id == run_id).values(output=99))
    key = keys.read_key_file(ledger.golden.data_dir / "ledger.key")
    sessions = session_factory(ledger.db)
    bundle = await export_run(sessions, Checkpointer(sessions, key, ledger.published), run_id)
    assert bundle is not None
    report = check_export(bundle, ledger.public_key, read_published(ledger.published))
    assert problems(report) == [(ENTRIES[3], "runs.output is not the output in the ledger")]


def test_modx_ledger_export_writes_a_file_that_verifies(golden: Golden) -> None:
    bundle = json.loads((golden.data_dir.parent / "cli.json").read_text())
    assert bundle["run"]["id"] == golden.checkpointed[1]
    assert len(bundle["entries"]) == ENTRIES[4]
    published = read_published(golden.data_dir / "ledger-checkpoints.jsonl")
    report = check_export(bundle, keys.public_key(golden.public_key), published)
    assert report["ok"], report["problems"]
