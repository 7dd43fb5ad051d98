"""Stream names: where an agent sends its answers to a task."""

from __future__ import annotations

import pytest
from redis.crc import key_slot

from bus import streams


@pytest.mark.parametrize("index", [0, 7, 1023])
def test_a_task_naming_a_partition_stream_is_answered_there(index: int) -> None:
    assert streams.reply_stream(streams.result_partition(index)) == f"modx.results.{index}"


@pytest.mark.parametrize(
    "reply_to",
    [
        None,
        "",
        "modx.results",
        "modx.results.",
        "modx.results.dlq",
        "modx.results.3.dlq",
        "modx.results.-1",
        "modx.results.٣",  # a digit, but not an ASCII one
        "modx.tasks.legal.infer",
        "modx.control.agent-1",
        "other.results.3",
    ],
)
def test_any_other_reply_to_is_answered_on_the_results_stream(reply_to: str | None) -> None:
    assert streams.reply_stream(reply_to) == streams.RESULTS


@pytest.mark.parametrize(
    ("cluster", "dlq", "removals"),
    [
        (False, "modx.tasks.a.b.dlq", "{modx.tasks.a.b.dlq}.removed"),
        (True, "{modx.tasks.a.b}.dlq", "{modx.tasks.a.b}.dlq.removed"),
    ],
)
def test_a_dead_letter_streams_own_and_its_count_share_its_slot(
    cluster: bool, dlq: str, removals: str
) -> None:
    assert streams.dlq(streams.tasks("a.b"), cluster) == dlq
    own = streams.dlq(dlq, cluster)
    assert own == dlq + ".dlq" and streams.dlq_of(own) == dlq
    assert streams.removals(dlq) == removals
    if cluster:
        slots = {key_slot(key.encode()) for key in (streams.tasks("a.b"), dlq, own, removals)}
        assert len(slots) == 1
