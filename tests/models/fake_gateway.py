"""A scripted OpenAI-compatible gateway, served by uvicorn on a free port in a thread.

Each test queues the replies the gateway gives, in order, then checks what the client sent.
It tests our client's behaviour (retries, repair, timeouts), not a model.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse


@dataclass
class Reply:
    """One scripted answer: a chat completion with ``content``, or a raw status and body."""

    content: str | None = None
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    hang_s: float = 0.0
    usage: tuple[int, int] = (10, 5)
    chunk_s: float = 0.0
    """Streamed (the request asks ``"stream": true``): the pause between word chunks."""


def completion(content: str, usage: tuple[int, int], model: str) -> dict[str, Any]:
    """An OpenAI chat completion body."""
    prompt, completion_tokens = usage
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt + completion_tokens,
        },
    }


class FakeGateway:
    """The gateway: ``script`` is consumed one reply per request; ``requests`` records them."""

    def __init__(self) -> None:
        self.script: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._stopping = threading.Event()
        self.app = FastAPI()
        self.app.add_api_route("/v1/chat/completions", self._complete, methods=["POST"])
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_level="error", lifespan="off", ws="none", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    @property
    def base_url(self) -> str:
        """The base URL to give the client."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> None:
        """Start serving; return once the server listens."""
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake gateway did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop serving (hanging replies end at once)."""
        self._stopping.set()
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def reset(self, *replies: Reply) -> None:
        """Forget earlier requests and script the next replies."""
        self.script = deque(replies)
        self.requests.clear()
        self.headers.clear()

    async def _complete(self, request: Request) -> Response:
        self.requests.append(json.loads(await request.body()))
        self.headers.append(dict(request.headers))
        if not self.script:
            return JSONResponse({"error": "no scripted reply"}, status_code=500)
        reply = self.script.popleft()
        if reply.hang_s:
            # Waits in a thread so that stop() (another thread) can end the hang at once.
            await asyncio.to_thread(self._stopping.wait, reply.hang_s)
        if reply.content is not None and reply.status == 200 and self.requests[-1].get("stream"):
            return StreamingResponse(
                self._chunks(reply, self.requests[-1].get("model", "fake")),
                media_type="text/event-stream",
            )
        if reply.content is not None:
            model = self.requests[-1].get("model", "fake")
            body = completion(reply.content, reply.usage, model)
            return JSONResponse(body, status_code=reply.status, headers=reply.headers)
        if isinstance(reply.body, str):
            return Response(reply.body, status_code=reply.status, headers=reply.headers)
        return JSONResponse(reply.body, status_code=reply.status, headers=reply.headers)

    async def _chunks(self, reply: Reply, model: str) -> AsyncIterator[str]:
        """``reply`` as the server-sent events of a streamed completion, a word a chunk."""
        assert reply.content is not None
        words = reply.content.split(" ")
        for i, word in enumerate(words):
            piece = word if i == 0 else " " + word
            choice = {"index": 0, "delta": {"content": piece}, "finish_reason": None}
            yield f"data: {json.dumps({'model': model, 'choices': [choice]})}\n\n"
            if reply.chunk_s:
                await asyncio.sleep(reply.chunk_s)
        last = {"index": 0, "delta": {}, "finish_reason": "stop"}
        yield f"data: {json.dumps({'model': model, 'choices': [last]})}\n\n"
        usage = completion("", reply.usage, model)["usage"]
        yield f"data: {json.dumps({'model': model, 'choices': [], 'usage': usage})}\n\n"
        yield "data: [DONE]\n\n"
