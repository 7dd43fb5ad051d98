"""The orchestrator and the holder of a task in flight: cancels out, heartbeats and progress in.

- **Cancel.** When nobody waits for a task any more (its run was cancelled or ended, or it was
  sent again elsewhere), its holder gets a signed ``task.cancel`` event naming it
  (``causation_id``): on its control stream for a bus agent; through the remote dispatcher for
  an agent MODX calls (POSTed to an HTTP agent's endpoint). A task whose holder is not known
  yet (on a capability's shared stream, not started) is cancelled when its holder announces
  it: a ``task.started`` for a step that no longer waits is answered with a cancel. Whatever
  the holder still sends is refused or ignored by the usual rules (``authenticity``,
  ``states``): no result is recorded after a cancel.
- **Heartbeats.** A step with ``heartbeat_timeout_s`` (its own, or its remote transport's
  default: ``Engine.heartbeat_defaults``) is due that long after its task started
  or its holder last sent a heartbeat or progress, and never later than the attempt's own
  deadline. A heartbeat that does not come in time sends the task again, as the same attempt
  and with the same deadline (the old holder gets a cancel): a dead or stuck agent costs the
  heartbeat timeout, not the step's whole timeout.
- **Resumed.** A task sent again as the same attempt to the same remote agent whose remote
  work the step knows (``conversation.TASK_RESUME``) follows that work: the task it supersedes
  is noted in ``meta.resumed``, and its cancel says ``"resumed": true``. Its delivery then
  stops on MODX's side only: its holder may be alive, only late with its heartbeats, and the
  peer must not cancel the work the new task follows. Any other cancel (the run cancelled, the
  step timed out, the task sent to another agent) tells the peer.
- **Progress.** A ``task.progress`` event becomes a ``step.progress`` event of the run, unless
  it or a later report of the same task was recorded already: answers are handled concurrently
  and a report can be delivered again after a failed write, so a report is recorded once and
  the last ``step.progress`` of a step is its holder's latest report (envelope ids are UUIDv7,
  in creation order per process).

See docs/protocol.md, "Cancellation, heartbeats and progress".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bus import streams
from bus.envelope import Envelope, Kind
from services.orchestrator.context import RunContext
from services.orchestrator.definitions import StepDefinition
from services.orchestrator.records import Step
from services.orchestrator.routing import REMOTE_PREFIX, remote_agent
from services.orchestrator.states import StepState

ORCHESTRATOR = "orchestrator"
VIA_REMOTE = "remote"
"""``Step.meta`` key: the task went to a remote agent (HTTP...: the dispatcher cancels it)."""
SHARED_STREAM = "shared_stream"
"""``Step.meta`` key: the task went to its capability's shared stream, where the bus hands a
dead consumer's delivery to another agent of the group (its lease sends nothing again)."""
HELD = "held"
"""``Step.meta`` key: the task's agent went offline while a consumer of its inbox held the
task's delivery (``holding``): ``{"recheck_at": when that is looked at again, "due_at": what
``due_at`` was before}``; ``due_at`` is the earlier of the two."""
SUPERSEDED = "superseded"
"""``Step.meta`` key: tasks sent again for the same attempt (their agent went offline), with
the agent that held each."""
HEARTBEAT_TIMEOUT = "heartbeat_timeout_s"
"""``Step.meta`` key: the heartbeat timeout of the task in flight, when the step's definition
sets none and its transport's default applies (an A2A agent's)."""
RESUMED = "resumed"
"""``Step.meta`` key: the superseded tasks whose remote work the task sent after them follows;
and the flag of their ``task.cancel``: stop following, but leave the remote work running."""
TASK_DEADLINE = "task_deadline"
"""``Step.meta`` key: the attempt's deadline, kept while heartbeats move ``due_at`` before it."""
CANCEL_TTL_S = 300.0
"""How long a cancel without a task deadline may wait for its agent to read it."""
MAX_MESSAGE = 1000
"""Characters of a progress message that are kept."""
LAST_PROGRESS = "last_progress"
"""``Step.meta`` key: ``{task id: envelope id}`` of the latest progress report recorded, per
task of the attempt."""
PROGRESS_COUNT = "progress_count"
"""``Step.meta`` key: ``{task id: reports recorded}``, per task of the attempt."""
MAX_PROGRESS = 1000
"""``step.progress`` events recorded per task; later reports count as heartbeats only. Each
report is a row (its data up to MODX_MAX_ANSWER_BYTES) in the database every tenant shares:
without a bound, one agent reporting in a loop filled it."""
MAX_PROGRESS_DATA = 64 * 1024
"""Bytes (as JSON) of a report's ``data`` that are kept; larger data is left out."""

Sign = Callable[[Envelope], Envelope]


def dispatched(row: Step, destination: str, deadline: datetime, heartbeat: float | None) -> None:
    """Note on the step what its cancel and heartbeats will need (part of ``row.meta``);
    ``heartbeat``: the task's heartbeat timeout, if any."""
    dropped = ("waiting", VIA_REMOTE, SHARED_STREAM, TASK_DEADLINE, HELD, HEARTBEAT_TIMEOUT)
    meta = {k: v for k, v in row.meta.items() if k not in dropped}
    if remote_agent(destination) is not None:
        meta[VIA_REMOTE] = True
    elif destination == streams.tasks(row.capability):
        meta[SHARED_STREAM] = True
    if heartbeat is not None:
        meta[TASK_DEADLINE] = deadline.isoformat()
        meta[HEARTBEAT_TIMEOUT] = heartbeat
    row.meta = meta


def heartbeat_timeout(row: Step, step_def: StepDefinition) -> float | None:
    """The heartbeat timeout of ``row``'s task in flight: the step's own, else the default of
    the transport it went through (noted at dispatch), else None."""
    if step_def.heartbeat_timeout_s is not None:
        return step_def.heartbeat_timeout_s
    found = row.meta.get(HEARTBEAT_TIMEOUT)
    return float(found) if isinstance(found, int | float) else None


def cancel(
    ctx: RunContext,
    row: Step,
    reason: str,
    sign: Sign,
    conversation: dict[str, Any] | None = None,
) -> None:
    """Tell the holder of ``row``'s task, if known, that nobody waits for it any more.

    ``conversation``: the remote conversation of a step that waits for an answer (nothing is
    in flight then: the holder's transport cancels it by this handle)."""
    if row.task_id is None or row.agent_id is None:
        return  # not started: its holder gets a cancel when it announces the task
    remote = bool(row.meta.get(VIA_REMOTE))
    send_cancel(ctx, row, row.task_id, row.agent_id, remote, reason, sign, conversation)


def send_cancel(
    ctx: RunContext,
    row: Step,
    task_id: str,
    agent_id: str,
    remote: bool,
    reason: str,
    sign: Sign,
    conversation: dict[str, Any] | None = None,
    *,
    resumed: bool = False,
) -> None:
    """Queue a ``task.cancel`` of ``task_id`` for ``agent_id`` (through the outbox);
    ``resumed``: the task sent after it follows its remote work (the peer is not told)."""
    deadline = task_deadline(row) or ctx.now + timedelta(seconds=CANCEL_TTL_S)
    destination = REMOTE_PREFIX + agent_id if remote else streams.control(agent_id)
    envelope = Envelope(
        kind=Kind.EVENT,
        topic=streams.TASK_CANCEL,
        sender=ORCHESTRATOR,
        recipient=agent_id,
        run_id=ctx.run.id,
        step_id=row.step_id,
        attempt=row.attempt,
        correlation_id=ctx.run.id,
        causation_id=task_id,
        deadline=max(deadline, ctx.now + timedelta(seconds=1)),
        payload={"task_id": task_id, "reason": reason}
        | ({"conversation": conversation} if conversation is not None else {})
        | ({RESUMED: True} if resumed else {}),
        created_at=ctx.now,
    )
    ctx.send(destination, sign(envelope))


def resume(row: Step, task_id: str) -> None:
    """Note that the task now out with ``row`` follows the remote work of ``task_id``."""
    row.meta = {**row.meta, RESUMED: [*row.meta.get(RESUMED, ()), task_id]}


def resumed(row: Step, task_id: str) -> bool:
    """Whether the task now out with ``row`` follows the remote work of ``task_id``."""
    return task_id in row.meta.get(RESUMED, ())


def hold(row: Step, recheck: datetime, deadline: datetime) -> None:
    """Leave ``row``'s task with its offline agent, whose inbox holds it, until ``recheck``;
    whatever was due earlier (a heartbeat timeout, the deadline) stays due then."""
    due = _held(row, "due_at") or row.due_at or deadline
    row.meta = {
        **row.meta,
        HELD: {"recheck_at": recheck.isoformat(), "due_at": due.isoformat()},
        TASK_DEADLINE: deadline.isoformat(),  # ``due_at`` may move before it
    }
    row.due_at = min(recheck, due, deadline)


def recheck_due(ctx: RunContext, row: Step) -> bool:
    """Whether ``row`` holds its task for an offline agent and the time to look again came
    (else what is due is what was due before: ``unhold`` it, then handle that)."""
    if HELD not in row.meta:
        return False
    recheck = _held(row, "recheck_at")
    return recheck is None or ctx.now >= recheck


def unhold(row: Step) -> None:
    """Stop holding ``row``'s task for its agent: ``due_at`` is what it was before."""
    if HELD in row.meta:
        row.due_at = _held(row, "due_at") or task_deadline(row)
        row.meta = {k: v for k, v in row.meta.items() if k != HELD}


def _held(row: Step, key: str) -> datetime | None:
    value = row.meta.get(HELD)
    found = value.get(key) if isinstance(value, dict) else None
    return datetime.fromisoformat(found) if isinstance(found, str) else None


def beat(ctx: RunContext, row: Step, step_def: StepDefinition) -> None:
    """The holder is alive (started, heartbeat, progress): the heartbeat timeout starts again
    (and, for a task held for its offline agent, watches the holder from now on)."""
    timeout = heartbeat_timeout(row, step_def)
    if timeout is None or row.status != StepState.RUNNING:
        return
    row.meta = {k: v for k, v in row.meta.items() if k != HELD}
    limit = task_deadline(row)
    due = ctx.now + timedelta(seconds=timeout)
    row.due_at = min(due, limit) if limit is not None else due


def heartbeat_lost(ctx: RunContext, row: Step, step_def: StepDefinition) -> bool:
    """Whether ``row`` is due because its heartbeats stopped (and its attempt has time left)."""
    if heartbeat_timeout(row, step_def) is None or row.status != StepState.RUNNING:
        return False
    limit = task_deadline(row)
    return limit is not None and ctx.now < limit


def progress(ctx: RunContext, row: Step, envelope: Envelope) -> bool:
    """Record a holder's ``task.progress`` as a ``step.progress`` event; False (nothing
    recorded) when this report, or a later one of the same task, was recorded before.

    Kept per task of the attempt (the current one and those it superseded, whose holders may
    still report): kept for one task only, a report of another task in between let the first
    task's report, delivered again, be recorded twice. Writes of a run are serialized by its
    version, so a report passes here once."""
    task_id = envelope.causation_id or ""
    last = _per_task(row.meta.get(LAST_PROGRESS))
    if task_id in last and envelope.id <= last[task_id]:
        return False
    counted = _per_task(row.meta.get(PROGRESS_COUNT))
    recorded = int(counted.get(task_id, 0))
    if recorded >= MAX_PROGRESS:
        return False
    tasks = {row.task_id, task_id, *row.meta.get(SUPERSEDED, {})}  # older attempts': dropped
    row.meta = {
        **row.meta,
        LAST_PROGRESS: {t: v for t, v in last.items() if t in tasks} | {task_id: envelope.id},
        PROGRESS_COUNT: {t: n for t, n in counted.items() if t in tasks} | {task_id: recorded + 1},
    }
    payload = envelope.payload if isinstance(envelope.payload, dict) else {}
    message = payload.get("message")
    data: dict[str, Any] = {
        "message": message[:MAX_MESSAGE] if isinstance(message, str) else "",
        "data": payload.get("data"),
    }
    size = len(json.dumps(data["data"], separators=(",", ":")))
    if size > MAX_PROGRESS_DATA:
        data["data"] = None
        data["dropped"] = f"data of {size} bytes, over {MAX_PROGRESS_DATA}"
    if recorded + 1 == MAX_PROGRESS:
        data["last"] = f"the last of {MAX_PROGRESS} reports recorded for this task"
    ctx.event("step.progress", row, agent_id=envelope.sender, envelope_id=envelope.id, data=data)
    return True


def _per_task(value: Any) -> dict[str, Any]:
    """A per-task record of ``Step.meta``; ``[task id, value]``, as runs recorded before it
    was kept per task, is that task's."""
    if isinstance(value, dict):
        return value
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
        return {value[0]: value[1]}
    return {}


def task_deadline(row: Step) -> datetime | None:
    """The deadline of the attempt in flight (heartbeats keep ``due_at`` before it)."""
    value = row.meta.get(TASK_DEADLINE)
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return row.due_at if row.status in (StepState.SCHEDULED, StepState.RUNNING) else None
