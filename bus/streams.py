"""The only place that builds stream and group names (see DESIGN.md, "Streams and delivery")."""

from __future__ import annotations

PREFIX = "modx"
RESULTS = f"{PREFIX}.results"
EVENTS = f"{PREFIX}.events"
ORCHESTRATOR_GROUP = "orchestrator"
DLQ_SUFFIX = ".dlq"
# A sentinel key: its value names the Redis data's lifetime (``Transport.incarnation``).
INCARNATION = f"{PREFIX}.incarnation"


def tasks(capability: str) -> str:
    """The task stream of a capability; its consumer group has the capability's name."""
    return f"{PREFIX}.tasks.{capability}"


def dlq(stream: str) -> str:
    """The dead-letter stream of a stream."""
    return stream + DLQ_SUFFIX


def is_dlq(stream: str) -> bool:
    """True for a dead-letter stream."""
    return stream.endswith(DLQ_SUFFIX)


def inbox(agent_id: str) -> str:
    """The stream of tasks pinned to one agent (a step with ``agent``); its group is the id."""
    return f"{PREFIX}.agents.{agent_id}"


# Topics of the envelopes that agents send to ``RESULTS`` besides results and errors.
TASK_STARTED = "task.started"
