"""Control flow as a workflow author combines it (docs/workflows.md), end to end in both modes:
an approval only on the branch that needs it, a poll loop with a sleep in its body, a
sub-workflow per branch, a loop over a registered body that switches, a fan-out of child runs,
an escalation when a wait times out, a sleep inside a child, a loop skipped by its `when`, an
inline body that switches on its iteration, and a retried child whose wait is signalled on the
second child; then definitions with a mistake, each refused with a 4xx naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from agents.sdk import Agent
from tests.fixtures.services import wait_until
from tests.fixtures.stack import ADMIN, Stack


def shop() -> Agent:
    agent = Agent("authored-flows")

    @agent.capability("af.add")
    async def add(request: dict[str, Any]) -> dict[str, Any]:
        return {"value": (request.get("value") or 0) + 1}

    @agent.capability("af.echo")
    async def echo(request: dict[str, Any]) -> dict[str, Any]:
        return {"echo": request}

    return agent


async def register(stack: Stack, definition: dict[str, Any]) -> None:
    response = await stack.client.post("/v1/workflows", json=definition)
    assert response.status_code in (200, 201), response.text


async def children_of(stack: Stack, run_id: str) -> list[dict[str, Any]]:
    listed = await stack.client.get("/v1/runs", params={"parent_run_id": run_id})
    return list(reversed(listed.json()["items"]))


def why(run: dict[str, Any]) -> str:
    """The run's and its steps' errors, for an assertion's message."""
    steps = {s["step_id"]: (s["status"], s["error"]) for s in run["steps"]}
    return f"{run['status']} {run['error']} {steps}"


async def signal(stack: Stack, run_id: str, name: str, body: Any) -> int:
    response = await stack.client.post(f"/v1/runs/{run_id}/signals/{name}", json=body)
    return response.status_code


async def test_authored_control_flow(stack: Stack) -> None:
    await stack.agent(shop())
    results: dict[str, Any] = {}

    # 1. Approval only for a big order: the wait sits in one branch of a switch, and the
    #    approval, sent right after submitting, is kept until the branch reaches it.
    await register(
        stack,
        {
            "name": "order-approval",
            "steps": [
                {
                    "id": "route",
                    "switch": {
                        "cases": [
                            {
                                "when": {"ref": "$.input.total", "op": "gt", "value": 100},
                                "then": ["approve", "charge_big"],
                            }
                        ],
                        "default": ["charge_small"],
                    },
                },
                {"id": "approve", "wait": {"signal": "approval", "timeout_s": 60}},
                {
                    "id": "charge_big",
                    "capability": "af.echo",
                    "input": {"ok": "$.steps.approve.output.ok"},
                    "when": "$.steps.approve.output.ok",
                },
                {"id": "charge_small", "capability": "af.echo", "input": {"small": True}},
                {
                    "id": "receipt",
                    "capability": "af.echo",
                    "after": ["charge_big", "charge_small"],
                    "input": {"total": "$.input.total"},
                },
            ],
            "output": {"big": "$.steps.charge_big.output", "small": "$.steps.charge_small.output"},
        },
    )
    big = await stack.submit("order-approval", {"total": 150})
    assert await signal(stack, big, "approval", {"ok": True}) == 202
    small = await stack.submit("order-approval", {"total": 50})
    run = await stack.wait(big)
    assert run["status"] == "succeeded", why(run)
    assert run["output"] == {"big": {"echo": {"ok": True}}, "small": None}, run["output"]
    run = await stack.wait(small)
    assert run["status"] == "succeeded", why(run)
    assert run["output"] == {"big": None, "small": {"echo": {"small": True}}}, run["output"]
    assert await signal(stack, small, "approval", {"ok": True}) == 409

    # 2. A poll loop: each iteration checks, then sleeps, until the count reaches 3.
    await register(
        stack,
        {
            "name": "poll",
            "steps": [
                {
                    "id": "poll",
                    "loop": {
                        "steps": [
                            {
                                "id": "check",
                                "capability": "af.add",
                                "input": {"value": "$.input.n"},
                            },
                            {"id": "nap", "sleep": {"seconds": 0.2}, "after": ["check"]},
                        ],
                        "output": {
                            "n": "$.steps.check.output.value",
                            "slept": "$.steps.nap.output",
                        },
                        "input": {"n": "$.previous.n"},
                        "until": {"ref": "$.output.n", "op": "gte", "value": 3},
                        "max_iterations": 5,
                    },
                }
            ],
            "output": "$.steps.poll.output",
        },
    )
    run = await stack.wait(await stack.submit("poll", {}))
    assert run["status"] == "succeeded", why(run)
    assert run["output"]["iterations"] == 3 and run["output"]["output"]["n"] == 3, run["output"]
    assert "until" in run["output"]["output"]["slept"], run["output"]

    # 3. One sub-workflow per branch of a switch.
    await register(
        stack,
        {
            "name": "ship-express",
            "steps": [{"id": "go", "capability": "af.echo", "input": {"how": "express"}}],
            "output": "$.steps.go.output.echo.how",
        },
    )
    await register(
        stack,
        {
            "name": "ship-post",
            "steps": [{"id": "go", "capability": "af.echo", "input": {"how": "post"}}],
            "output": "$.steps.go.output.echo.how",
        },
    )
    await register(
        stack,
        {
            "name": "ship",
            "steps": [
                {
                    "id": "route",
                    "switch": {
                        "cases": [{"when": "$.input.express", "then": ["express"]}],
                        "default": ["post"],
                    },
                },
                {"id": "express", "workflow": "ship-express"},
                {"id": "post", "workflow": "ship-post"},
            ],
            "output": {"express": "$.steps.express.output", "post": "$.steps.post.output"},
        },
    )
    fast = await stack.submit("ship", {"express": True})
    slow = await stack.submit("ship", {"express": False})
    run = await stack.wait(fast)
    assert run["status"] == "succeeded" and run["output"] == {"express": "express", "post": None}, (
        run
    )
    run = await stack.wait(slow)
    assert run["status"] == "succeeded" and run["output"] == {"express": None, "post": "post"}, run
    assert len(await children_of(stack, fast)) == 1

    # 4. A loop over a registered body that switches on its input.
    await register(
        stack,
        {
            "name": "step-once",
            "steps": [
                {
                    "id": "pick",
                    "switch": {
                        "cases": [
                            {
                                "when": {"ref": "$.input.n", "op": "lt", "value": 2},
                                "then": ["small"],
                            }
                        ],
                        "default": ["big"],
                    },
                },
                {"id": "small", "capability": "af.add", "input": {"value": "$.input.n"}},
                {"id": "big", "capability": "af.add", "input": {"value": "$.input.n"}},
                {
                    "id": "join",
                    "capability": "af.echo",
                    "after": ["small", "big"],
                    "input": {
                        "small": "$.steps.small.output.value",
                        "big": "$.steps.big.output.value",
                    },
                },
            ],
            "output": {"n": "$.steps.join.output.echo", "small": "$.steps.small.output.value"},
        },
    )
    await register(
        stack,
        {
            "name": "count-up",
            "steps": [
                {
                    "id": "count",
                    "loop": {
                        "workflow": "step-once",
                        "input": {"n": "$.iteration"},
                        "until": {"ref": "$.iteration", "op": "gte", "value": 3},
                        "max_iterations": 4,
                    },
                }
            ],
            "output": "$.steps.count.output",
        },
    )
    run = await stack.wait(await stack.submit("count-up", {}))
    results["count-up"] = run
    assert run["status"] == "succeeded", why(run)
    assert run["output"]["iterations"] == 3, run["output"]

    # 5. A fan-out inside a child run (a `workflow` step takes no `for_each` of its own:
    #    422, below), its list passed down from the parent's input.
    await register(
        stack,
        {
            "name": "echo-each",
            "steps": [
                {
                    "id": "each",
                    "capability": "af.echo",
                    "for_each": "$.input.orders",
                    "input": {"order": "$.item", "at": "$.item_index"},
                },
            ],
            "output": "$.steps.each.output",
        },
    )
    await register(
        stack,
        {
            "name": "ship-each",
            "steps": [
                {"id": "all", "workflow": "echo-each", "input": {"orders": "$.input.orders"}}
            ],
            "output": "$.steps.all.output",
        },
    )
    run = await stack.wait(await stack.submit("ship-each", {"orders": ["a", "b"]}))
    assert run["status"] == "succeeded", why(run)
    assert run["output"] == [
        {"echo": {"order": "a", "at": 0}},
        {"echo": {"order": "b", "at": 1}},
    ], run["output"]

    # 6. Escalation: a wait that times out continues, and a switch routes on its error.
    await register(
        stack,
        {
            "name": "escalate",
            "steps": [
                {
                    "id": "ask",
                    "wait": {"signal": "answer", "timeout_s": 0.5},
                    "on_error": "continue",
                },
                {
                    "id": "route",
                    "switch": {
                        "cases": [
                            {
                                "when": {"ref": "$.steps.ask.output.error", "op": "exists"},
                                "then": ["escalate"],
                            }
                        ],
                        "default": ["proceed"],
                    },
                },
                {
                    "id": "escalate",
                    "capability": "af.echo",
                    "input": {"why": "$.steps.ask.output.error.code"},
                },
                {
                    "id": "proceed",
                    "capability": "af.echo",
                    "input": {"answer": "$.steps.ask.output"},
                },
            ],
            "output": {
                "escalated": "$.steps.escalate.output",
                "proceeded": "$.steps.proceed.output",
            },
        },
    )
    timed_out = await stack.submit("escalate", {})
    answered = await stack.submit("escalate", {})
    assert await signal(stack, answered, "answer", {"fine": 1}) == 202
    run = await stack.wait(timed_out)
    assert run["status"] == "succeeded", why(run)
    assert run["output"]["proceeded"] is None and run["output"]["escalated"]["echo"]["why"], run
    run = await stack.wait(answered)
    assert run["status"] == "succeeded", why(run)
    assert run["output"] == {"escalated": None, "proceeded": {"echo": {"answer": {"fine": 1}}}}, run

    # 7. A sleep until a time of the input, inside a child run.
    await register(
        stack,
        {
            "name": "nap-until",
            "steps": [{"id": "nap", "sleep": {"until": "$.input.at"}}],
            "output": "$.steps.nap.output.until",
        },
    )
    await register(
        stack,
        {
            "name": "later",
            "steps": [
                {"id": "child", "workflow": "nap-until", "input": {"at": "$.input.at"}},
                {
                    "id": "after",
                    "capability": "af.echo",
                    "after": ["child"],
                    "input": {"woke": "$.steps.child.output"},
                },
            ],
            "output": "$.steps.after.output.echo.woke",
        },
    )
    at = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    run = await stack.wait(await stack.submit("later", {"at": at}))
    assert run["status"] == "succeeded", why(run)
    assert datetime.fromisoformat(run["output"]) == datetime.fromisoformat(at), run["output"]

    # 8. A loop skipped by its `when`, and a step after it that reads its output.
    await register(
        stack,
        {
            "name": "maybe-loop",
            "steps": [
                {
                    "id": "l",
                    "when": "$.input.go",
                    "loop": {
                        "steps": [{"id": "a", "capability": "af.add"}],
                        "output": "$.steps.a.output.value",
                        "until": "$.output",
                        "max_iterations": 2,
                    },
                },
                {
                    "id": "report",
                    "capability": "af.echo",
                    "after": ["l"],
                    "input": {"ran": "$.input.go"},
                },
            ],
            "output": {"loop": "$.steps.l.output", "report": "$.steps.report.output"},
        },
    )
    run = await stack.wait(await stack.submit("maybe-loop", {"go": False}))
    assert run["status"] == "succeeded", why(run)
    assert run["output"] == {"loop": None, "report": {"echo": {"ran": False}}}, run["output"]
    run = await stack.wait(await stack.submit("maybe-loop", {"go": True}))
    assert run["status"] == "succeeded", why(run)
    assert run["output"]["loop"] == {"output": 1, "iterations": 1}, run["output"]

    # 9. An inline loop body that switches on its iteration: odd rounds add, even rounds echo.
    await register(
        stack,
        {
            "name": "alternate",
            "steps": [
                {
                    "id": "l",
                    "loop": {
                        "steps": [
                            {
                                "id": "s",
                                "switch": {
                                    "cases": [
                                        {
                                            "when": {
                                                "ref": "$.input.round",
                                                "op": "in",
                                                "value": [1, 3],
                                            },
                                            "then": ["odd"],
                                        }
                                    ],
                                    "default": ["even"],
                                },
                            },
                            {
                                "id": "odd",
                                "capability": "af.add",
                                "input": {"value": "$.input.round"},
                            },
                            {
                                "id": "even",
                                "capability": "af.echo",
                                "input": {"r": "$.input.round"},
                            },
                        ],
                        "output": {
                            "odd": "$.steps.odd.output.value",
                            "even": "$.steps.even.output",
                        },
                        "input": {"round": "$.iteration"},
                        "until": {"ref": "$.iteration", "op": "gte", "value": 3},
                        "max_iterations": 3,
                    },
                }
            ],
            "output": "$.steps.l.output",
        },
    )
    run = await stack.wait(await stack.submit("alternate", {}))
    assert run["status"] == "succeeded", why(run)
    assert run["output"] == {"output": {"odd": 4, "even": None}, "iterations": 3}, run["output"]

    # 10. A child whose wait times out is retried as a new child; the second one is signalled.
    await register(
        stack,
        {
            "name": "ask-once",
            "steps": [{"id": "ask", "wait": {"signal": "ok", "timeout_s": 1}}],
            "output": "$.steps.ask.output",
        },
    )
    await register(
        stack,
        {
            "name": "ask-twice",
            "steps": [
                {
                    "id": "sub",
                    "workflow": "ask-once",
                    "retry": {"max_attempts": 2, "backoff_s": 0.1},
                }
            ],
            "output": "$.steps.sub.output",
        },
    )
    parent = await stack.submit("ask-twice", {})

    async def second_child_waits() -> bool:
        found = await children_of(stack, parent)
        return len(found) == 2 and found[1]["status"] == "running"

    await wait_until(second_child_waits, timeout=60)
    second = (await children_of(stack, parent))[1]["run_id"]
    # The child waits, not the parent: the 409 says which run to signal instead.
    refused = await stack.client.post(f"/v1/runs/{parent}/signals/ok", json={"yes": True})
    assert refused.status_code == 409, refused.text
    assert f"run {second} (step ask) waits for it" in refused.json()["error"]["message"], (
        refused.text
    )
    assert await signal(stack, second, "ok", {"yes": True}) == 202
    run = await stack.wait(parent)
    assert run["status"] == "succeeded" and run["output"] == {"yes": True}, run
    first_child, second_child = await children_of(stack, parent)
    assert (first_child["status"], second_child["status"]) == ("failed", "succeeded")
    assert first_child["error"]["cause"]["code"] == "timeout", first_child["error"]


async def test_a_retried_run_keeps_its_switchs_choice(stack: Stack) -> None:
    """The branch taken failed (its approval timed out): the retry carries the switch over,
    its other branch stays skipped, and only the failed wait runs again."""
    await stack.agent(shop())
    await register(
        stack,
        {
            "name": "retry-switch",
            "steps": [
                {
                    "id": "route",
                    "switch": {
                        "cases": [{"when": "$.input.big", "then": ["ask"]}],
                        "default": ["small"],
                    },
                },
                {"id": "ask", "wait": {"signal": "ok", "timeout_s": 0.5}},
                {"id": "small", "capability": "af.echo", "input": {"small": True}},
                {"id": "done", "capability": "af.echo", "after": ["ask", "small"]},
            ],
            "output": {"ask": "$.steps.ask.output", "small": "$.steps.small.output"},
        },
    )
    first = await stack.wait(await stack.submit("retry-switch", {"big": True}))
    assert first["status"] == "failed", why(first)
    response = await stack.client.post(f"/v1/runs/{first['run_id']}/retry")
    assert response.status_code == 202, response.text
    again = response.json()["run_id"]
    assert await signal(stack, again, "ok", {"yes": True}) == 202
    run = await stack.wait(again)
    assert run["status"] == "succeeded", why(run)
    assert run["output"] == {"ask": {"yes": True}, "small": None}, run["output"]
    statuses = {s["step_id"]: s["status"] for s in run["steps"]}
    assert statuses == {
        "route": "succeeded",
        "ask": "succeeded",
        "small": "skipped",
        "done": "succeeded",
    }, statuses
    verified = await stack.client.get(
        "/v1/ledger/verify", headers={"authorization": f"Bearer {ADMIN}"}
    )
    assert verified.json()["ok"], verified.text


BAD: list[tuple[dict[str, Any], str]] = [
    (
        {
            "id": "l",
            "loop": {
                "steps": [{"id": "a", "capability": "af.add"}],
                "input": {"last": "$.output"},
                "until": "$.output",
                "max_iterations": 2,
            },
        },
        "$.steps[0].loop.input.last",
    ),
    (
        {"id": "s", "sleep": {"seconds": 1, "until": "2030-01-01T00:00:00+00:00"}},
        "$.steps[0].sleep",
    ),
    ({"id": "s", "sleep": {"seconds": -1}}, "$.steps[0].sleep.seconds"),
    ({"id": "w", "wait": {"signal": "not a name!"}}, "$.steps[0].wait.signal"),
    ({"id": "w", "wait": {"signal": "ok", "timeout_s": -5}}, "$.steps[0].wait.timeout_s"),
    (
        {
            "id": "s",
            "switch": {"cases": [{"when": "$.input.x", "then": ["a"]}], "default": ["nope"]},
        },
        "$.steps[0].switch.default[0]",
    ),
    (
        {
            "id": "s",
            "switch": {
                "cases": [{"when": {"ref": "$.input.x", "op": "bigger", "value": 1}, "then": ["a"]}]
            },
        },
        "$.steps[0].switch.cases[0].when.op",
    ),
    (
        {
            "id": "l",
            "loop": {
                "steps": [{"id": "a", "capability": "af.add"}],
                "until": "$.output",
                "max_iterations": 0,
            },
        },
        "$.steps[0].loop.max_iterations",
    ),
    (
        {
            "id": "l",
            "loop": {
                "steps": [{"id": "a", "capability": "af.add"}, {"id": "a", "capability": "af.add"}],
                "until": "$.output",
                "max_iterations": 2,
            },
        },
        "$.steps[0].loop.steps[1].id",
    ),
    (
        {
            "id": "l",
            "loop": {
                "steps": [{"id": "a", "capability": "af.add", "input": "$.steps.outer.output"}],
                "until": "$.output",
                "max_iterations": 2,
            },
        },
        "$.steps[0].loop.steps[0].input",
    ),
    (
        {
            "id": "l",
            "loop": {
                "steps": [{"id": "a", "capability": "af.add"}],
                "until": "$.steps.a.output",
                "max_iterations": 2,
            },
        },
        "$.steps[0].loop.until",
    ),
    (
        {
            "id": "l",
            "loop": {
                "workflow": "ship",
                "steps": [{"id": "a", "capability": "af.add"}],
                "until": "$.output",
                "max_iterations": 2,
            },
        },
        "$.steps[0].loop",
    ),
    (
        {
            "id": "l",
            "loop": {
                "steps": [{"id": "w", "wait": {"signal": "ok", "schema": {"type": 5}}}],
                "until": "$.output",
                "max_iterations": 2,
            },
        },
        "$.steps[0].loop.steps[0].wait.schema.type",
    ),
    ({"id": "c", "workflow": "no-such-flow"}, "$.steps[0].workflow"),
    ({"id": "c", "workflow": "ship", "for_each": "$.input.x"}, "$.steps[0].for_each"),
    (
        {
            "id": "c",
            "workflow": "ship",
            "for_each": "$.input.x",
            "loop": {
                "steps": [{"id": "a", "capability": "af.add"}],
                "until": "$.output",
                "max_iterations": 2,
            },
        },
        "$.steps[0].loop",
    ),
]


async def test_a_bad_definition_is_a_4xx_naming_the_field(stack: Stack) -> None:
    await register(stack, {"name": "ship", "steps": [{"id": "go", "capability": "af.echo"}]})
    wrong = []
    for step, path in BAD:
        extra = [{"id": "a", "capability": "af.add"}] if "switch" in step else []
        response = await stack.client.post(
            "/v1/workflows", json={"name": "bad", "steps": [step, *extra]}
        )
        paths = [d.get("path") for d in (response.json()["error"].get("details") or [])]
        if not (400 <= response.status_code < 500 and path in paths):
            wrong.append((path, response.status_code, response.text[:300]))
    assert not wrong, wrong
