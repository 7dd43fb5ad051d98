"""MODX's A2A skills and Agent Card: the tenant's workflows and live capabilities.

A skill's id is the name an MCP tool has too: ``workflow.<name>`` for a workflow (latest
version), the capability's own name otherwise. A2A's ``AgentSkill`` has no field for schemas,
so the card declares a data-only extension, :data:`SKILL_SCHEMAS`, whose params map each skill
id to its ``inputSchema`` (and ``outputSchema`` when known); every skill's ``examples`` also
hold the JSON of a data part that calls it.

A message with only text can start a skill whose input takes one text: an input schema that is
a string, or an object with exactly one required property, a string (``sara-tax``'s ``case``),
or with no required property and exactly one string property.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentExtension,
    AgentInterface,
    AgentSkill,
    HTTPAuthSecurityScheme,
    SecurityRequirement,
    SecurityScheme,
    StringList,
)
from a2a.utils.constants import PROTOCOL_VERSION_CURRENT, TransportProtocol

from services.interop.calls import WORKFLOW_PREFIX
from services.interop.translate.a2a import SKILL_SCHEMAS, struct_of
from services.orchestrator import workflows
from services.registry import store
from services.runtime import Runtime

ASK = "modx.ask"
"""The skill of a text-only message: discovery routes it to the best of the tenant's skills."""
BEARER = "bearer"
JSON = "application/json"
TEXT = "text/plain"
_PLACEHOLDERS: dict[str, Any] = {
    "string": "…",
    "integer": 0,
    "number": 0,
    "boolean": False,
    "array": [],
    "null": None,
}


@dataclass(frozen=True)
class Skill:
    """A workflow or a capability as an A2A skill."""

    id: str
    description: str
    tags: tuple[str, ...]
    input_schema: dict[str, Any] = field(default_factory=dict)
    output_schema: dict[str, Any] = field(default_factory=dict)

    def text_input(self, text: str) -> Any:
        """The input that carries ``text`` alone, or None when the skill takes no lone text."""
        schema = self.input_schema
        if schema.get("type") == "string":
            return text
        if schema.get("type") != "object":
            return None
        properties = schema.get("properties") or {}
        strings = [
            k for k, v in properties.items() if isinstance(v, dict) and v.get("type") == "string"
        ]
        required = list(schema.get("required") or [])
        if len(required) == 1 and required[0] in strings:
            return {required[0]: text}
        if not required and len(strings) == 1:
            return {strings[0]: text}
        return None

    def agent_skill(self) -> AgentSkill:
        """The card's entry for this skill."""
        takes_text = self.text_input("") is not None
        example = {"skill": self.id, "input": example_of(self.input_schema)}
        return AgentSkill(
            id=self.id,
            name=self.id.removeprefix(WORKFLOW_PREFIX),
            description=self.description,
            tags=list(self.tags),
            examples=[json.dumps(example, ensure_ascii=False)],
            input_modes=[JSON, TEXT] if takes_text else [JSON],
            output_modes=[JSON],
        )


def example_of(schema: dict[str, Any]) -> Any:
    """A value of the shape ``schema`` asks for: its example or default, else placeholders
    for the required properties."""
    for key in ("examples", "default"):
        if key in schema:
            found = schema[key]
            return found[0] if key == "examples" and isinstance(found, list) and found else found
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties") or {}
        return {
            name: example_of(properties.get(name) or {}) for name in schema.get("required") or []
        }
    return _PLACEHOLDERS.get(kind, {}) if isinstance(kind, str) else {}


async def skills_of(runtime: Runtime, tenant: str) -> list[Skill]:
    """The tenant's workflows (latest versions) and the capabilities a live agent serves.

    Tags: ``workflow`` or ``capability``, the capabilities a workflow's steps call, and the
    ontology concepts (``tax:CaseFacts``) the capabilities consume and produce.
    """
    async with runtime.readers() as session:
        rows = await workflows.list_latest(session, tenant)
        capabilities = await store.find_capabilities(session, live_only=True, tenant=tenant)
    concepts: dict[str, list[str]] = {}
    found: list[Skill] = []
    for cap, _agent in capabilities:
        if cap.name in concepts:
            continue  # served by several agents: one skill
        concepts[cap.name] = [*cap.consumes, *cap.produces]
        found.append(
            Skill(
                id=cap.name,
                description=cap.description or f"The {cap.name} capability.",
                tags=_unique(["capability", *concepts[cap.name]]),
                input_schema=cap.input_schema or {},
                output_schema=cap.output_schema or {},
            )
        )
    flows: list[Skill] = []
    for row in rows:
        definition = workflows.parsed(row)
        called = [step.capability for step in definition.steps if step.capability]
        flows.append(
            Skill(
                id=WORKFLOW_PREFIX + row.name,
                description=definition.description or f"The {row.name} workflow.",
                tags=_unique(
                    ["workflow", *called, *(c for name in called for c in concepts.get(name, []))]
                ),
                input_schema=definition.input_schema or {},
            )
        )
    return flows + found


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def ask_skill() -> AgentSkill:
    """The first skill of every card: ask in text (:data:`ASK`)."""
    return AgentSkill(
        id=ASK,
        name="Ask in text",
        description=(
            "Ask in plain words: semantic discovery routes the text to the best skill whose "
            "input takes one text. When two are close, the task answers input-required with "
            "the candidates."
        ),
        tags=["discovery", "text"],
        examples=["Shout this text in capital letters"],
        input_modes=[TEXT],
        output_modes=[JSON],
    )


def agent_card(skills: list[Skill] | None, *, rpc_url: str, version: str) -> AgentCard:
    """MODX's Agent Card. Without ``skills`` (a caller without a token), the public card: how
    to connect and authenticate, and the one skill anyone may read of (:func:`ask_skill`); the
    extended card (``GetExtendedAgentCard``, or this card fetched with a token) lists the
    tenant's skills too."""
    extensions = []
    if skills:
        schemas: dict[str, Any] = {}
        for skill in skills:
            schemas[skill.id] = {"inputSchema": skill.input_schema}
            if skill.output_schema:
                schemas[skill.id]["outputSchema"] = skill.output_schema
        extensions.append(
            AgentExtension(
                uri=SKILL_SCHEMAS,
                description="the JSON Schemas of each skill's input and output, by skill id",
                required=False,
                params=struct_of({"skills": schemas}),
            )
        )
    bearer = SecurityScheme(
        http_auth_security_scheme=HTTPAuthSecurityScheme(
            scheme="Bearer",
            description="a MODX API token, as for the REST API (modx token create)",
        )
    )
    return AgentCard(
        name="MODX",
        description=(
            "Multi-agent orchestration: each skill is a registered workflow or a live "
            'capability. Send a data part {"skill": "<id>", "input": {…}}, or text, which is '
            "routed to the best skill by semantic discovery. A task is a run."
        ),
        version=version,
        supported_interfaces=[
            AgentInterface(
                url=rpc_url,
                protocol_binding=TransportProtocol.JSONRPC.value,
                protocol_version=PROTOCOL_VERSION_CURRENT,
            )
        ],
        capabilities=AgentCapabilities(
            streaming=True,
            push_notifications=False,
            extended_agent_card=True,
            extensions=extensions,
        ),
        security_schemes={BEARER: bearer},
        security_requirements=[SecurityRequirement(schemes={BEARER: StringList()})],
        default_input_modes=[JSON, TEXT],
        default_output_modes=[JSON],
        skills=[ask_skill(), *(skill.agent_skill() for skill in skills or [])],
    )
