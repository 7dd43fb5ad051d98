"""Client of an OpenAI-compatible LLM gateway (``POST /v1/chat/completions``).

What it adds over a bare HTTP call:

- retries with exponential backoff and jitter on 429 (honouring ``Retry-After``), 5xx and
  connection errors; a read timeout is not retried here but raised as the retryable
  :class:`~agents.models.errors.ChatTimeout`, so the caller decides whether to spend that time
  again;
- structured output: with ``json_schema`` the request asks for ``response_format`` of type
  ``json_schema``, the reply is parsed and validated (``agents.sdk.json_schema``: patterns
  match in linear time), and an invalid reply gets exactly one repair round trip that sends
  the validation error back; a second invalid reply raises
  :class:`~agents.models.errors.SchemaValidationFailed` (not retryable);
- token usage summed over every answered call, so it can be recorded on the step;
- partial output as it comes: given ``on_partial``, the request asks for a stream
  (``"stream": true``, server-sent events) and ``on_partial`` gets the text so far after each
  chunk; retries and the repair round trip work as without it.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import httpx
from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from agents.models.errors import (
    ChatError,
    ChatProtocolError,
    ChatRateLimited,
    ChatRejected,
    ChatTimeout,
    ChatUnavailable,
    SchemaValidationFailed,
)
from agents.sdk.json_schema import SchemaRefused, check_schema, mismatches

REPAIR_PROMPT = (
    "Your previous reply is not valid for the required JSON schema: {error}\n"
    "Reply again with only the corrected JSON document, and nothing else."
)


class LLMSettings(BaseSettings):
    """Where the gateway is and how patiently to talk to it (environment prefix ``MODX_LLM_``).

    ``base_url`` may end with ``/v1`` or not: ``/v1/chat/completions`` is appended either way.
    """

    model_config = SettingsConfigDict(env_prefix="MODX_LLM_", extra="ignore")

    base_url: str = "http://127.0.0.1:8080/v1"
    model: str = "default"
    api_key: SecretStr | None = None
    timeout_s: float = Field(default=60.0, gt=0)
    connect_timeout_s: float = Field(default=5.0, gt=0)
    max_retries: int = Field(default=3, ge=0)
    backoff_base_s: float = Field(default=0.5, ge=0)
    backoff_max_s: float = Field(default=8.0, ge=0)
    max_retry_after_s: float = Field(default=30.0, ge=0)
    stream: bool = True
    """Stream replies when the caller wants partial output (off for servers that cannot)."""

    @property
    def completions_url(self) -> str:
        """The full URL of the chat completions endpoint."""
        base = self.base_url.rstrip("/")
        if not base.endswith("/v1"):
            base += "/v1"
        return base + "/chat/completions"


class ChatMessage(BaseModel):
    """One message of the conversation."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str
    name: str | None = None


class ChatRequest(BaseModel):
    """A chat completion request; with ``json_schema`` the reply must be JSON that matches it."""

    messages: list[ChatMessage] = Field(min_length=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, gt=0)
    json_schema: dict[str, Any] | None = None
    schema_name: str = Field(default="response", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    strict: bool = False
    model: str | None = None

    @field_validator("json_schema")
    @classmethod
    def _schema_is_valid(cls, schema: dict[str, Any] | None) -> dict[str, Any] | None:
        if schema is not None:
            try:
                check_schema(schema)
            except SchemaRefused as exc:
                raise ValueError(f"json_schema is not a usable JSON Schema: {exc}") from None
        return schema


class Usage(BaseModel):
    """Token counts, summed over the calls of one :meth:`ChatClient.complete`."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    def add(self, raw: object) -> None:
        """Add the ``usage`` object of one response (missing or malformed counts as zero)."""
        if isinstance(raw, dict):
            for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
                value = raw.get(key)
                if isinstance(value, int):
                    setattr(self, key, getattr(self, key) + value)


class ChatResult(BaseModel):
    """The reply, the parsed JSON when a schema was asked for, and what it cost."""

    content: str
    parsed: Any = None
    usage: Usage
    model: str
    attempts: int
    repaired: bool = False
    finish_reason: str | None = None


Partial = Callable[[str], Awaitable[None]]
"""Gets the reply's text so far, after each streamed chunk."""


class _Call:
    """Counters shared by the HTTP calls of one completion."""

    def __init__(self) -> None:
        self.attempts = 0
        self.usage = Usage()


class ChatClient:
    """Async client of one gateway; use ``async with`` or call :meth:`aclose`."""

    def __init__(
        self,
        settings: LLMSettings | None = None,
        *,
        http: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        """Create the client.

        Args:
            settings: Gateway settings (read from the environment when None).
            http: An HTTP client to use (and not close); a private one by default.
            sleep: Waits between retries (tests record the delays through it).
            rng: Source of backoff jitter.
        """
        self.settings = settings or LLMSettings()
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._timeout = httpx.Timeout(
            self.settings.timeout_s, connect=self.settings.connect_timeout_s
        )

    async def aclose(self) -> None:
        """Close the private HTTP client."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> ChatClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def complete(self, request: ChatRequest, on_partial: Partial | None = None) -> ChatResult:
        """Run a chat completion, with retries and, for a schema, one repair round trip.

        Args:
            request: The messages and options.
            on_partial: Gets the text so far as the reply streams in (when the settings allow
                streaming); a repair streams again from the start.

        Returns:
            The reply with summed usage and the number of HTTP calls made.

        Raises:
            SchemaValidationFailed: The reply and its repair both failed the schema.
            ChatTimeout: No answer within ``timeout_s`` (retryable).
            ChatRateLimited: Still 429 after the retries, or asked to wait too long (retryable).
            ChatUnavailable: Connection errors or 5xx through every retry (retryable).
            ChatRejected: A 4xx other than 429 (not retryable).
            ChatProtocolError: A 200 whose body is not a chat completion (not retryable).
        """
        call = _Call()
        payload = self._payload(request)
        content, body = await self._exchange(payload, call, on_partial)
        if request.json_schema is None:
            return self._result(content, None, body, call, repaired=False)

        schema = request.json_schema
        parsed, error = _check(content, schema)
        if error is None:
            return self._result(content, parsed, body, call, repaired=False)

        repair_messages = [
            *payload["messages"],
            {"role": "assistant", "content": content},
            {"role": "user", "content": REPAIR_PROMPT.format(error=error)},
        ]
        repaired, body = await self._exchange(
            {**payload, "messages": repair_messages}, call, on_partial
        )
        parsed, second_error = _check(repaired, schema)
        if second_error is None:
            return self._result(repaired, parsed, body, call, repaired=True)
        raise SchemaValidationFailed(
            f"reply does not match the schema after one repair: {second_error}",
            errors=[error, second_error],
            content=repaired,
            attempts=call.attempts,
            usage=call.usage.model_dump(),
        )

    def _payload(self, request: ChatRequest) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": request.model or self.settings.model,
            "messages": [m.model_dump(exclude_none=True) for m in request.messages],
        }
        if request.temperature is not None:
            payload["temperature"] = request.temperature
        if request.max_tokens is not None:
            payload["max_tokens"] = request.max_tokens
        if request.json_schema is not None:
            payload["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": request.schema_name,
                    "schema": request.json_schema,
                    "strict": request.strict,
                },
            }
        return payload

    def _result(
        self, content: str, parsed: Any, body: dict[str, Any], call: _Call, *, repaired: bool
    ) -> ChatResult:
        choice = body["choices"][0]
        return ChatResult(
            content=content,
            parsed=parsed,
            usage=call.usage,
            model=str(body.get("model") or self.settings.model),
            attempts=call.attempts,
            repaired=repaired,
            finish_reason=choice.get("finish_reason") if isinstance(choice, dict) else None,
        )

    async def _exchange(
        self, payload: dict[str, Any], call: _Call, on_partial: Partial | None = None
    ) -> tuple[str, dict[str, Any]]:
        """POST with retries; return the first choice's content and the whole body."""
        settings = self.settings
        streaming = on_partial is not None and settings.stream
        if streaming:
            payload = {**payload, "stream": True, "stream_options": {"include_usage": True}}
        headers = {"Accept": "text/event-stream" if streaming else "application/json"}
        if settings.api_key is not None:
            headers["Authorization"] = f"Bearer {settings.api_key.get_secret_value()}"
        for retry in range(settings.max_retries + 1):
            call.attempts += 1
            failure: ChatError
            delay = self._backoff(retry)
            try:
                response, answered = await self._send(payload, headers, call, on_partial)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                failure = ChatUnavailable(f"cannot connect: {exc!r}", attempts=call.attempts)
            except httpx.TimeoutException as exc:
                raise ChatTimeout(
                    f"no answer within {settings.timeout_s}s", attempts=call.attempts
                ) from exc
            except httpx.TransportError as exc:
                failure = ChatUnavailable(f"transport error: {exc!r}", attempts=call.attempts)
            else:
                status = response.status_code
                if answered is not None:
                    return answered
                if status == 200:
                    return self._parse(response, call)
                if status == 429:
                    wait = _retry_after(response.headers.get("Retry-After"))
                    failure = ChatRateLimited(
                        "rate limited (429)", attempts=call.attempts, retry_after_s=wait
                    )
                    if wait is not None:
                        if wait > settings.max_retry_after_s:
                            raise failure
                        delay = wait * (1.0 + 0.1 * self._rng.random())
                elif status >= 500:
                    failure = ChatUnavailable(
                        f"gateway error {status}: {response.text[:200]}",
                        attempts=call.attempts,
                        status=status,
                    )
                else:
                    raise ChatRejected(
                        f"gateway refused the request ({status}): {response.text[:500]}",
                        attempts=call.attempts,
                        status=status,
                    )
            if retry == settings.max_retries:
                raise failure
            await self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(
        self,
        payload: dict[str, Any],
        headers: dict[str, str],
        call: _Call,
        on_partial: Partial | None,
    ) -> tuple[httpx.Response, tuple[str, dict[str, Any]] | None]:
        """One HTTP call; a streamed 200 is read here, chunk by chunk (the answer)."""
        url = self.settings.completions_url
        if not payload.get("stream"):
            response = await self._http.post(
                url, json=payload, headers=headers, timeout=self._timeout
            )
            return response, None
        assert on_partial is not None
        async with self._http.stream(
            "POST", url, json=payload, headers=headers, timeout=self._timeout
        ) as response:
            if response.status_code != 200:
                await response.aread()
                return response, None
            return response, await _read_stream(response, call, on_partial)

    def _backoff(self, retry: int) -> float:
        """Exponential backoff with equal jitter: half fixed, half random."""
        ceiling = min(self.settings.backoff_max_s, self.settings.backoff_base_s * 2.0**retry)
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    @staticmethod
    def _parse(response: httpx.Response, call: _Call) -> tuple[str, dict[str, Any]]:
        try:
            body = response.json()
            message = body["choices"][0]["message"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise ChatProtocolError(
                f"not a chat completion: {response.text[:200]!r}", attempts=call.attempts
            ) from exc
        call.usage.add(body.get("usage"))
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, str):
            refusal = message.get("refusal") if isinstance(message, dict) else None
            content = f"(no content; refusal: {refusal})" if refusal else ""
        return content, body


async def _read_stream(
    response: httpx.Response, call: _Call, on_partial: Partial
) -> tuple[str, dict[str, Any]]:
    """A streamed completion (server-sent events of ``chat.completion.chunk``) as the
    content and a body shaped like a whole completion."""
    parts: list[str] = []
    usage: Any = None
    model: Any = None
    finish: Any = None
    async for line in response.aiter_lines():
        if not line.startswith("data:"):
            continue
        data = line[len("data:") :].strip()
        if data == "[DONE]":
            break
        try:
            chunk = json.loads(data)
        except ValueError:
            chunk = None
        if not isinstance(chunk, dict):
            message = f"not a completion chunk: {data[:200]!r}"
            raise ChatProtocolError(message, attempts=call.attempts)
        model = chunk.get("model") or model
        usage = chunk.get("usage") or usage
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta")
            piece = delta.get("content") if isinstance(delta, dict) else None
            if isinstance(piece, str) and piece:
                parts.append(piece)
                await on_partial("".join(parts))
            finish = choice.get("finish_reason") or finish
    call.usage.add(usage)
    content = "".join(parts)
    whole = {"role": "assistant", "content": content}
    body = {
        "model": model,
        "choices": [{"index": 0, "message": whole, "finish_reason": finish}],
        "usage": usage,
    }
    return content, body


def _check(content: str, schema: dict[str, Any]) -> tuple[Any, str | None]:
    """Parse and validate a reply; return (document, None) or (None, what is wrong)."""
    text = _strip_fence(content)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
    errors = mismatches(schema, document, limit=3)
    if not errors:
        return document, None
    described = [f"at ${e.path}: {e.message}" for e in errors]
    return None, "; ".join(described)


def _strip_fence(content: str) -> str:
    """Drop a Markdown code fence around the JSON, which some servers add anyway."""
    text = content.strip()
    if text.startswith("```") and text.endswith("```") and "\n" in text:
        return text[text.index("\n") + 1 : -3].strip()
    return text


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
