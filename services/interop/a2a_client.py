"""MODX as an A2A client: fetching and checking a remote Agent Card, and what its skills become.

Every connection goes through the egress policy (``services.egress``): the card's URL and the
JSON-RPC URL the card names are both checked, at connect time, like an HTTP agent's endpoint.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from a2a.client.card_resolver import parse_agent_card
from a2a.types import AgentCard, AgentInterface, AgentSkill
from a2a.utils.constants import PROTOCOL_VERSION_CURRENT, VERSION_HEADER, TransportProtocol
from a2a.utils.errors import InvalidParamsError
from a2a.utils.proto_utils import validate_proto_required_fields
from google.protobuf import json_format

from services.egress import EgressPolicy, EgressRefused, GuardedTransport
from services.interop.translate.a2a import SKILL_SCHEMAS, plain
from services.orchestrator.definitions import CAPABILITY_PATTERN

MAX_CARD_BYTES = 1024 * 1024
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
"""The most an A2A peer's response may bring (a whole JSON-RPC answer, or one streamed
task's events in all); the step fails past it, before the orchestrator's memory does."""
_CAPABILITY = re.compile(CAPABILITY_PATTERN)
_NOT_A_NAME = re.compile(r"[^A-Za-z0-9_\-]+")


class CardRefused(ValueError):
    """A card URL that does not answer with a usable A2A Agent Card (the message says why)."""


def guarded_http(egress: EgressPolicy, timeout_s: float) -> httpx.AsyncClient:
    """An HTTP client for A2A peers: egress-checked, no proxy from the environment, no
    redirects (each would need its own check), speaking A2A 1.0."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_s, connect=5.0),
        transport=GuardedTransport(egress, max_response_bytes=MAX_RESPONSE_BYTES),
        trust_env=False,
        follow_redirects=False,
        headers={VERSION_HEADER: PROTOCOL_VERSION_CURRENT},
    )


def rpc_interface(card: AgentCard) -> AgentInterface | None:
    """The card's JSON-RPC interface (MODX speaks that binding)."""
    for interface in card.supported_interfaces:
        if interface.protocol_binding == TransportProtocol.JSONRPC.value and interface.url:
            return interface
    return None


async def fetch_card(
    http: httpx.AsyncClient, url: str, headers: dict[str, str] | None = None
) -> AgentCard:
    """The A2A Agent Card at ``url``, checked: the spec's required fields, a JSON-RPC
    interface, at least one skill. ``headers``: the agent's credentials, sent along.

    Raises:
        CardRefused: It does not answer, is refused by egress, or is not such a card.
    """
    try:
        request_headers = {**(headers or {}), "accept": "application/json"}
        async with http.stream("GET", url, headers=request_headers) as response:
            if response.status_code != 200:
                raise CardRefused(f"the card URL answered HTTP {response.status_code}")
            body = b""
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_CARD_BYTES:
                    raise CardRefused(f"the card is larger than {MAX_CARD_BYTES} bytes")
    except EgressRefused as exc:
        raise CardRefused(str(exc)) from None
    except httpx.HTTPError:
        raise CardRefused("the card URL does not answer") from None
    try:
        card = parse_agent_card(json.loads(body))
        validate_proto_required_fields(card)
    except InvalidParamsError as exc:
        missing = (exc.data or {}).get("errors") or exc.message
        raise CardRefused(f"not a valid A2A Agent Card: missing {missing}") from None
    except (ValueError, json_format.ParseError) as exc:
        raise CardRefused(f"not a valid A2A Agent Card: {exc}") from None
    if rpc_interface(card) is None:
        raise CardRefused("the Agent Card names no JSON-RPC interface (the binding MODX speaks)")
    return card


def capability_name(agent: str, skill: AgentSkill) -> str:
    """The capability a skill becomes: its own id when that is already a dotted capability name
    (``legal.infer``, another MODX's), else ``a2a.<agent>.<skill id>``."""
    if "." in skill.id and _CAPABILITY.match(skill.id):
        return skill.id
    return f"a2a.{agent}.{_NOT_A_NAME.sub('_', skill.id).strip('_') or 'skill'}"


def skill_schemas(card: AgentCard) -> dict[str, dict[str, Any]]:
    """Skill id -> ``{"inputSchema", "outputSchema"?}`` from the card's schema extension (MODX's
    own, :data:`SKILL_SCHEMAS`), when it has one."""
    for extension in card.capabilities.extensions:
        if extension.uri == SKILL_SCHEMAS:
            found = plain(json_format.MessageToDict(extension.params)).get("skills")
            if isinstance(found, dict):
                return {k: v for k, v in found.items() if isinstance(v, dict)}
    return {}
