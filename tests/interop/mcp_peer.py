"""A real MCP server, built with the MCP SDK, for tests: ``python -m tests.interop.mcp_peer
stdio|http [PORT] [--crash] [--bad-schema]``.

Tools:
- ``add`` ``{a, b}`` → ``{"sum": a + b}`` (structured output, with an output schema);
- ``shout`` ``{text}`` → the text in capitals (text content only);
- ``link`` ``{}`` → a resource link to a file;
- ``fail`` ``{}`` → ``isError`` with a message;
- ``steps`` ``{count, release?}`` → ``count`` progress notifications (``step i of count``)
  when the call asks for them, then (once the file ``release`` exists, if given)
  ``{"request_id", "progress_token"}`` as the server saw them;
- ``quote`` ``{lines: [{item: {sku}, qty}], deliver?}`` → ``{"total"}``: an input schema with
  ``$defs``/``$ref``, ``oneOf``, enums and nested arrays (:data:`ORDER`);
- ``hold`` ``{marker}``: the first call writes the process id to the file ``marker`` and waits
  (a test kills the process, or cancels the run); a call when the file exists answers at once
  with the process id. A cancelled call appends ``cancelled`` to ``<marker>.log``.

``--crash``: writes to stderr and exits before answering ``initialize``; ``--bad-schema``:
lists a tool whose input schema is not a JSON Schema too; ``--only-bad``: lists only that one.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import mcp.types as types
from mcp.server.lowlevel import Server

BAD_SCHEMA = "--bad-schema" in sys.argv
ONLY_BAD = "--only-bad" in sys.argv


PRICES = {"tea": 3, "cake": 5}
ORDER: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "item": {
            "type": "object",
            "properties": {"sku": {"enum": list(PRICES)}, "note": {"type": ["string", "null"]}},
            "required": ["sku"],
            "additionalProperties": False,
        },
        "line": {
            "type": "object",
            "properties": {
                "item": {"$ref": "#/$defs/item"},
                "qty": {"type": "integer", "minimum": 1},
            },
            "required": ["item", "qty"],
        },
    },
    "properties": {
        "lines": {"type": "array", "items": {"$ref": "#/$defs/line"}, "minItems": 1},
        "deliver": {
            "oneOf": [
                {
                    "type": "object",
                    "properties": {"pickup": {"const": True}},
                    "required": ["pickup"],
                },
                {
                    "type": "object",
                    "properties": {"address": {"type": "string", "minLength": 3}},
                    "required": ["address"],
                },
            ]
        },
    },
    "required": ["lines"],
}
"""``quote``'s input: references, a union, enums, nested arrays (a client's usual schema)."""


def _note(path: Path, line: str) -> None:
    with path.open("a") as log:
        log.write(line + "\n")


def build() -> Server[Any, Any]:
    server: Server[Any, Any] = Server("mcp-peer", version="1.2.3")

    @server.list_tools()  # type: ignore[no-untyped-call,untyped-decorator]
    async def list_tools() -> list[types.Tool]:
        tools = [
            types.Tool(
                name="add",
                description="Add two integers and return their sum.",
                inputSchema={
                    "type": "object",
                    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                    "required": ["a", "b"],
                },
                outputSchema={
                    "type": "object",
                    "properties": {"sum": {"type": "integer"}},
                    "required": ["sum"],
                },
            ),
            types.Tool(
                name="shout",
                description="Turn a text into capital letters.",
                inputSchema={"type": "object", "properties": {"text": {"type": "string"}}},
            ),
            types.Tool(
                name="link", description="Link to a report.", inputSchema={"type": "object"}
            ),
            types.Tool(name="fail", description="Always fails.", inputSchema={"type": "object"}),
            types.Tool(
                name="steps",
                description="Report progress count times, then say the request's id.",
                inputSchema={"type": "object", "properties": {"count": {"type": "integer"}}},
            ),
            types.Tool(
                name="hold",
                description="Hold the first call until the process is killed.",
                inputSchema={"type": "object", "properties": {"marker": {"type": "string"}}},
            ),
        ]
        tools.append(types.Tool(name="quote", description="Price an order.", inputSchema=ORDER))
        broken = types.Tool(name="broken", inputSchema={"type": "object", "properties": 5})
        if ONLY_BAD:
            return [broken]
        if BAD_SCHEMA:
            tools.append(broken)
        return tools

    @server.call_tool(validate_input=False)  # type: ignore[untyped-decorator]
    async def call_tool(name: str, arguments: dict[str, Any]) -> Any:
        if name == "add":
            return {"sum": int(arguments["a"]) + int(arguments["b"])}
        if name == "shout":
            return [types.TextContent(type="text", text=str(arguments.get("text", "")).upper())]
        if name == "link":
            return [
                types.ResourceLink(
                    type="resource_link",
                    uri="https://files.example/report.pdf",
                    name="report.pdf",
                    mimeType="application/pdf",
                )
            ]
        if name == "fail":
            return types.CallToolResult(
                content=[types.TextContent(type="text", text="the peer refuses")], isError=True
            )
        if name == "steps":
            context = server.request_context
            token = context.meta.progressToken if context.meta is not None else None
            count = int(arguments.get("count", 3))
            for done in range(1, count + 1):
                if token is not None:
                    # On the call's own stream (over HTTP, not the session's GET stream).
                    await context.session.send_progress_notification(
                        token, done, count, f"step {done} of {count}", str(context.request_id)
                    )
            release = arguments.get("release")
            while release is not None and not Path(release).exists():  # noqa: ASYNC110
                await asyncio.sleep(0.02)  # until the test has seen the progress
            return {"request_id": context.request_id, "progress_token": token}
        if name == "quote":
            lines = arguments["lines"]
            return {"total": sum(line["qty"] * PRICES[line["item"]["sku"]] for line in lines)}
        if name == "hold":
            marker = Path(arguments["marker"])
            if marker.exists():
                return {"pid": os.getpid()}
            marker.write_text(str(os.getpid()))
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                _note(Path(f"{marker}.log"), "cancelled")
                raise
            return {"pid": os.getpid()}
        raise ValueError(f"unknown tool {name}")

    return server


async def stdio() -> None:
    from mcp.server.stdio import stdio_server

    server = build()
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def http(port: int) -> None:
    import contextlib
    from collections.abc import AsyncIterator

    import uvicorn
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
    from starlette.applications import Starlette
    from starlette.routing import Mount

    manager = StreamableHTTPSessionManager(build())  # with sessions, as most servers

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with manager.run():
            yield

    app = Starlette(routes=[Mount("/mcp", app=manager.handle_request)], lifespan=lifespan)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    if "--crash" in sys.argv:
        print("peer: cannot open its database", file=sys.stderr, flush=True)
        sys.exit(3)
    if sys.argv[1] == "http":
        http(int(sys.argv[2]))
    else:
        asyncio.run(stdio())
