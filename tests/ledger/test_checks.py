"""The ledger's checks without a database: a chain and its run row, as plain objects.

Fast on purpose: these run for every mutant of ``services/ledger/checks.py`` and ``format.py``
in the CI mutation subset (bench/mutation). test_attacks.py makes the same breaks in real
databases.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.ledger import format as fmt
from services.ledger.checks import (
    MAX_PROBLEMS,
    Report,
    check_chain,
    check_published,
    check_run,
    read_published,
)

KEY = Ed25519PrivateKey.generate()
RUN = "run-1"


def chain(*kinds_and_data: tuple[str, Any]) -> list[SimpleNamespace]:
    """Entries 1..n, hashed and signed as the orchestrator writes them."""
    entries, head = [], ""
    for seq, (kind, data) in enumerate(kinds_and_data, start=1):
        digest = fmt.chain_hash(head, RUN, seq, kind, data)
        entries.append(
            SimpleNamespace(
                seq=seq,
                prev_hash=head,
                hash=digest,
                kind=kind,
                data=data,
                signature=fmt.sign_entry(KEY, digest),
            )
        )
        head = digest
    return entries


def good() -> list[SimpleNamespace]:
    return chain(
        ("step.succeeded", {"step_id": "a", "attempt": 1, "output": {"x": 1}}),
        ("step.succeeded", {"step_id": "b", "attempt": 2, "output": [1, 2]}),
        ("run.succeeded", {"output": {"x": 1}}),
    )


def run_row(entries: list[SimpleNamespace], **fields: Any) -> SimpleNamespace:
    values = {
        "id": RUN,
        "status": "succeeded",
        "output": {"x": 1},
        "ledger_seq": entries[-1].seq if entries else 0,
        "ledger_head": entries[-1].hash if entries else "",
    }
    return SimpleNamespace(**{**values, **fields})


def step(step_id: str, attempt: int, output: Any, **fields: Any) -> SimpleNamespace:
    values = {"step_id": step_id, "definition_id": step_id, "item_index": None}
    return SimpleNamespace(
        **{**values, "status": "succeeded", "attempt": attempt, "output": output, **fields}
    )


STEPS = [step("a", 1, {"x": 1}), step("b", 2, [1, 2])]


def problems(entries: list[SimpleNamespace], run: Any = None, steps: Any = None) -> list[Any]:
    report = Report()
    check_chain(report, RUN, entries, KEY.public_key())
    check_run(
        report,
        run if run is not None else run_row(entries),
        entries,
        steps if steps is not None else STEPS,
    )
    assert all(p["run_id"] == RUN for p in report.problems), report.problems  # named run
    assert report.count == len(report.problems)
    return [(p["seq"], p["problem"]) for p in report.problems]


def test_an_untouched_chain_has_no_problem() -> None:
    assert problems(good()) == []


def test_an_edited_entry_is_reported_at_its_seq() -> None:
    entries = good()
    entries[1].data = {**entries[1].data, "output": [9]}
    assert (2, "hash does not match the entry") in problems(entries)


def test_a_rehashed_edit_breaks_the_next_link_and_the_signature() -> None:
    entries = good()
    entries[0].data = {"step_id": "a", "attempt": 1, "output": {"x": 2}}
    entries[0].hash = fmt.chain_hash("", RUN, 1, entries[0].kind, entries[0].data)
    found = problems(entries)
    assert (1, "signature is not the ledger key's") in found
    assert (2, "prev_hash is not the previous entry's hash") in found
    assert (1, "hash does not match the entry") not in found


def test_a_deleted_entry_is_reported_as_missing() -> None:
    entries = good()
    del entries[1]
    found = problems(entries, run_row(good()))
    assert (2, "entry 2 is missing (found seq 3)") in found
    assert (3, "prev_hash is not the previous entry's hash") in found


def test_reordered_entries_are_reported_out_of_order() -> None:
    entries = good()
    entries[0], entries[1] = entries[1], entries[0]
    found = problems(entries, run_row(good()))
    # seq 2 where 1 belongs: 1 is missing; then seq 1 where 3 belongs: out of order.
    assert (1, "entry 1 is missing (found seq 2)") in found
    assert (3, "entry 3 is out of order (found seq 1)") in found


def test_a_truncated_chain_is_reported_after_its_last_entry() -> None:
    entries = good()
    found = problems(entries[:2], run_row(entries))
    assert (3, "the chain ends at entry 2; the run records 3") in found


def test_a_run_that_records_fewer_entries_is_reported() -> None:
    entries = good()
    found = problems(entries, run_row(entries, ledger_seq=2))
    assert found == [(3, "the run records 2 entries of 3")]


def test_a_replaced_head_is_reported() -> None:
    entries = good()
    found = problems(entries, run_row(entries, ledger_head="0" * 64))
    assert found == [(3, "the run's recorded head is not the chain's")]


def test_a_forged_or_missing_signature_is_reported() -> None:
    entries = good()
    other = Ed25519PrivateKey.generate()
    entries[0].signature = fmt.sign_entry(other, entries[0].hash)
    entries[2].signature = None
    found = problems(entries)
    assert found == [
        (1, "signature is not the ledger key's"),
        (3, "signature is not the ledger key's"),
    ]


def test_a_finished_run_needs_its_final_entry() -> None:
    entries = good()[:2]
    found = problems(entries, run_row(entries))
    assert found == [(3, "the run is succeeded; its last entry does not say so")]
    assert problems([], run_row([], status="running"), []) == []
    assert problems([], run_row([], status="failed"), []) == [
        (1, "the run is failed; its last entry does not say so")
    ]


def test_outputs_must_match_the_ledger() -> None:
    entries = good()
    assert problems(entries, run_row(entries, output={"x": 2})) == [
        (3, "runs.output is not the output in the ledger")
    ]
    changed = [step("a", 1, {"x": 3}), step("b", 2, [1, 2])]
    assert problems(entries, steps=changed) == [(1, "step a's output is not the ledger's")]
    unrecorded = [*STEPS, step("c", 1, 5)]
    assert problems(entries, steps=unrecorded) == [
        (None, "step c succeeded without a ledger entry")
    ]
    # A step that did not succeed needs no entry (and the steps after it are still checked);
    # an empty fan-out's [] needs none either.
    assert problems(entries, steps=[*STEPS, step("d", 1, None, status="failed")]) == []
    assert problems(entries, steps=[step("0", 1, None, status="failed"), *changed]) == [
        (1, "step a's output is not the ledger's")
    ]
    assert problems(entries, steps=[*STEPS, step("e", 1, [])]) == []


def test_a_fan_out_is_its_items_in_order() -> None:
    entries = chain(
        ("step.succeeded", {"step_id": "f[0]", "attempt": 1, "output": 1}),
        ("step.succeeded", {"step_id": "f[1]", "attempt": 1, "output": 4}),
        ("run.succeeded", {"output": None}),
    )
    items = [
        step("f[1]", 1, 4, definition_id="f", item_index=1),
        step("f[0]", 1, 1, definition_id="f", item_index=0),
    ]
    run = run_row(entries, output=None)
    assert problems(entries, run, [*items, step("f", 1, [1, 4])]) == []
    assert problems(entries, run, [*items, step("f", 1, [4, 1])]) == [
        (None, "step f's output is not its items'")
    ]


def test_the_problem_list_is_capped_but_every_problem_counted() -> None:
    report = Report()
    for n in range(MAX_PROBLEMS + 5):
        report.add(RUN, n, "x")
    assert len(report.problems) == MAX_PROBLEMS and report.count == MAX_PROBLEMS + 5
    assert report.problems[0] == {"run_id": RUN, "seq": 0, "problem": "x"}


@pytest.mark.parametrize("value", [float("nan"), {1: object()}])
def test_a_value_that_is_not_json_never_matches(value: Any) -> None:
    entries = good()
    assert problems(entries, run_row(entries, output=value)) == [
        (3, "runs.output is not the output in the ledger")
    ]


def test_an_entry_whose_data_is_not_an_object_is_reported_not_fatal() -> None:
    entries = chain(("step.succeeded", ["not", "an", "object"]), ("run.succeeded", "nor this"))
    found = problems(entries, run_row(entries), [step("a", 1, 1)])
    assert found == [
        (2, "runs.output is not the output in the ledger"),
        (None, "step a succeeded without a ledger entry"),
    ]


def checkpoints(count: int) -> list[dict[str, Any]]:
    """Checkpoints 1..count, each naming the previous one's hash, signed."""
    made: list[dict[str, Any]] = []
    for seq in range(1, count + 1):
        body = {
            "created_at": f"2026-01-0{seq}T00:00:00+00:00",
            "key_id": fmt.key_id(KEY.public_key()),
            "prev": fmt.checkpoint_hash(made[-1]) if made else "",
            "root": f"{seq:064x}",
            "seq": seq,
            "tree_size": seq * 2,
            "version": fmt.CHECKPOINT_VERSION,
        }
        made.append({**body, "signature": fmt.sign_checkpoint(KEY, body)})
    return made


def published(found: list[dict[str, Any]], outside: list[dict[str, Any]]) -> tuple[Any, list[Any]]:
    report = Report()
    newest = check_published(report, found, outside, KEY.public_key())
    assert report.count == len(report.problems)
    return newest, [(p["problem"], p["checkpoint"]) for p in report.problems]


def test_checkpoints_that_match_what_was_published_verify() -> None:
    made = checkpoints(3)
    assert published(made, made) == (made[2], [])
    assert published(made, made[:1]) == (made[2], [])  # not every one is published yet
    assert published([], []) == (None, [])


def test_a_changed_removed_or_unsigned_checkpoint_is_reported() -> None:
    made = checkpoints(3)
    edited = [made[0], {**made[1], "root": "f" * 64}, made[2]]
    assert published(edited, made)[1] == [
        ("the database's checkpoint differs from the published one", 2),
        ("signature is not the ledger key's", 2),
        ("prev is not the previous checkpoint's hash", 3),
    ]
    newest, found = published([made[0], made[2]], made)
    assert newest == made[2] and found == [
        ("a published checkpoint is not in the database", 2),
        ("checkpoint 2 is missing", 2),
        ("prev is not the previous checkpoint's hash", 3),
    ]
    unsigned = [made[0], made[1], {**made[2], "signature": None}]
    assert published(unsigned, []) == (made[1], [("signature is not the ledger key's", 3)])
    first = {**made[0], "prev": "0" * 64}
    assert published([first], [])[1][0] == ("prev is not the previous checkpoint's hash", 1)


def test_the_published_file_is_read_in_order_without_a_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "checkpoints.jsonl"
    assert read_published(path) == []
    made = checkpoints(2)
    path.write_text("".join(json.dumps(c) + "\n" for c in made) + '{"seq": 3, "ro')
    assert read_published(path) == made


def test_the_canonical_bytes_are_the_documented_ones() -> None:
    """docs/ledger.md: keys sorted, no whitespace, non-ASCII escaped, no NaN; an outsider's
    verifier recomputes these bytes, so any change breaks every existing chain."""
    assert fmt.canonical({"b": 1, "a": [1, "é", None]}) == b'{"a":[1,"\\u00e9",null],"b":1}'
    with pytest.raises(ValueError):
        fmt.canonical(float("nan"))
    assert len(fmt.key_id(KEY.public_key())) == 16
    assert not fmt.checkpoint_signed(KEY.public_key(), {"signature": "x"})  # no body: refused
    for bad in ("", None, 3, "not base64!", fmt.sign_entry(KEY, "other")):
        assert not fmt.entry_signed(KEY.public_key(), "hash", bad)  # type: ignore[arg-type]


def test_a_signature_must_be_strict_base64() -> None:
    """A valid signature with a stray character is refused, not silently repaired: a lenient
    decoder would accept many spellings of one signature."""
    good = fmt.sign_entry(KEY, "hash")
    assert fmt.entry_signed(KEY.public_key(), "hash", good)
    assert not fmt.entry_signed(KEY.public_key(), "hash", good[:8] + "!" + good[8:])


def test_an_archive_record_is_signed_over_its_documented_bytes() -> None:
    """A run's archive record (``archived_runs``): the signed bytes are the canonical JSON of
    the domain, run, chain length, head and archive; any other value fails the check."""
    record = ("run-1", 3, "ab" * 32, "archive-2026-12.jsonl.gz")
    assert fmt.archived_body(*record) == (
        b'["modx.ledger.archived.v1","run-1",3,"' + b"ab" * 32 + b'","archive-2026-12.jsonl.gz"]'
    )
    signature = fmt.sign_archived(KEY, *record)
    assert fmt.archived_signed(KEY.public_key(), *record, signature)
    for changed in (
        ("other", 3, "ab" * 32, "archive-2026-12.jsonl.gz"),
        ("run-1", 4, "ab" * 32, "archive-2026-12.jsonl.gz"),
        ("run-1", 3, "cd" * 32, "archive-2026-12.jsonl.gz"),
        ("run-1", 3, "ab" * 32, "other.jsonl.gz"),
    ):
        assert not fmt.archived_signed(KEY.public_key(), *changed, signature), changed
    other = Ed25519PrivateKey.generate()
    assert not fmt.archived_signed(other.public_key(), *record, signature)
    assert not fmt.archived_signed(KEY.public_key(), *record, fmt.sign_archived(other, *record))
