"""Decoration-time checks and the agent card."""

# Handlers here are stubs (``...``): only their signatures matter.
# mypy: disable-error-code="empty-body"

from __future__ import annotations

import dataclasses
import socket
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter

from agents.sdk import (
    Agent,
    AgentError,
    CapabilityDefinition,
    SetupError,
    TaskContext,
)
from bus.signing import generate_keypair, private_key_to_str
from tests.sdk.sample_agent import AddRequest, AddResult, build_agent


class Other(BaseModel):
    x: int


def fresh() -> Agent:
    return Agent("checker")


# -- what a handler may look like ----------------------------------------------------------


def test_decorator_returns_the_function_unchanged_with_a_frozen_definition() -> None:
    agent = fresh()

    async def add(request: AddRequest) -> AddResult:
        """Add two numbers."""
        return AddResult(total=request.a + request.b)

    decorated = agent.capability("math.add")(add)

    assert decorated is add
    definition = CapabilityDefinition.must_from_callable(add)
    assert agent.capabilities["math.add"] is definition
    assert definition.description == "Add two numbers."
    with pytest.raises(dataclasses.FrozenInstanceError):
        definition.name = "other"  # type: ignore[misc]


def test_must_from_callable_names_an_undecorated_function() -> None:
    async def plain(request: AddRequest) -> AddResult: ...

    with pytest.raises(SetupError, match="plain is not decorated"):
        CapabilityDefinition.must_from_callable(plain)


def test_setup_error_is_a_type_error_and_an_agent_error() -> None:
    assert issubclass(SetupError, TypeError)
    assert issubclass(SetupError, AgentError)


def test_sync_function_is_refused() -> None:
    def add(request: AddRequest) -> AddResult: ...

    with pytest.raises(SetupError, match="must be an `async def` function"):
        fresh().capability("math.add")(add)  # type: ignore[type-var]


def test_async_generator_is_refused() -> None:
    async def add(request: AddRequest) -> Any:
        yield 1

    with pytest.raises(SetupError, match="async generator"):
        fresh().capability("math.add")(add)


def test_no_parameter_is_refused() -> None:
    async def add() -> AddResult: ...

    with pytest.raises(SetupError, match="must take one input parameter"):
        fresh().capability("math.add")(add)


def test_two_input_parameters_are_refused() -> None:
    async def add(request: AddRequest, other: Other) -> AddResult: ...

    with pytest.raises(SetupError, match="more than one input parameter \\('other'\\)"):
        fresh().capability("math.add")(add)


def test_missing_parameter_annotation_is_refused() -> None:
    async def add(request) -> AddResult: ...

    with pytest.raises(SetupError, match="parameter 'request' has no annotation"):
        fresh().capability("math.add")(add)


@pytest.mark.parametrize("annotation", [int, str, list[int], dict[int, str], AddRequest | None])
def test_non_object_input_is_refused(annotation: Any) -> None:
    async def add(request: Any) -> AddResult: ...

    add.__annotations__["request"] = annotation
    with pytest.raises(SetupError, match="must be a pydantic model, dict or Any"):
        fresh().capability("math.add")(add)


def test_star_args_are_refused() -> None:
    async def add(request: AddRequest, *rest: Any) -> AddResult: ...

    with pytest.raises(SetupError, match=r"\*args and \*\*kwargs"):
        fresh().capability("math.add")(add)


def test_missing_return_annotation_is_refused() -> None:
    async def add(request: AddRequest): ...

    with pytest.raises(SetupError, match="annotate the return type"):
        fresh().capability("math.add")(add)


def test_non_json_return_type_is_refused() -> None:
    async def add(request: AddRequest) -> socket.socket: ...

    with pytest.raises(SetupError, match=r"return type .* is not a JSON type"):
        fresh().capability("math.add")(add)


def test_unresolvable_annotation_is_refused() -> None:
    async def add(request: NotDefinedAnywhere) -> AddResult: ...  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(SetupError, match="cannot resolve its type annotations"):
        fresh().capability("math.add")(add)


@pytest.mark.parametrize("name", ["", "has space", "1starts.with.digit", "a..b", "a.", "x:y", 7])
def test_bad_capability_name_is_refused(name: Any) -> None:
    async def add(request: AddRequest) -> AddResult: ...

    with pytest.raises(SetupError, match=r"capability name .* is invalid"):
        fresh().capability(name)(add)


def test_iris_given_as_a_bare_string_are_refused() -> None:
    async def add(request: AddRequest) -> AddResult: ...

    with pytest.raises(SetupError, match="consumes must be a list of IRI strings"):
        fresh().capability("math.add", consumes="math:Pair")(add)


def test_duplicate_capability_is_refused() -> None:
    agent = fresh()

    @agent.capability("math.add")
    async def add(request: AddRequest) -> AddResult: ...

    async def again(request: AddRequest) -> AddResult: ...

    with pytest.raises(SetupError, match=r"already has a capability 'math\.add'"):
        agent.capability("math.add")(again)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": ""}, "agent name"),
        ({"name": "a", "version": ""}, "agent version"),
        ({"name": "a", "max_concurrency": 0}, "max_concurrency"),
    ],
)
def test_bad_agent_arguments_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(SetupError, match=message):
        Agent(**kwargs)


def test_context_parameter_is_recognised_in_any_position() -> None:
    agent = fresh()

    @agent.capability("ctx.first")
    async def first(ctx: TaskContext, request: dict[str, Any]) -> None: ...

    @agent.capability("ctx.keyword")
    async def keyword(request: Any, *, ctx: TaskContext) -> None: ...

    assert agent.capabilities["ctx.first"].takes_context
    assert [p.role for p in agent.capabilities["ctx.first"].parameters] == ["context", "input"]
    assert agent.capabilities["ctx.keyword"].parameters[1].keyword_only


def test_two_context_parameters_are_refused() -> None:
    async def add(request: AddRequest, a: TaskContext, b: TaskContext) -> AddResult: ...

    with pytest.raises(SetupError, match="only one parameter may be a TaskContext"):
        fresh().capability("math.add")(add)


# -- the card ------------------------------------------------------------------------------


def test_card_follows_the_design() -> None:
    card = build_agent().card()

    assert set(card) == {"name", "version", "description", "transport", "capabilities", "features"}
    assert card["features"] == ["reply_to"]  # tasks may name the stream its answers go to
    assert (card["name"], card["version"], card["transport"]) == ("calculator", "1.2.3", "bus")
    add = next(c for c in card["capabilities"] if c["name"] == "math.add")
    assert add == {
        "name": "math.add",
        "description": "Add two numbers.",
        "input_schema": TypeAdapter(AddRequest).json_schema(mode="validation"),
        "output_schema": TypeAdapter(AddResult).json_schema(mode="serialization"),
        "consumes": ["math:Pair"],
        "produces": ["math:Sum"],
        "idempotent": True,
    }
    assert add["input_schema"]["required"] == ["a", "b"]
    assert add["input_schema"]["properties"]["b"]["minimum"] == 0


def test_card_schemas_for_raw_json_and_plain_types() -> None:
    capabilities = {c["name"]: c for c in build_agent().card()["capabilities"]}

    raw_object = {"additionalProperties": True, "type": "object"}
    assert capabilities["math.busy"]["input_schema"] == raw_object
    assert capabilities["math.busy"]["output_schema"] == {"type": "integer"}
    assert capabilities["math.forever"]["output_schema"] == {"type": "null"}


def test_http_card_carries_the_endpoint() -> None:
    card = build_agent().card(transport="http", endpoint="http://agent:8080/task")

    assert card["transport"] == "http"
    assert card["endpoint"] == "http://agent:8080/task"


@pytest.mark.parametrize(
    ("transport", "endpoint", "message"),
    [
        ("http", None, "needs the endpoint"),
        ("bus", "http://x/task", "has no endpoint"),
        ("smoke", None, "must be 'bus', 'gateway' or 'http'"),
    ],
)
def test_card_arguments_are_checked(transport: Any, endpoint: str | None, message: str) -> None:
    with pytest.raises(SetupError, match=message):
        build_agent().card(transport=transport, endpoint=endpoint)


def test_card_is_a_copy() -> None:
    agent = build_agent()
    agent.card()["capabilities"][0]["input_schema"]["properties"].clear()

    assert agent.card()["capabilities"][0]["input_schema"]["properties"]


def test_card_has_the_public_key_of_a_signing_agent() -> None:
    private, _ = generate_keypair()
    agent = Agent("signer", signing_key=private_key_to_str(private))

    assert agent.card()["public_key"]
