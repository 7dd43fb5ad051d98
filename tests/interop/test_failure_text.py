"""Why a run failed reaches whoever reads only text: a run's error names the step at its top
and the reason at the bottom of its ``cause`` chain (a fan-out item, a child run). The MCP
tool result's text (all a model calling the tool reads), the A2A task's status text, the CLI's
last line and the client's ``Run.reason`` give the whole chain; they gave only "step price
failed"."""

from __future__ import annotations

import pytest
from a2a.types import TaskState
from pydantic import BaseModel

from agents.sdk import Agent, FatalError
from modx import AsyncClient, error_text
from tests.fixtures.stack import TOKEN, Stack
from tests.interop.test_a2a_server import a2a_client, collect, data_message, only_task
from tests.interop.test_mcp_server import mcp_session

REASON = "step price failed: price[0] failed: we do not sell caviar (unknown_item)"


class Line(BaseModel):
    name: str


shop = Agent("failing-shop", version="1.0.0")


@shop.capability("shop.refuse", description="Refuses every item.")
async def refuse(line: Line) -> Line:
    raise FatalError(f"we do not sell {line.name}", code="unknown_item")


BASKET = {
    "name": "refused-basket",
    "input_schema": {"type": "object", "properties": {"lines": {"type": "array"}}},
    "steps": [
        {"id": "price", "capability": "shop.refuse", "for_each": "$.input.lines", "input": "$.item"}
    ],
}
PARENT = {
    "name": "refused-parent",
    "steps": [{"id": "c", "workflow": "refused-basket", "input": "$.input"}],
}
LINES = {"lines": [{"name": "caviar"}]}


async def _ready(stack: Stack) -> None:
    await stack.agent(shop)
    for workflow in (BASKET, PARENT):
        answer = await stack.client.post("/v1/workflows", json=workflow)
        assert answer.status_code in (200, 201), answer.text


async def test_the_reason_reaches_mcp_a2a_and_the_client(stack: Stack) -> None:
    await _ready(stack)
    async with mcp_session(stack) as session:
        result = await session.call_tool("workflow.refused-basket", LINES)
        assert result.isError
        text = result.content[0].text  # type: ignore[union-attr]
        assert text.endswith(f"failed: {REASON}"), text
    async with a2a_client(stack, streaming=False) as (client, _):
        request = data_message({"skill": "workflow.refused-basket", "input": LINES})
        request.configuration.return_immediately = False
        task = only_task(await collect(client, request))
        assert task.status.state == TaskState.TASK_STATE_FAILED
        assert task.status.message.parts[0].text == REASON
    async with AsyncClient(stack.url, TOKEN) as modx:
        run = await modx.run("refused-parent", LINES, timeout=60)
        assert run.status == "failed"
        assert run.reason is not None
        assert run.reason.startswith("step c failed: child run ")
        assert run.reason.endswith(f"failed: {REASON}")


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (None, "failed"),
        ("timed out", "timed out"),
        ({"code": "timeout", "message": "step s timed out"}, "step s timed out (timeout)"),
        ({"code": "x", "message": "a", "cause": {"message": "a"}}, "a (x)"),  # said once
        ({"code": "bad_output"}, "failed (bad_output)"),
    ],
)
def test_error_text_of_odd_errors(error: object, text: str) -> None:
    assert error_text(error) == text
