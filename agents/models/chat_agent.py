"""The LLM gateway agent: ``model.chat`` over any OpenAI-compatible server.

Run it with ``modx agent run agents.models.chat_agent:agent``; the gateway's URL, model and key
come from ``MODX_LLM_BASE_URL``, ``MODX_LLM_MODEL`` and ``MODX_LLM_API_KEY`` (see
:class:`~agents.models.chat.LLMSettings`).

The handler is a thin layer over :class:`~agents.models.chat.ChatClient`, which retries 429 and
5xx with backoff, validates JSON-schema output with one repair round trip, and sums token usage.
What this module adds:

- the token usage of a completion is recorded on the step with ``ctx.report_usage``;
- the reply streams in, and its text so far goes out as the step's progress
  (``ctx.progress("partial output", {"content": ...})``) at most every ``PROGRESS_EVERY_S``;
- a :class:`~agents.models.errors.ModelError` becomes the SDK's ``RetryableError`` or
  ``FatalError`` according to its ``retryable`` flag, keeping its ``code`` and ``to_dict()``
  as the error's details (so a step shows ``chat_rate_limited`` with ``attempts`` and
  ``retry_after_s``, or ``schema_validation_failed`` with the validation errors and the usage
  the failed attempts cost).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from agents.models.chat import ChatClient, ChatRequest, ChatResult, LLMSettings
from agents.models.errors import ModelError
from agents.sdk import Agent, FatalError, RetryableError, TaskContext

CAPABILITY = "model.chat"
PROGRESS_EVERY_S = 0.5
"""Partial output is sent no more often than this (each one is an event the run records)."""

ClientFactory = Callable[[], ChatClient]


class ChatResources:
    """The chat client of the running event loop, created on first use."""

    def __init__(self, factory: ClientFactory | None = None) -> None:
        """Configure the client factory.

        Args:
            factory: Builds a client; by default one from ``MODX_LLM_*`` settings.
        """
        self._factory: ClientFactory = factory or (lambda: ChatClient(LLMSettings()))
        self._client: ChatClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def client(self) -> ChatClient:
        """This loop's client (its HTTP connection pool cannot cross event loops)."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client, self._loop = self._factory(), loop
        return self._client

    async def close(self) -> None:
        """Close this loop's client."""
        if self._client is not None and self._loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = None


def task_error(exc: ModelError) -> RetryableError | FatalError:
    """A model error as the SDK's task error, keeping its code and details."""
    kind = RetryableError if exc.retryable else FatalError
    return kind(str(exc), code=exc.code, details=exc.to_dict())


def build_agent(resources: ChatResources | None = None) -> Agent:
    """An LLM gateway agent over ``resources`` (a fresh one by default).

    Args:
        resources: Where the chat client comes from; tests pass one aimed at a fake gateway.

    Returns:
        The agent, named ``llm-gateway``, serving ``model.chat``.
    """
    res = resources or ChatResources()
    gateway = Agent(
        "llm-gateway",
        version="1.0.0",
        description="Chat completions through an OpenAI-compatible gateway, with JSON-schema "
        "output validation, retries and token accounting.",
        shared=True,
    )

    @gateway.capability(
        CAPABILITY,
        consumes=["modx:ChatPrompt"],
        produces=["modx:ChatReply"],
        description="Complete a chat conversation with an LLM; with a JSON schema, the reply is "
        "validated against it (one repair round trip).",
    )
    async def chat(request: ChatRequest, ctx: TaskContext) -> ChatResult:
        """Run one chat completion and record its token usage on the step."""
        sent_at = float("-inf")

        async def partial(text: str) -> None:
            nonlocal sent_at
            if time.monotonic() - sent_at >= PROGRESS_EVERY_S:
                sent_at = time.monotonic()
                await ctx.progress("partial output", {"content": text})

        try:
            result = await res.client().complete(request, on_partial=partial)
        except ModelError as exc:
            raise task_error(exc) from None
        usage = result.usage
        ctx.report_usage(
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            total_tokens=usage.total_tokens,
            llm_calls=result.attempts,
        )
        return result

    return gateway


resources = ChatResources()
agent = build_agent(resources)

__all__ = ["CAPABILITY", "ChatResources", "agent", "build_agent", "resources", "task_error"]
