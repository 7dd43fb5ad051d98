"""HTTP agents report results of tasks they accepted with 202."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from bus.envelope import Envelope, Kind
from services.api.deps import AgentDep, RuntimeDep, SessionDep
from services.api.errors import ApiError
from services.api.schemas import TaskResult
from services.db.models import EventRow, StepRow
from services.orchestrator.authenticity import Refusal
from services.orchestrator.remote import answer_envelope

router = APIRouter(prefix="/v1", tags=["tasks"])


@router.post("/tasks/{task_id}/result")
async def report_result(
    task_id: str, body: TaskResult, principal: AgentDep, runtime: RuntimeDep, session: SessionDep
) -> dict[str, object]:
    """Record an HTTP agent's answer to a task that was dispatched to it."""
    sent = (
        await session.execute(
            select(EventRow)
            .where(EventRow.envelope_id == task_id, EventRow.type == "message.sent")
            .limit(1)
        )
    ).scalar_one_or_none()
    mine = sent is not None and sent.run_id is not None
    if mine and sent is not None and sent.agent_id != principal.agent_id:
        step = await session.get(StepRow, (sent.run_id, sent.step_id or ""))
        mine = step is not None and step.agent_id == principal.agent_id
    if not mine or sent is None or sent.run_id is None:
        # Another agent's task answers as one never dispatched: its id tells nothing.
        raise ApiError(404, "task_unknown", f"task {task_id!r} was never dispatched to you")
    task = Envelope(
        id=task_id,
        kind=Kind.TASK,
        topic=str(sent.data.get("topic", "")),
        sender="orchestrator",
        run_id=sent.run_id,
        step_id=sent.step_id,
        attempt=int(sent.data.get("attempt", 1)),
        correlation_id=sent.run_id,
    )
    orchestrator = runtime.orchestrator
    sender = await orchestrator.authenticator.identity(principal.agent_id or "")
    if sender is None:
        raise ApiError(403, "forbidden", "this agent is no longer registered")
    answer = answer_envelope(task, sender.agent_id, body.model_dump(exclude_none=True))
    accepted = await orchestrator.in_run(
        sent.run_id, lambda ctx: orchestrator.engine.on_message(ctx, answer, sender)
    )
    if isinstance(accepted, Refusal):
        raise ApiError(409, "not_current", str(accepted))
    return {"accepted": bool(accepted), "task_id": task_id}
