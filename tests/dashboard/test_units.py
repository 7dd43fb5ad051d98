"""The dashboard's pure parts: sessions, attempt spans, causal order, DAG layout, charts, proofs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.dashboard import auth, charts, dag, proof, queries, trace
from services.db.models import EventRow, StepRow
from tests.dashboard.legal_fixture import RESULT

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
TOKEN = "admin-token-for-units-0123"


def at(ms: float) -> datetime:
    return T0 + timedelta(milliseconds=ms)


def event(eid: int, kind: str, ms: float, step: str | None = None, **extra: Any) -> EventRow:
    return EventRow(id=eid, type=kind, step_id=step, created_at=at(ms), **extra)


def test_sessions_are_signed_expiring_and_bound_to_the_token() -> None:
    value = auth.issue(TOKEN, now=1000.0, ttl_s=60)
    assert TOKEN not in value
    assert auth.verify(TOKEN, value, now=1059.0)
    assert not auth.verify(TOKEN, value, now=1061.0)  # expired
    assert not auth.verify("another-admin-token-0123", value, now=1001.0)
    assert not auth.verify(None, value, now=1001.0)  # no admin token: nobody gets in
    body, _, mac = value.rpartition(".")
    version, expires, nonce = body.split(".")
    assert not auth.verify(TOKEN, f"{version}.{int(expires) + 999}.{nonce}.{mac}", now=1001.0)
    assert not auth.verify(TOKEN, "v1.x.y.z", now=1001.0)
    assert auth.issue(TOKEN, now=1000.0) != auth.issue(TOKEN, now=1000.0)  # fresh nonce
    assert auth.token_matches(TOKEN, TOKEN) and not auth.token_matches(TOKEN, TOKEN + "x")


def test_next_stays_on_the_dashboard() -> None:
    assert auth.safe_next("/dashboard/runs?status=failed") == "/dashboard/runs?status=failed"
    for bad in ("https://x.example/dashboard", "//x.example", "/v1/runs", "/dashboardx", ""):
        assert auth.safe_next(bad) == "/dashboard"


def _flaky_history() -> list[EventRow]:
    task = {"destination": "modx.tasks.t.flaky"}
    rows = [event(1, "run.created", 0), event(2, "run.running", 1)]
    eid = 3
    for n, start in ((1, 10), (2, 100), (3, 200)):
        rows.append(event(eid, "step.scheduled", start, "f", attempt=n, data=task))
        sent = {
            "id": f"task{n}",
            "kind": "task",
            "topic": "t.flaky",
            "sender": "orchestrator",
            "destination": "modx.tasks.t.flaky",
            "attempt": n,
            "causation_id": "root",
            "created_at": at(start).isoformat(),
            "size": 100,
            "payload": {"value": n},
        }
        rows.append(event(eid + 1, "message.sent", start, None, data=sent))
        reply = {
            "id": f"err{n}",
            "kind": "error",
            "topic": "t.flaky",
            "sender": "agent-1",
            "attempt": n,
            "causation_id": f"task{n}",
            "created_at": at(start + 30).isoformat(),
            "size": 80,
            "payload": {"error": {"message": f"boom {n}"}},
        }
        rows.append(event(eid + 2, "step.running", start + 20, "f", attempt=n, agent_id="agent-1"))
        rows.append(event(eid + 3, "message.received", start + 40, "f", attempt=n, data=reply))
        end = "step.failed" if n == 3 else "step.retrying"
        rows.append(
            event(
                eid + 4,
                end,
                start + 40,
                "f",
                attempt=n,
                agent_id="agent-1",
                data={"error": {"message": f"boom {n}"}},
            )
        )
        eid += 5
    return rows


def test_attempts_span_scheduled_to_outcome() -> None:
    spans = trace.attempts(_flaky_history())
    assert [(s.attempt, s.outcome) for s in spans] == [
        (1, "retrying"),
        (2, "retrying"),
        (3, "failed"),
    ]
    first = spans[0]
    assert (first.scheduled_at, first.started_at, first.ended_at) == (at(10), at(30), at(50))
    assert first.error == {"message": "boom 1"} and first.agent_id == "agent-1"


def test_attempt_start_read_from_the_answer_without_a_started_event() -> None:
    history = [e for e in _flaky_history() if e.type != "step.running"]
    for e in history:
        if e.type == "message.received":
            began = (e.created_at - timedelta(milliseconds=25)).isoformat()
            e.data = {**e.data, "payload": {**e.data["payload"], "started_at": began}}
    spans = trace.attempts(history)
    assert [s.started_at for s in spans] == [at(25), at(115), at(215)]


def test_messages_follow_their_causes() -> None:
    messages = trace.messages(_flaky_history())
    assert [m.id for m in messages] == ["task1", "err1", "task2", "err2", "task3", "err3"]
    task, error = messages[0], messages[1]
    assert task.step_id == "f"  # from the step.scheduled just before it
    assert task.recipient == "agent-1"  # whoever answered a task sent to a capability's group
    assert error.recipient == "orchestrator" and error.depth == 1 and error.cause_shown
    assert error.after_cause_s == 0.03 and not task.cause_shown


def test_answers_to_one_task_are_shown_in_the_order_they_were_said() -> None:
    # A remote agent's start and result, recorded in the other order (handled concurrently).
    task = {"id": "t", "kind": "task", "topic": "mcp.calc.add", "created_at": at(0).isoformat()}

    def said(eid: int, ms: float, name: str) -> EventRow:
        data = {"id": name, "kind": "event", "causation_id": "t", "created_at": at(ms).isoformat()}
        return event(eid, "message.received", ms + 5, "add", data=data)

    history = [
        event(1, "message.sent", 0, None, data=task),
        said(2, 9, "result"),
        said(3, 4, "start"),
    ]
    assert [m.id for m in trace.messages(history)] == ["t", "start", "result"]


def test_errors_list_the_run_then_each_failed_attempt() -> None:
    spans = trace.attempts(_flaky_history())
    found = trace.errors({"message": "step f failed"}, "failed", at(240), spans, [])
    assert [(e.where, e.attempt) for e in found] == [("run", None), ("f", 3), ("f", 2), ("f", 1)]


DEFINITION = {
    "name": "w",
    "steps": [
        {"id": "a", "capability": "t.a", "input": {}},
        {
            "id": "fan",
            "capability": "t.b",
            "for_each": "$.steps.a.output.items",
            "input": {"v": "$.item"},
        },
        {"id": "c", "capability": "t.c", "input": {"x": "$.steps.fan.output"}},
        {"id": "late", "capability": "t.d", "input": {}, "after": ["a", "c"]},
    ],
}


def _step(step_id: str, status: str, item: int | None = None, definition: str = "") -> StepRow:
    return StepRow(
        step_id=step_id,
        definition_id=definition or step_id,
        item_index=item,
        capability="t",
        status=status,
        attempt=1,
        max_attempts=1,
    )


def test_dag_layers_items_and_long_edges() -> None:
    rows = [
        _step("a", "succeeded"),
        _step("fan", "running"),
        _step("fan[0]", "succeeded", 0, "fan"),
        _step("fan[1]", "failed", 1, "fan"),
        _step("fan[2]", "running", 2, "fan"),
    ]
    graph = dag.layout(DEFINITION, rows)
    nodes = {n.id: n for n in graph.nodes}
    assert [nodes[s].layer for s in ("a", "fan", "c", "late")] == [0, 1, 2, 3]
    assert nodes["fan"].items == 3
    assert nodes["fan"].item_states == {"succeeded": 1, "failed": 1, "running": 1}
    assert nodes["c"].status == "pending"  # no row yet
    edges = {(e.source, e.target): e.path for e in graph.edges}
    assert set(edges) == {("a", "fan"), ("fan", "c"), ("a", "late"), ("c", "late")}
    assert edges[("a", "late")].count(" L") == 2  # through a slot in each layer it crosses
    assert graph.width > 3 * dag.NODE_W


def test_dag_of_a_broken_definition_still_draws() -> None:
    broken = {"steps": [{"id": "x", "capability": "t"}, {"id": "y", "after": ["x"]}]}
    graph = dag.layout(broken, [])
    assert [n.id for n in graph.nodes] == ["x", "y"] and len(graph.edges) == 1


def test_gantt_draws_one_bar_per_attempt() -> None:
    spans = trace.attempts(_flaky_history())
    chart = charts.gantt(spans, {"f": "failed"}, T0, at(250))
    (row,) = chart.rows
    assert [b.status for b in row.bars] == ["retrying", "retrying", "failed"]
    assert len(row.queued) == 3 and all(b.x >= chart.left for b in row.bars)
    assert chart.ticks[0].label == "0"


def test_status_chart_and_axis() -> None:
    assert [charts.nice_ceiling(v) for v in (0, 3, 7, 11, 240)] == [1, 5, 10, 20, 250]
    window = queries.WINDOWS["1h"]
    counts: list[dict[str, int]] = [{} for _ in range(window.buckets)]
    counts[-1] = {"succeeded": 3, "failed": 1}
    chart = charts.status_chart(queries.StatusSeries(window, T0, counts))
    assert [b.status for b in chart.bars] == ["succeeded", "failed"]
    assert chart.total == 4 and chart.y_ticks[-1].label == "5"


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert queries.percentile(values, 0.95) == 95 and queries.percentile([], 0.5) == 0


def test_proof_is_found_and_read() -> None:
    found = proof.legal_result(RESULT, [])
    assert found is not None and found.answer == 8438 and found.source == "run output"
    assert found.nodes == 9 and "§63(c)(2)(A)" in found.citations and "fact" not in found.citations
    assert found.citations == sorted(found.citations, key=proof.statute_order)
    assert sorted(
        ["§63(c)", "§2(a)", "§1(c)", "§151(b)", "§1(a)(iv)"], key=proof.statute_order
    ) == [
        "§1(a)(iv)",
        "§1(c)",
        "§2(a)",
        "§63(c)",
        "§151(b)",
    ]
    negation = found.proof.children[1].children[1].children[0]
    assert negation.negated and negation.goal == "not s63_c_5(alice,2017)"
    step = _step("infer", "succeeded")
    step.output = RESULT
    step.finished_at = T0
    nested = proof.legal_result({"summary": "no proof here"}, [step])
    assert nested is not None and nested.source == "output of step infer"
    assert proof.legal_result({"answer": 1}, []) is None


def test_a_long_capability_name_ends_before_the_status_label() -> None:
    # 11px mono ~6.6px a character; the bold uppercase status ~7.5px; both inside 188px.
    for status in ("succeeded", "running", "waiting_for_agent", "pending"):
        node = dag.Node("parse", "sara.parse_case_file_with_a_long_name", status)
        assert node.sublabel.endswith("…")
        assert (
            16 + 6.6 * len(node.sublabel) + 8 <= dag.NODE_W - 10 - 7.5 * len(status)
            or len(node.sublabel) == 4
        ), (status, node.sublabel)
    assert dag.Node("s", "text.reverse", "succeeded").sublabel == "text.reverse"


def test_date_filters_read_iso_text_as_utc() -> None:
    from datetime import UTC, datetime

    from services.dashboard.pages import _parse_local

    assert _parse_local("2026-12-06 00:30") == datetime(2026, 12, 6, 0, 30, tzinfo=UTC)
    assert _parse_local("2026-12-06") == datetime(2026, 12, 6, tzinfo=UTC)
    assert _parse_local("12/06/2026") is None and _parse_local("") is None
