"""The MODX agent SDK: declare typed capabilities and serve them on the bus or over HTTP.

::

    from agents.sdk import Agent, FatalError

    agent = Agent("tax-reasoner", version="1.0.0")

    @agent.capability("legal.infer", consumes=["tax:CaseFacts"], produces=["tax:TaxAnswer"])
    async def infer(request: InferRequest) -> InferResult: ...

    if __name__ == "__main__":
        agent.run_sync()

Tests use ``agents.sdk.testing.AgentTestEnvironment``; HTTP agents ``agent.http_app()`` and
``agents.sdk.http_agent.report_result``.
"""

from agents.sdk.agent import Agent
from agents.sdk.context import TaskContext
from agents.sdk.definition import CapabilityDefinition
from agents.sdk.errors import (
    AgentError,
    FatalError,
    LoadError,
    RequestRejected,
    RetryableError,
    ServerUnavailable,
    SetupError,
    TaskError,
)
from agents.sdk.loader import load_agent
from agents.sdk.settings import AgentSettings

__all__ = [
    "Agent",
    "AgentError",
    "AgentSettings",
    "CapabilityDefinition",
    "FatalError",
    "LoadError",
    "RequestRejected",
    "RetryableError",
    "ServerUnavailable",
    "SetupError",
    "TaskContext",
    "TaskError",
    "load_agent",
]
