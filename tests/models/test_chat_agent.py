"""The ``model.chat`` agent against the scripted gateway: retries on 429, one schema repair then
a clean failure, a timeout, and token usage recorded on the step of a real run."""

from __future__ import annotations

from pathlib import Path

from agents.models.chat import ChatClient
from agents.models.chat_agent import ChatResources, build_agent
from agents.sdk.testing import AgentTestEnvironment
from tests.fixtures.stack import running_stack
from tests.models.fake_gateway import Reply
from tests.models.test_chat import SCHEMA, VALID, Sleeps, settings_for

ASK = {"messages": [{"role": "user", "content": "Is the seller liable?"}]}


def gateway_agent(gateway, sleeps: Sleeps | None = None, **settings):
    """The agent with a client aimed at the fake gateway (retry waits recorded, not slept)."""
    resources = ChatResources(
        lambda: ChatClient(settings_for(gateway, **settings), sleep=sleeps or Sleeps())
    )
    return build_agent(resources), resources


async def test_429_is_retried_and_usage_is_reported(gateway):
    sleeps = Sleeps()
    agent, resources = gateway_agent(gateway, sleeps)
    gateway.reset(
        Reply(status=429, body={"error": "slow down"}, headers={"Retry-After": "1"}),
        Reply(content="The seller is liable.", usage=(12, 6)),
    )
    async with AgentTestEnvironment(agent) as env:
        answer = await env.execute("model.chat", ASK)
        await resources.close()
    assert answer.kind == "result", answer.payload
    assert answer.payload["output"]["content"] == "The seller is liable."
    assert answer.payload["output"]["attempts"] == 2
    assert answer.payload["usage"] == {
        "prompt_tokens": 12,
        "completion_tokens": 6,
        "total_tokens": 18,
        "llm_calls": 2,
    }
    assert len(gateway.requests) == 2 and sleeps.delays and sleeps.delays[0] >= 1.0


async def test_schema_output_is_repaired_once(gateway):
    agent, resources = gateway_agent(gateway)
    gateway.reset(Reply(content='{"verdict": "liable"}'), Reply(content=VALID))
    async with AgentTestEnvironment(agent) as env:
        answer = await env.execute("model.chat", {**ASK, "json_schema": SCHEMA})
        await resources.close()
    output = answer.payload["output"]
    assert output["repaired"] is True and output["parsed"] == {
        "verdict": "liable",
        "confidence": 0.8,
    }


async def test_invalid_twice_fails_cleanly_with_the_errors(gateway):
    agent, resources = gateway_agent(gateway)
    gateway.reset(
        Reply(content="I think the seller is liable.", usage=(10, 5)),
        Reply(content='{"verdict": "liable"}', usage=(30, 5)),
        Reply(content=VALID),  # never asked for: one repair only
    )
    async with AgentTestEnvironment(agent) as env:
        answer = await env.execute("model.chat", {**ASK, "json_schema": SCHEMA})
        await resources.close()
    assert answer.kind == "error" and len(gateway.requests) == 2
    error = answer.payload["error"]
    assert error["code"] == "schema_validation_failed" and error["retryable"] is False
    details = error["details"]
    assert details["attempts"] == 2 and len(details["errors"]) == 2
    assert '"confidence" is a required property' in details["errors"][1]
    assert details["usage"] == {"prompt_tokens": 40, "completion_tokens": 10, "total_tokens": 50}


async def test_a_timeout_is_a_retryable_error(gateway):
    agent, resources = gateway_agent(gateway, timeout_s=0.3)
    gateway.reset(Reply(content="too late", hang_s=5.0))
    async with AgentTestEnvironment(agent) as env:
        answer = await env.execute("model.chat", ASK)
        await resources.close()
    error = answer.payload["error"]
    assert error["code"] == "chat_timeout" and error["retryable"] is True
    assert error["details"]["attempts"] == 1


async def test_persistent_rate_limit_and_rejection_keep_their_codes(gateway):
    agent, resources = gateway_agent(gateway, max_retries=1)
    gateway.reset(
        Reply(status=429, body={}),
        Reply(status=429, body={}),
        Reply(status=400, body={"error": "unknown model"}),
    )
    async with AgentTestEnvironment(agent) as env:
        limited = await env.execute("model.chat", ASK)
        rejected = await env.execute("model.chat", ASK)
        await resources.close()
    assert limited.payload["error"]["code"] == "chat_rate_limited"
    assert limited.payload["error"]["retryable"] is True
    assert limited.payload["error"]["details"]["status"] == 429
    assert rejected.payload["error"]["code"] == "chat_rejected"
    assert rejected.payload["error"]["retryable"] is False


async def test_usage_is_recorded_on_the_step_of_a_run(gateway, tmp_path: Path):
    agent, resources = gateway_agent(gateway)
    gateway.reset(
        Reply(status=503, body={"error": "busy"}),
        Reply(content="Yes.", usage=(9, 2)),
    )
    workflow = {
        "name": "ask-llm",
        "steps": [{"id": "ask", "capability": "model.chat", "input": "$.input"}],
    }
    async with running_stack("embedded", tmp_path, None, None) as stack:
        await stack.agent(agent)
        run = await stack.wait(await stack.submit(workflow, ASK))
        await resources.close()
    assert run["status"] == "succeeded", run["error"]
    step = run["steps"][0]
    assert step["output"]["content"] == "Yes."
    assert step["meta"]["usage"] == {
        "prompt_tokens": 9,
        "completion_tokens": 2,
        "total_tokens": 11,
        "llm_calls": 2,
    }


async def test_the_reply_streams_in_as_the_steps_progress(gateway):
    agent, resources = gateway_agent(gateway)
    text = "The seller is liable under the contract of sale"
    gateway.reset(Reply(content=text, usage=(7, 9), chunk_s=0.3))
    async with AgentTestEnvironment(agent) as env:
        task = env.task("model.chat", ASK)
        answer = await env.result(await env.send(task))
        events = [e for e in env.envelopes(task) if e.topic == "task.progress"]
        await resources.close()
    assert gateway.requests[0]["stream"] is True
    assert answer.kind == "result", answer.payload
    assert answer.payload["output"]["content"] == text
    assert answer.payload["usage"]["total_tokens"] == 16
    partial = [e.payload["data"]["content"] for e in events]
    # Throttled (9 chunks 0.3 s apart, one progress per 0.5 s at most), each a prefix.
    assert 2 <= len(partial) < 9, partial
    assert all(text.startswith(p) and p for p in partial)
    assert [len(p) for p in partial] == sorted(len(p) for p in partial)
