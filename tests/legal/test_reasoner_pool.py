"""ReasonerPool against real SWI-Prolog workers running the toy rules."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from ontology.errors import (
    InvalidFact,
    InvalidGoal,
    NoProof,
    PoolBusy,
    PoolClosed,
    PrologSyntaxError,
    QueryTimeout,
    ResourceExhausted,
    UnknownPredicate,
    WorkerCrashed,
    WorkerStartError,
)
from ontology.reasoner import ReasonerPool, Str, Var, goal
from ontology.reasoner.terms import compound
from tests.fixtures.services import wait_until
from tests.legal.conftest import TOY_RULES

pytestmark = pytest.mark.prolog

ALICE = ["person_(alice)", "age_(alice, 30)"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_answers_with_bindings_and_proof(toy_pool: ReasonerPool) -> None:
    answer = await toy_pool.query(ALICE, "adult(X)")
    assert answer.bindings == {"X": "alice"}
    assert answer.proof.goal == "adult(alice)"
    assert answer.proof.citation == "toy §1(a)"
    assert [c.goal for c in answer.proof.children][:2] == ["person_(alice)", "age_(alice,30)"]
    assert answer.proof.children[0].facts == ["person_(alice)"]
    assert answer.inferences and answer.inferences > 0


async def test_values_and_goal_builder(toy_pool: ReasonerPool) -> None:
    answer = await toy_pool.query(["age_(a, 3)", "age_(b, 4)"], goal("total_age", Var("S")))
    assert answer.bindings == {"S": 7}
    assert answer.proof.value == 7


async def test_facts_do_not_leak_between_queries(toy_pool: ReasonerPool) -> None:
    await toy_pool.query(ALICE, "adult(X)")
    for _ in range(toy_pool.stats.size * 2):  # every worker, whichever takes the job
        with pytest.raises(NoProof):
            await toy_pool.query([], "adult(X)")


async def test_loop_forever_times_out_and_worker_is_replaced(toy_pool: ReasonerPool) -> None:
    before = set(toy_pool.stats.pids)
    with pytest.raises(QueryTimeout) as info:
        await toy_pool.query([], "loop_forever", timeout_s=1)
    assert info.value.code == "timeout"
    stats = toy_pool.stats
    assert stats.restarts == 1
    assert len(stats.pids) == 2 and set(stats.pids) != before
    assert (await toy_pool.query(ALICE, "adult(X)")).bindings == {"X": "alice"}


async def test_goal_that_ignores_the_time_limit_is_killed(toy_pool: ReasonerPool) -> None:
    with pytest.raises(QueryTimeout, match="killed"):
        await toy_pool.query([], "stubborn", timeout_s=0.5)
    assert (await toy_pool.query(ALICE, "adult(X)")).bindings == {"X": "alice"}


async def test_inference_and_stack_limits(toy_pool: ReasonerPool) -> None:
    with pytest.raises(ResourceExhausted, match="inference"):
        await toy_pool.query([], "loop_forever", inference_limit=100_000)
    with pytest.raises(ResourceExhausted, match="stack"):
        await toy_pool.query([], "grow(a)")
    assert (await toy_pool.query(ALICE, "adult(X)")).bindings == {"X": "alice"}


async def test_crashed_worker_is_replaced(toy_pool: ReasonerPool) -> None:
    # Workers that have answered before (their time-limit alarms have run) crash as fast.
    await asyncio.gather(*(toy_pool.query(ALICE, "adult(X)") for _ in range(4)))
    with pytest.raises(WorkerCrashed):
        await toy_pool.query([], "crash")
    assert len(toy_pool.stats.pids) == 2
    assert (await toy_pool.query(ALICE, "adult(X)")).bindings == {"X": "alice"}


@pytest.mark.parametrize(
    ("query", "error", "code"),
    [
        ("no_such_rule(X)", UnknownPredicate, "existence_error"),
        ("calls_missing(1)", UnknownPredicate, "existence_error"),
        ("adult(X", PrologSyntaxError, "syntax"),
        ("adult(X). shell(ls)", PrologSyntaxError, "syntax"),
        ("shell('touch /tmp/modx_pwned')", InvalidGoal, "bad_goal"),
        ("main", InvalidGoal, "bad_goal"),
        ("adult(X), shell(ls)", InvalidGoal, "bad_goal"),
        ("label(x, f(Y))", InvalidGoal, "bad_goal"),
    ],
)
async def test_bad_goals_give_structured_errors(
    toy_pool: ReasonerPool, query: str, error: type[Exception], code: str
) -> None:
    with pytest.raises(error) as info:
        await toy_pool.query([], query)
    assert getattr(info.value, "code", None) == code


@pytest.mark.parametrize(
    "fact",
    [
        "person_(alice). :- halt",  # a second clause smuggled in
        ":- halt",  # a directive
        "person_(X)",  # not ground
        "adult(alice)",  # not a vocabulary predicate
        "label_(x, f(y))",  # compound argument
        "person_(alice",  # syntax
    ],
)
async def test_malformed_facts_are_rejected(toy_pool: ReasonerPool, fact: str) -> None:
    pid_before = set(toy_pool.stats.pids)
    with pytest.raises(InvalidFact):
        await toy_pool.query([fact], "adult(X)")
    assert set(toy_pool.stats.pids) == pid_before  # rejected, not crashed


def _pwned() -> bool:
    return Path("/tmp/modx_pwned").exists()


NASTY = [
    "a). :- halt(3). b(",
    "x'), shell('touch /tmp/modx_pwned'), label_(y, 'z",
    "quote \" and ' and \\ backslash",
    "line\nbreak\ttab",
    "unicode: §63(c)(2) — Zürich ✓",
    "0'a",
    "",
]


@pytest.mark.parametrize("text", NASTY)
async def test_injection_attempts_stay_data(toy_pool: ReasonerPool, text: str) -> None:
    for value in (text, Str(text)):  # as an atom and as a string
        fact = compound("label_", ["x", value])
        answer = await toy_pool.query([fact], "label(x, L)")
        assert answer.bindings == {"L": text}
    assert not _pwned()


async def test_output_of_rules_does_not_break_the_protocol(toy_pool: ReasonerPool) -> None:
    answer = await toy_pool.query(["label_(x, y)"], "chatty(x)")
    assert answer.proof.goal == "chatty(x)"


async def test_concurrent_queries(toy_pool: ReasonerPool) -> None:
    answers = await asyncio.gather(
        *(toy_pool.query([f"age_(p{i}, {i})"], "total_age(S)") for i in range(20))
    )
    assert [a.bindings["S"] for a in answers] == list(range(20))
    assert toy_pool.stats.completed == 20


async def taken(pool: ReasonerPool) -> None:
    """Until the query just submitted (in a task) is taken by a worker from the queue."""
    # One turn of the loop: a query on a started pool queues its job before it first waits.
    await asyncio.sleep(0)
    await wait_until(lambda: pool.stats.queued == 0)


async def test_bounded_queue(swipl: str) -> None:
    async with ReasonerPool([TOY_RULES], size=1, queue_size=1, swipl=swipl, grace_s=1.0) as pool:
        running = asyncio.create_task(pool.query([], "loop_forever", timeout_s=1))
        await taken(pool)  # the worker runs it; the queue is empty
        waiting = asyncio.create_task(pool.query(ALICE, "adult(X)"))
        await wait_until(lambda: pool.stats.queued == 1)
        with pytest.raises(PoolBusy):
            await pool.query(ALICE, "adult(X)")
        with pytest.raises(QueryTimeout):
            await running
        assert (await waiting).bindings == {"X": "alice"}


async def test_close_fails_waiting_queries_and_stops_workers(swipl: str) -> None:
    pool = ReasonerPool([TOY_RULES], size=1, swipl=swipl)
    await pool.start()
    pids = pool.stats.pids
    running = asyncio.create_task(pool.query([], "loop_forever", timeout_s=30))
    await taken(pool)
    waiting = asyncio.create_task(pool.query(ALICE, "adult(X)"))
    await wait_until(lambda: pool.stats.queued == 1)
    await pool.close(timeout_s=0.5)
    for task in (running, waiting):
        with pytest.raises(PoolClosed):
            await task
    with pytest.raises(PoolClosed):
        await pool.query(ALICE, "adult(X)")
    assert not any(_alive(p) for p in pids)


async def test_rules_that_do_not_load(swipl: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.pl"
    broken.write_text("ok(1).\nbroken( :- .\n")
    with pytest.raises(WorkerStartError, match="load"):
        await ReasonerPool([broken], size=1, swipl=swipl).start()


async def test_missing_swipl() -> None:
    with pytest.raises(WorkerStartError):
        await ReasonerPool([TOY_RULES], size=1, swipl="/nonexistent/swipl").start()
