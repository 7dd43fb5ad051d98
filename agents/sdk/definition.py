"""Capability definitions: what ``@agent.capability`` checks and records.

The decorator does all its checking when the module is imported, so a wrongly declared
handler fails at start-up with a message that names it, not on its first task. It returns the
function unchanged and attaches a frozen ``CapabilityDefinition``; the runtime, the HTTP agent
and the test environment read that definition back and never inspect the function again.

A handler takes exactly one input parameter (a pydantic model, or ``dict``/``Any`` for raw
JSON), optionally a second one annotated ``TaskContext``, and declares its return type. The
input is always a JSON object because a workflow step's input is one (see DESIGN.md).
"""

from __future__ import annotations

import copy
import inspect
import re
import typing
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from pydantic import BaseModel, PydanticSchemaGenerationError, TypeAdapter
from pydantic.errors import PydanticInvalidForJsonSchema, PydanticUserError

from agents.sdk.context import TaskContext
from agents.sdk.errors import SetupError

CAPABILITY_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*(\.[A-Za-z0-9_\-]+)*$")
"""Dot-separated words; the registry accepts the same (the SDK cannot import ``services``).

Names become stream and group names (``modx.tasks.<name>``), hence no spaces or colons."""

_ATTRIBUTE = "__modx_capability__"

Role = Literal["input", "context"]


@dataclass(frozen=True)
class Parameter:
    """One parameter of a handler and what the runtime passes to it."""

    name: str
    role: Role
    keyword_only: bool


@dataclass(frozen=True)
class CapabilityDefinition:
    """A checked capability: its contract (for the card) and how to call its handler.

    Attributes:
        name: The capability name, e.g. ``legal.infer``.
        description: One line for humans and for the planner.
        handler: The decorated async function, unchanged.
        input_schema: JSON Schema of the input (validation mode).
        output_schema: JSON Schema of the output (serialization mode).
        consumes: Ontology IRIs of what the capability takes.
        produces: Ontology IRIs of what it returns.
        idempotent: True when running the same input twice is harmless.
        parameters: The handler's parameters, in order.
        input_adapter: Validates a payload into the handler's input type.
        output_adapter: Validates and serializes the handler's return value.
    """

    name: str
    description: str
    handler: Callable[..., Awaitable[Any]] = field(repr=False)
    input_schema: Mapping[str, Any] = field(repr=False)
    output_schema: Mapping[str, Any] = field(repr=False)
    consumes: tuple[str, ...]
    produces: tuple[str, ...]
    idempotent: bool
    parameters: tuple[Parameter, ...] = field(repr=False)
    input_adapter: TypeAdapter[Any] = field(repr=False, compare=False)
    output_adapter: TypeAdapter[Any] = field(repr=False, compare=False)

    @property
    def takes_context(self) -> bool:
        """True when the handler declares a ``TaskContext`` parameter."""
        return any(p.role == "context" for p in self.parameters)

    def card_entry(self) -> dict[str, Any]:
        """The capability as it appears in the agent card (a fresh, mutable copy)."""
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": copy.deepcopy(dict(self.input_schema)),
            "output_schema": copy.deepcopy(dict(self.output_schema)),
            "consumes": list(self.consumes),
            "produces": list(self.produces),
            "idempotent": self.idempotent,
        }

    def call(self, value: Any, context: TaskContext) -> Awaitable[Any]:
        """Call the handler with a validated input and, if it asks for one, the context."""
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for param in self.parameters:
            arg = value if param.role == "input" else context
            if param.keyword_only:
                kwargs[param.name] = arg
            else:
                args.append(arg)
        return self.handler(*args, **kwargs)

    @staticmethod
    def from_callable(fn: Callable[..., Any]) -> CapabilityDefinition | None:
        """The definition attached to ``fn`` by ``@agent.capability``, or None."""
        found = getattr(fn, _ATTRIBUTE, None)
        return found if isinstance(found, CapabilityDefinition) else None

    @staticmethod
    def must_from_callable(fn: Callable[..., Any]) -> CapabilityDefinition:
        """Like ``from_callable``, but raises ``SetupError`` when ``fn`` is not decorated."""
        found = CapabilityDefinition.from_callable(fn)
        if found is None:
            name = getattr(fn, "__qualname__", repr(fn))
            raise SetupError(f"{name} is not decorated with @agent.capability(...)")
        return found


def define_capability(
    fn: Callable[..., Any],
    name: str,
    *,
    description: str | None = None,
    consumes: Sequence[str] = (),
    produces: Sequence[str] = (),
    idempotent: bool = False,
) -> CapabilityDefinition:
    """Check ``fn`` as the handler of capability ``name`` and attach its definition.

    Args:
        fn: The handler: an ``async def`` function (see the module docstring for its shape).
        name: The capability name (letters, digits, ``.``, ``_``, ``-``).
        description: One line; defaults to the first line of the handler's docstring.
        consumes: Ontology IRIs of the input.
        produces: Ontology IRIs of the output.
        idempotent: True when running the same input twice is harmless.

    Returns:
        The frozen definition, also attached to ``fn``.

    Raises:
        SetupError: When the name, the IRIs or the handler's signature are wrong.
    """
    if not isinstance(name, str) or not CAPABILITY_NAME.fullmatch(name):
        raise SetupError(
            f"capability name {name!r} is invalid: use dot-separated words of letters, digits, "
            "'_' and '-', starting with a letter, e.g. 'legal.infer'"
        )
    where = f"capability {name!r} (handler {getattr(fn, '__qualname__', repr(fn))})"
    if inspect.isasyncgenfunction(fn):
        raise SetupError(f"{where}: the handler is an async generator; it must return one value")
    if not inspect.iscoroutinefunction(fn):
        raise SetupError(f"{where}: the handler must be an `async def` function")
    hints = _type_hints(fn, where)
    parameters, input_type = _parameters(fn, hints, where)
    if "return" not in hints:
        raise SetupError(f"{where}: annotate the return type (a pydantic model or a JSON type)")
    output_type = hints["return"]
    input_adapter = _adapter(input_type, where, "input type")
    output_adapter: TypeAdapter[Any] = _adapter(output_type, where, "return type")
    definition = CapabilityDefinition(
        name=name,
        description=description if description is not None else _first_line(fn.__doc__),
        handler=fn,
        input_schema=MappingProxyType(_schema(input_adapter, where, "input type", "validation")),
        output_schema=MappingProxyType(
            _schema(output_adapter, where, "return type", "serialization")
        ),
        consumes=_iris(consumes, where, "consumes"),
        produces=_iris(produces, where, "produces"),
        idempotent=bool(idempotent),
        parameters=parameters,
        input_adapter=input_adapter,
        output_adapter=output_adapter,
    )
    setattr(fn, _ATTRIBUTE, definition)
    return definition


def _type_hints(fn: Callable[..., Any], where: str) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn)
    except Exception as exc:  # NameError, TypeError: whatever the annotations raise
        raise SetupError(
            f"{where}: cannot resolve its type annotations ({exc}); "
            "define the types it uses at module level"
        ) from exc


def _parameters(
    fn: Callable[..., Any], hints: Mapping[str, Any], where: str
) -> tuple[tuple[Parameter, ...], Any]:
    params: list[Parameter] = []
    input_type: Any = None
    for p in inspect.signature(fn).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise SetupError(f"{where}: *args and **kwargs are not allowed")
        annotation = hints.get(p.name, inspect.Parameter.empty)
        keyword_only = p.kind == p.KEYWORD_ONLY
        if annotation is TaskContext:
            if any(q.role == "context" for q in params):
                raise SetupError(f"{where}: only one parameter may be a TaskContext")
            params.append(Parameter(p.name, "context", keyword_only))
            continue
        if input_type is not None:
            raise SetupError(
                f"{where}: takes more than one input parameter ({p.name!r}); a handler takes "
                "one input (a pydantic model or dict) and optionally a TaskContext"
            )
        if annotation is inspect.Parameter.empty:
            raise SetupError(
                f"{where}: parameter {p.name!r} has no annotation; annotate it with a "
                "pydantic model (or dict/Any for raw JSON)"
            )
        if not _is_object_type(annotation):
            raise SetupError(
                f"{where}: parameter {p.name!r} is annotated {annotation!r}; the input must be "
                "a pydantic model, dict or Any, because a task's payload is a JSON object"
            )
        input_type = annotation
        params.append(Parameter(p.name, "input", keyword_only))
    if input_type is None:
        raise SetupError(
            f"{where}: the handler must take one input parameter annotated with a pydantic "
            "model (or dict/Any)"
        )
    return tuple(params), input_type


def _is_object_type(annotation: Any) -> bool:
    if annotation is Any or annotation is dict:
        return True
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    if typing.get_origin(annotation) is dict:
        key = typing.get_args(annotation)[:1]
        return key in ((str,), (Any,))
    return False


def _adapter(tp: Any, where: str, what: str) -> TypeAdapter[Any]:
    try:
        return TypeAdapter(tp)
    except (PydanticSchemaGenerationError, PydanticUserError) as exc:
        raise SetupError(f"{where}: the {what} {tp!r} is not a JSON type: {exc}") from exc


def _schema(
    adapter: TypeAdapter[Any],
    where: str,
    what: str,
    mode: Literal["validation", "serialization"],
) -> dict[str, Any]:
    try:
        return adapter.json_schema(mode=mode)
    except (PydanticInvalidForJsonSchema, PydanticUserError) as exc:
        raise SetupError(f"{where}: the {what} has no JSON Schema: {exc}") from exc


def _iris(values: Sequence[str], where: str, what: str) -> tuple[str, ...]:
    # A bare string is a sequence too; catching it here saves a card of one-letter IRIs.
    if isinstance(values, str) or not all(isinstance(v, str) and v for v in values):
        raise SetupError(f"{where}: {what} must be a list of IRI strings, got {values!r}")
    return tuple(values)


def _first_line(doc: str | None) -> str:
    for line in (doc or "").strip().splitlines():
        if line.strip():
            return line.strip()
    return ""
