"""MCP ↔ MODX: tool results, tool errors and cancellations, through the neutral parts.

MODX calls an MCP tool with the step's input as its arguments, and the ``CallToolResult``
becomes the step's answer: its ``structuredContent`` is the output when it has one (the text
beside it is, per the MCP spec, only a rendering of it), otherwise the content items become
parts (text; resource links as files; images, audio and embedded blobs as ``data:`` files).
``isError`` becomes a failure. MODX answering as an MCP server goes the other way: the output
is ``structuredContent`` with its JSON as text, and its files are also resource links. A
failure carries its code and ``retryable`` in ``_meta["modx/error"]`` so that another MODX reads
it back whole; other peers see the message.
"""

from __future__ import annotations

import json
from typing import Any

import mcp.types as types
from mcp.shared.exceptions import McpError

from services.interop.translate.parts import (
    Failure,
    File,
    Part,
    Text,
    output_of,
    parts_of,
)

ERROR_META = "modx/error"
TOOL_ERROR = "tool_error"


def parts_of_content(content: list[types.ContentBlock]) -> list[Part]:
    """MCP content items as parts."""
    parts: list[Part] = []
    for item in content:
        if isinstance(item, types.TextContent):
            parts.append(Text(item.text))
        elif isinstance(item, types.ResourceLink):
            parts.append(File(str(item.uri), item.name, item.mimeType))
        elif isinstance(item, types.ImageContent | types.AudioContent):
            parts.append(File(f"data:{item.mimeType};base64,{item.data}", None, item.mimeType))
        elif isinstance(item, types.EmbeddedResource):
            resource = item.resource
            if isinstance(resource, types.TextResourceContents):
                parts.append(Text(resource.text))
            else:
                mime = resource.mimeType or "application/octet-stream"
                parts.append(File(f"data:{mime};base64,{resource.blob}", None, mime))
    return parts


def answer_of(result: types.CallToolResult) -> dict[str, Any]:
    """A tool's result as a remote agent's answer body: ``{"output"}`` or ``{"error"}``."""
    if result.isError:
        return failure_of(result).as_answer()
    if result.structuredContent is not None:
        return {"output": dict(result.structuredContent)}
    return {"output": output_of(parts_of_content(result.content))}


def failure_of(result: types.CallToolResult) -> Failure:
    """The failure an ``isError`` result reports (its code and ``retryable`` when another
    MODX sent it)."""
    text = "\n".join(i.text for i in result.content if isinstance(i, types.TextContent))
    meta = (result.meta or {}).get(ERROR_META)
    if isinstance(meta, dict) and isinstance(meta.get("code"), str):
        return Failure(meta["code"], text or "the tool failed", bool(meta.get("retryable")))
    return Failure(TOOL_ERROR, text or "the tool failed", False)


def result_of(output: Any, meta: dict[str, Any] | None = None) -> types.CallToolResult:
    """A step's (or run's) output as a tool result."""
    structured = output if isinstance(output, dict) else {"result": output}
    content: list[types.ContentBlock] = [
        types.TextContent(type="text", text=json.dumps(output, ensure_ascii=False, indent=2))
    ]
    for part in parts_of(structured):
        if isinstance(part, File):
            content.append(
                types.ResourceLink(
                    type="resource_link",
                    uri=part.uri,
                    name=part.name or part.uri.rsplit("/", 1)[-1] or "file",
                    mimeType=part.mime_type,
                )
            )
    return types.CallToolResult(content=content, structuredContent=structured, _meta=meta)


def error_result(failure: Failure, meta: dict[str, Any] | None = None) -> types.CallToolResult:
    """A failure as a tool result (``isError``)."""
    extra = {ERROR_META: {"code": failure.code, "retryable": failure.retryable}}
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=failure.message)],
        isError=True,
        _meta={**(meta or {}), **extra},
    )


def failure_of_error(error: McpError) -> Failure:
    """A JSON-RPC error from an MCP server as a failure: refused input or an unknown tool is
    final; anything else (the server's own trouble, a closed connection) may pass."""
    code = error.error.code
    if code == types.INVALID_PARAMS:
        return Failure("bad_input", error.error.message, False)
    if code == types.METHOD_NOT_FOUND:
        return Failure("tool_unknown", error.error.message, False)
    return Failure("dispatch_failed", error.error.message, True)


def cancel_notification(request_id: types.RequestId, reason: str) -> types.ClientNotification:
    """``notifications/cancelled`` for a call MODX no longer needs (its run was cancelled, its
    task superseded or past its deadline)."""
    return types.ClientNotification(
        types.CancelledNotification(
            params=types.CancelledNotificationParams(requestId=request_id, reason=reason)
        )
    )


def cancel_reason(notification: types.ClientNotification) -> str | None:
    """Why a peer cancelled a call, from its ``notifications/cancelled``."""
    root = notification.root
    if isinstance(root, types.CancelledNotification):
        return root.params.reason
    return None


__all__ = [
    "ERROR_META",
    "answer_of",
    "cancel_notification",
    "cancel_reason",
    "error_result",
    "failure_of",
    "failure_of_error",
    "parts_of_content",
    "result_of",
]
