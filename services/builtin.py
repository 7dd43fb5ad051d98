"""The built-in agents and workflows that ``modx up`` starts and registers."""

from __future__ import annotations

import importlib
import logging
import shutil

from agents.sdk import Agent
from services.orchestrator import workflows
from services.orchestrator.definitions import parse_definition
from services.runtime import Runtime

log = logging.getLogger(__name__)

# module:attribute of each built-in agent, and what it needs besides Python packages.
BUILTIN_AGENTS = {
    "agents.legal.agent:agent": "swipl",
    "agents.models.embed_agent:agent": None,
}


def builtin_agents() -> list[Agent]:
    """The built-in agents whose dependencies are installed (the others are named in the log)."""
    found: list[Agent] = []
    for target, binary in BUILTIN_AGENTS.items():
        if binary is not None and shutil.which(binary) is None:
            log.warning(
                "built-in agent %s needs %s, which is not installed; skipped", target, binary
            )
            continue
        module, _, attribute = target.partition(":")
        try:
            found.append(getattr(importlib.import_module(module), attribute))
        except ImportError as exc:
            log.warning("built-in agent %s is not available: %s", target, exc)
    return found


async def builtin_workflows(runtime: Runtime) -> None:
    """Register the built-in workflow definitions (a no-op when they are already there)."""
    from agents.legal.workflow import SARA_ENTAIL, SARA_TAX

    async with runtime.sessions() as session, session.begin():
        await workflows.register(session, parse_definition(SARA_TAX))
        await workflows.register(session, parse_definition(SARA_ENTAIL))
    await runtime.throttle.definitions_changed()  # committed: a new version may be among them
