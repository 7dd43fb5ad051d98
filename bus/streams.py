"""The only place that builds stream, group and key names (see DESIGN.md, "Streams and delivery").

Key layout on Redis Cluster: a stream's own name is its hash tag. A stream name holds no
braces, so Redis hashes all of it; every key that belongs with a stream (its dead-letter
stream, its ``publish_unique`` markers) wraps the stream's name in braces, and Redis hashes
only what is inside them. So a capability's task stream, its consumer group (which lives in
the stream key), its dead-letter stream and its markers share one slot, and can be touched by
one Lua script or one MULTI, while different streams spread over the cluster's slots.
"""

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


def audience(capability: str) -> str:
    """The key naming whose tasks a capability's task stream has carried (``shared``, or one
    tenant): in the stream's slot, so it goes when the stream's data goes."""
    return f"{tagged(tasks(capability))}.audience"


def result_partition(index: int) -> str:
    """The results of one partition of the runs, read only by the replica that owns the
    partition (group ``ORCHESTRATOR_GROUP``): a task's ``reply_to``, and where a replica
    forwards an answer that reached ``RESULTS``."""
    return f"{RESULTS}.{index}"


def reply_stream(reply_to: str | None) -> str:
    """Where an answer to a task goes: the task's ``reply_to`` when it names a partition
    stream of ``RESULTS``, else ``RESULTS`` (a task sent before replies were routed, or a
    ``reply_to`` naming anything else: agents never write anywhere a task tells them)."""
    if reply_to is not None:
        base, _, index = reply_to.rpartition(".")
        if base == RESULTS and index.isascii() and index.isdigit():
            return reply_to
    return RESULTS


def control(agent_id: str) -> str:
    """The stream of control messages to one agent (cancels); its group is the agent's id.

    Apart from the inbox: an agent whose task budget is used up pauses its task streams, and
    a cancel must still reach it then.
    """
    return f"{PREFIX}.control.{agent_id}"


def inbox(agent_id: str) -> str:
    """The stream of tasks pinned to one agent (a step with ``agent``); its group is the id."""
    return f"{PREFIX}.agents.{agent_id}"


def tagged(stream: str) -> str:
    """``stream`` as a hash tag: a key that starts with it lives in the stream's slot.

    Raises:
        ValueError: ``stream`` holds a brace, so it would not hash as a whole.
    """
    if "{" in stream or "}" in stream:
        raise ValueError(f"stream names hold no braces: {stream!r}")
    return "{" + stream + "}"


def dlq(stream: str, cluster: bool = False) -> str:
    """The dead-letter stream of a stream: ``<stream>.dlq`` (DESIGN.md); on a Redis Cluster
    ``{<stream>}.dlq``, so that it shares the stream's slot (dead-lettering is one script).

    A dead-letter stream's own (where the audit puts entries with forged ids, ``bus.audit``)
    is ``<it>.dlq`` in either mode: the name is in its stream's slot already. No task stream
    is named so (a capability name cannot end in ``.dlq``)."""
    if is_dlq(stream):
        return stream + DLQ_SUFFIX
    return (tagged(stream) if cluster else stream) + DLQ_SUFFIX


def is_dlq(name: str) -> bool:
    """True for the name of a dead-letter stream (either form)."""
    return name.endswith(DLQ_SUFFIX) and len(name) > len(DLQ_SUFFIX)


def dlq_of(name: str) -> str:
    """The stream whose dead-letter stream ``name`` is (the inverse of ``dlq``)."""
    base = name[: -len(DLQ_SUFFIX)]
    return base[1:-1] if base.startswith("{") and base.endswith("}") else base


DLQ_PATTERN = "*" + DLQ_SUFFIX
"""A ``SCAN MATCH`` pattern for every dead-letter stream."""


def removals(dead_letters: str) -> str:
    """The key counting the entries MODX itself removed from a dead-letter stream (replayed,
    discarded, trimmed): any other removal was an agent's (``bus.audit``). Braced, so that no
    stream (nor an agent's key pattern) is ever named so; in the stream's slot."""
    if dead_letters.startswith("{"):  # a cluster's ``{<stream>}.dlq``: its slot already
        return dead_letters + ".removed"
    return tagged(dead_letters) + ".removed"


def screened(dead_letters: str) -> str:
    """The key holding the last entry id of a dead-letter stream whose size the audit has
    checked (``bus.audit``); braced like ``removals``."""
    if dead_letters.startswith("{"):
        return dead_letters + ".screened"
    return tagged(dead_letters) + ".screened"


def published_marker(stream: str, envelope_id: str) -> str:
    """The key that records that ``publish_unique`` put an envelope on ``stream``."""
    return f"{tagged(stream)}.published.{envelope_id}"


# Topics of the envelopes that agents send about a task (to its ``reply_to``), besides its
# result or error.
TASK_STARTED = "task.started"
TASK_HEARTBEAT = "task.heartbeat"
"""The handler is alive (``TaskContext.heartbeat``): a step's ``heartbeat_timeout_s`` restarts."""
TASK_PROGRESS = "task.progress"
"""Progress of a running task (``TaskContext.progress``): a ``step.progress`` event of the run."""
TASK_INPUT_REQUIRED = "task.input_required"
"""The holder asks a question (``{"question", "conversation"}``): the step waits for a signal
that answers it (``services.orchestrator.conversation``)."""
TASK_RELEASED = "task.released"
"""The holder gives the task's delivery back to the bus (the gateway sends it for an agent
whose connection ended): another agent of the capability's group may answer it now."""
AGENT_EVENTS = frozenset(
    {TASK_STARTED, TASK_HEARTBEAT, TASK_PROGRESS, TASK_INPUT_REQUIRED, TASK_RELEASED}
)
"""Every event an agent may send about a task it holds."""
# The topic of the event the orchestrator sends to the holder of a task nobody waits for now.
TASK_CANCEL = "task.cancel"
