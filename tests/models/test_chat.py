"""ChatClient against a scripted OpenAI-compatible server: retries, repair, timeouts, usage."""

from __future__ import annotations

import json
import socket

import pytest
from pydantic import ValidationError

from agents.models import (
    ChatClient,
    ChatMessage,
    ChatProtocolError,
    ChatRateLimited,
    ChatRejected,
    ChatRequest,
    ChatTimeout,
    ChatUnavailable,
    LLMSettings,
    SchemaValidationFailed,
)
from tests.models.fake_gateway import Reply

SCHEMA = {
    "type": "object",
    "properties": {"verdict": {"enum": ["liable", "not_liable"]}, "confidence": {"type": "number"}},
    "required": ["verdict", "confidence"],
    "additionalProperties": False,
}
VALID = json.dumps({"verdict": "liable", "confidence": 0.8})


class Sleeps:
    """Records the waits between retries instead of sleeping."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def settings_for(gateway, **overrides) -> LLMSettings:
    values = {
        "base_url": gateway.base_url,
        "model": "test-model",
        "api_key": "sk-test-key-123",
        "timeout_s": 2.0,
        "max_retries": 3,
        "backoff_base_s": 0.1,
        "backoff_max_s": 1.0,
        **overrides,
    }
    return LLMSettings(**values)


def ask(text: str = "Is the seller liable?", **options) -> ChatRequest:
    return ChatRequest(messages=[ChatMessage(role="user", content=text)], **options)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def client(gateway, sleeps):
    async with ChatClient(settings_for(gateway), sleep=sleeps) as chat:
        yield chat


async def test_plain_completion(gateway, client):
    gateway.reset(Reply(content="Yes.", usage=(12, 3)))
    result = await client.complete(ask(temperature=0.2, max_tokens=50))
    assert result.content == "Yes." and result.parsed is None
    assert result.model == "test-model" and result.attempts == 1
    assert result.usage.model_dump() == {
        "prompt_tokens": 12,
        "completion_tokens": 3,
        "total_tokens": 15,
    }
    sent = gateway.requests[0]
    assert sent["model"] == "test-model"
    assert sent["messages"] == [{"role": "user", "content": "Is the seller liable?"}]
    assert sent["temperature"] == 0.2 and sent["max_tokens"] == 50
    assert "response_format" not in sent
    assert gateway.headers[0]["authorization"] == "Bearer sk-test-key-123"


async def test_429_then_200_honours_retry_after(gateway, client, sleeps):
    gateway.reset(Reply(status=429, body={"error": "slow down"}, headers={"Retry-After": "2"}))
    gateway.script.append(Reply(content="done"))
    result = await client.complete(ask())
    assert result.content == "done" and result.attempts == 2
    assert len(sleeps.delays) == 1 and sleeps.delays[0] >= 2.0


async def test_5xx_is_retried_with_growing_backoff(gateway, client, sleeps):
    gateway.reset(
        Reply(status=503, body={"error": "busy"}),
        Reply(status=502, body="bad gateway"),
        Reply(status=500, body={"error": "oops"}),
        Reply(content="finally", usage=(7, 2)),
    )
    result = await client.complete(ask())
    assert result.content == "finally" and result.attempts == 4
    assert result.usage.total_tokens == 9  # only answered calls report usage
    assert len(sleeps.delays) == 3
    # equal jitter: each delay lies in [ceiling/2, ceiling] for ceilings 0.1, 0.2, 0.4
    for delay, ceiling in zip(sleeps.delays, [0.1, 0.2, 0.4], strict=True):
        assert ceiling / 2 <= delay <= ceiling


async def test_persistent_5xx_gives_a_retryable_error(gateway, client):
    gateway.reset(*[Reply(status=503, body={"error": "down"}) for _ in range(4)])
    with pytest.raises(ChatUnavailable) as caught:
        await client.complete(ask())
    error = caught.value
    assert error.retryable and error.attempts == 4 and error.status == 503
    assert error.to_dict()["code"] == "chat_unavailable"


async def test_connection_refused_is_retried_then_unavailable(sleeps):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = LLMSettings(base_url=f"http://127.0.0.1:{port}", max_retries=2, backoff_base_s=0.01)
    async with ChatClient(settings, sleep=sleeps) as chat:
        with pytest.raises(ChatUnavailable) as caught:
            await chat.complete(ask())
    assert caught.value.attempts == 3 and caught.value.retryable
    assert len(sleeps.delays) == 2


async def test_too_long_retry_after_is_returned_to_the_caller(gateway, client, sleeps):
    gateway.reset(Reply(status=429, body={}, headers={"Retry-After": "120"}))
    with pytest.raises(ChatRateLimited) as caught:
        await client.complete(ask())
    assert caught.value.retry_after_s == 120 and caught.value.retryable
    assert caught.value.attempts == 1 and sleeps.delays == []


async def test_client_errors_are_not_retried(gateway, client):
    gateway.reset(Reply(status=400, body={"error": "unknown model"}))
    with pytest.raises(ChatRejected) as caught:
        await client.complete(ask())
    assert not caught.value.retryable and caught.value.status == 400
    assert len(gateway.requests) == 1


async def test_timeout_is_a_structured_retryable_error(gateway, sleeps):
    gateway.reset(Reply(content="too late", hang_s=5.0))
    async with ChatClient(settings_for(gateway, timeout_s=0.3), sleep=sleeps) as chat:
        with pytest.raises(ChatTimeout) as caught:
            await chat.complete(ask())
    error = caught.value
    assert error.retryable and error.attempts == 1
    assert error.to_dict() == {
        "code": "chat_timeout",
        "message": "no answer within 0.3s",
        "retryable": True,
        "attempts": 1,
        "status": None,
    }


async def test_a_body_that_is_not_a_completion_is_a_protocol_error(gateway, client):
    gateway.reset(Reply(status=200, body={"unexpected": True}))
    with pytest.raises(ChatProtocolError):
        await client.complete(ask())


async def test_schema_output_is_requested_parsed_and_validated(gateway, client):
    gateway.reset(Reply(content=VALID))
    result = await client.complete(ask(json_schema=SCHEMA, schema_name="verdict"))
    assert result.parsed == {"verdict": "liable", "confidence": 0.8}
    assert not result.repaired and result.attempts == 1
    assert gateway.requests[0]["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "verdict", "schema": SCHEMA, "strict": False},
    }


async def test_invalid_json_then_valid_makes_one_repair(gateway, client):
    gateway.reset(Reply(content='{"verdict": "liable", ', usage=(20, 4)))
    gateway.script.append(Reply(content=VALID, usage=(40, 6)))
    result = await client.complete(ask(json_schema=SCHEMA))
    assert result.parsed["verdict"] == "liable"
    assert result.repaired and result.attempts == 2
    assert result.usage.model_dump() == {
        "prompt_tokens": 60,
        "completion_tokens": 10,
        "total_tokens": 70,
    }
    repair = gateway.requests[1]["messages"]
    assert repair[-2] == {"role": "assistant", "content": '{"verdict": "liable", '}
    assert repair[-1]["role"] == "user" and "not valid JSON" in repair[-1]["content"]
    assert gateway.requests[1]["response_format"] == gateway.requests[0]["response_format"]


async def test_schema_violation_error_is_sent_back(gateway, client):
    gateway.reset(Reply(content='{"verdict": "maybe", "confidence": 0.5}'))
    gateway.script.append(Reply(content=VALID))
    result = await client.complete(ask(json_schema=SCHEMA))
    assert result.repaired
    feedback = gateway.requests[1]["messages"][-1]["content"]
    assert "$.verdict" in feedback and '"maybe" is not one of' in feedback


async def test_invalid_twice_fails_cleanly_after_exactly_one_repair(gateway, client):
    gateway.reset(
        Reply(content="I think the seller is liable.", usage=(10, 5)),
        Reply(content='{"verdict": "liable"}', usage=(30, 5)),
        Reply(content=VALID),  # must never be asked for
    )
    with pytest.raises(SchemaValidationFailed) as caught:
        await client.complete(ask(json_schema=SCHEMA))
    error = caught.value
    assert not error.retryable and error.attempts == 2
    assert len(gateway.requests) == 2
    assert (
        len(error.errors) == 2
        and 'at $.confidence: "confidence" is a required property' in error.errors[1]
    )
    assert error.content == '{"verdict": "liable"}'
    assert error.usage == {"prompt_tokens": 40, "completion_tokens": 10, "total_tokens": 50}
    assert error.to_dict()["code"] == "schema_validation_failed"


async def test_retries_inside_a_repair_are_counted(gateway, client):
    gateway.reset(
        Reply(content="not json"),
        Reply(status=503, body={}),
        Reply(content=VALID),
    )
    result = await client.complete(ask(json_schema=SCHEMA))
    assert result.repaired and result.attempts == 3


async def test_fenced_json_is_accepted(gateway, client):
    gateway.reset(Reply(content=f"```json\n{VALID}\n```"))
    result = await client.complete(ask(json_schema=SCHEMA))
    assert result.parsed["confidence"] == 0.8 and not result.repaired


def test_an_invalid_schema_is_refused_up_front():
    with pytest.raises(ValidationError, match="not a usable JSON Schema"):
        ask(json_schema={"type": "no-such-type"})
    with pytest.raises(ValidationError):
        ChatRequest(messages=[])


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("MODX_LLM_BASE_URL", "http://gateway:9000/")
    monkeypatch.setenv("MODX_LLM_MODEL", "llama-3")
    monkeypatch.setenv("MODX_LLM_API_KEY", "sk-from-env")
    monkeypatch.setenv("MODX_LLM_TIMEOUT_S", "12.5")
    settings = LLMSettings()
    assert settings.model == "llama-3" and settings.timeout_s == 12.5
    assert settings.api_key is not None and settings.api_key.get_secret_value() == "sk-from-env"
    assert "sk-from-env" not in repr(settings)
    assert settings.completions_url == "http://gateway:9000/v1/chat/completions"
    other = LLMSettings(base_url="https://api.example.test/openai/v1")
    assert other.completions_url == "https://api.example.test/openai/v1/chat/completions"
