"""One workflow across the three kinds of agent MODX links: a native bus agent (our SDK), an
MCP tool (a real MCP SDK server over stdio) and an A2A agent (a real a2a-sdk server), on
PostgreSQL + Redis and embedded. Every hop is an ordinary step: recorded, traced, in order."""

from __future__ import annotations

from tests.e2e.fleet import squares
from tests.fixtures.stack import ADMIN, Stack
from tests.interop.a2a_peer import running_peer
from tests.interop.test_a2a_agents import AGENT
from tests.interop.test_mcp_agents import stdio

MIXED = {
    "name": "three-protocols",
    "steps": [
        {"id": "square", "capability": "test.square", "input": {"value": "$.input.n"}},
        {
            "id": "add",
            "capability": "mcp.calc.add",
            "input": {"a": "$.steps.square.output.value", "b": 2},
        },
        {
            "id": "shout",
            "capability": f"a2a.{AGENT}.shout",
            "input": {"text": "$.input.word"},
            "after": ["add"],
        },
    ],
    "output": {"sum": "$.steps.add.output.sum", "text": "$.steps.shout.output.text"},
}


async def test_a_workflow_mixes_a_bus_agent_an_mcp_tool_and_an_a2a_agent(stack: Stack) -> None:
    await stack.agent(squares)
    admin = {"authorization": f"Bearer {ADMIN}"}
    mcp = await stack.client.post("/v1/agents/mcp", json={"name": "calc", **stdio()}, headers=admin)
    assert mcp.status_code == 201, mcp.text
    async with running_peer(streaming=True) as peer:
        a2a = await stack.client.post("/v1/agents/a2a", json={"card_url": peer.card_url})
        assert a2a.status_code == 201, a2a.text
        run = await stack.wait(await stack.submit(MIXED, {"n": 6, "word": "done"}))
        assert peer.served == ["shout"]
    assert run["status"] == "succeeded", run
    assert run["output"] == {"sum": 38, "text": "DONE"}
    agents = {a["agent_id"]: a for a in (await stack.client.get("/v1/agents")).json()}
    protocols = [agents[s["agent_id"]]["protocol"] for s in run["steps"]]
    assert sorted(protocols) == ["A2A", "MCP", "bus"], protocols
    # The history holds each hop in order: square, then add, then shout.
    events = await stack.events(run["run_id"])
    done = [e["step_id"] for e in events if e["to_state"] == "succeeded" and e["step_id"]]
    assert done == ["square", "add", "shout"]
