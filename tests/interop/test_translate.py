"""Round trips through the translation layer: text, data, files by URL, errors and
cancellation, between MODX's outputs and MCP's results (each through MCP's JSON wire form)."""

from __future__ import annotations

from typing import Any

import mcp.types as types
import pytest
from mcp.shared.exceptions import McpError

from services.interop.translate import (
    Data,
    Failure,
    File,
    Text,
    TranslationError,
    arguments_of,
    output_of,
    parts_of,
)
from services.interop.translate import mcp as tm


def wire(result: types.CallToolResult) -> types.CallToolResult:
    """``result`` as a peer reads it: serialized to JSON and parsed back."""
    return types.CallToolResult.model_validate_json(
        result.model_dump_json(by_alias=True, exclude_none=True)
    )


OUTPUTS: list[Any] = [
    {"answer": 42, "nested": {"list": [1, "two", None]}},
    {"text": "the tax is $1,234"},
    {"text": "see the attached", "files": [{"uri": "https://x.test/a.pdf", "name": "a.pdf"}]},
    {"files": [{"uri": "https://x.test/b.csv", "mime_type": "text/csv"}]},
    {"text": "an empty list of files stays data", "files": []},
    {"text": 3},
    {},
]


@pytest.mark.parametrize("output", OUTPUTS)
def test_a_modx_output_comes_back_unchanged_through_mcp(output: Any) -> None:
    assert tm.answer_of(wire(tm.result_of(output))) == {"output": output}
    assert output_of(parts_of(output)) == output


@pytest.mark.parametrize("value", ["plain", 7, [1, 2], None])
def test_an_output_that_is_not_an_object_comes_back_as_result(value: Any) -> None:
    assert tm.answer_of(wire(tm.result_of(value))) == {"output": {"result": value}}


def test_text_from_an_mcp_tool_is_text_in_modx_and_back() -> None:
    result = types.CallToolResult(
        content=[
            types.TextContent(type="text", text="one"),
            types.TextContent(type="text", text="two"),
        ]
    )
    answer = tm.answer_of(wire(result))
    assert answer == {"output": {"text": "one\n\ntwo"}}
    assert parts_of(answer["output"]) == [Text("one\n\ntwo")]
    again = wire(tm.result_of(answer["output"]))
    assert again.structuredContent == {"text": "one\n\ntwo"}
    assert tm.answer_of(again) == answer


def test_files_by_url_stay_links_both_ways() -> None:
    link = types.ResourceLink(
        type="resource_link", uri="https://x.test/r.pdf", name="r.pdf", mimeType="application/pdf"
    )
    answer = tm.answer_of(wire(types.CallToolResult(content=[link])))
    expected = {"uri": "https://x.test/r.pdf", "name": "r.pdf", "mime_type": "application/pdf"}
    assert answer == {"output": {"files": [expected]}}
    back = wire(tm.result_of(answer["output"]))
    links = [c for c in back.content if isinstance(c, types.ResourceLink)]
    assert [(str(x.uri), x.name, x.mimeType) for x in links] == [
        ("https://x.test/r.pdf", "r.pdf", "application/pdf")
    ]
    assert tm.answer_of(back) == answer


def test_inline_bytes_become_data_urls() -> None:
    image = types.ImageContent(type="image", data="iVBORw0KGgo=", mimeType="image/png")
    blob = types.EmbeddedResource(
        type="resource",
        resource=types.BlobResourceContents(uri="file:///x", blob="AAEC", mimeType=None),
    )
    answer = tm.answer_of(wire(types.CallToolResult(content=[image, blob])))
    assert answer["output"]["files"] == [
        {"uri": "data:image/png;base64,iVBORw0KGgo=", "mime_type": "image/png"},
        {
            "uri": "data:application/octet-stream;base64,AAEC",
            "mime_type": "application/octet-stream",
        },
    ]


def test_data_and_text_together_keep_both() -> None:
    assert output_of([Text("why"), Data({"a": 1}), File("https://x.test/f")]) == {
        "text": "why",
        "data": {"a": 1},
        "files": [{"uri": "https://x.test/f"}],
    }


def test_a_modx_failure_comes_back_whole_from_another_modx() -> None:
    failure = Failure("legal_unknown_fact", "no rule for spouse", retryable=True)
    back = wire(tm.error_result(failure, {"modx/run_id": "r1"}))
    assert back.isError
    assert tm.failure_of(back) == failure
    assert tm.answer_of(back) == failure.as_answer()


def test_a_foreign_tool_error_keeps_its_message_and_is_final() -> None:
    result = types.CallToolResult(
        content=[types.TextContent(type="text", text="division by zero")], isError=True
    )
    assert tm.answer_of(wire(result)) == {
        "error": {"code": "tool_error", "message": "division by zero", "retryable": False}
    }


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (types.INVALID_PARAMS, ("bad_input", False)),
        (types.METHOD_NOT_FOUND, ("tool_unknown", False)),
        (types.INTERNAL_ERROR, ("dispatch_failed", True)),
        (types.CONNECTION_CLOSED, ("dispatch_failed", True)),
    ],
)
def test_protocol_errors_say_whether_to_try_again(code: int, expected: tuple[str, bool]) -> None:
    failure = tm.failure_of_error(McpError(types.ErrorData(code=code, message="m")))
    assert (failure.code, failure.retryable) == expected
    assert failure.message == "m"


def test_a_cancellation_reaches_the_peer_with_its_reason() -> None:
    sent = tm.cancel_notification(17, "its run is cancelled")
    on_the_wire = sent.model_dump_json(by_alias=True, exclude_none=True)
    received = types.ClientNotification.model_validate_json(on_the_wire)
    assert received.root.method == "notifications/cancelled"
    assert tm.cancel_reason(received) == "its run is cancelled"
    assert tm.cancel_reason(types.ClientNotification(types.InitializedNotification())) is None


def test_a_tool_takes_an_object() -> None:
    assert arguments_of({"a": 1}) == {"a": 1}
    with pytest.raises(TranslationError, match="must be an object"):
        arguments_of([1])
