"""The step-kind interface: what a kind of step does when it starts, is driven, is due, or
receives a signal; and ``Host``, what the engine offers the kinds in return.

See the package docstring (``services.orchestrator.steps``) for how the engine uses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from services.orchestrator import refs
from services.orchestrator.capacity import Capacity
from services.orchestrator.context import RunContext
from services.orchestrator.definitions import Condition, StepDefinition
from services.orchestrator.limits import Limits
from services.orchestrator.records import Step
from services.orchestrator.routing import Router
from services.orchestrator.states import StepState


class Host(Protocol):
    """What the engine offers every kind: the scope, and the rules for ending an attempt."""

    router: Router
    limits: Limits
    default_timeout_s: float
    heartbeat_defaults: Mapping[str, float]  # heartbeat_timeout_s by remote transport
    capacity: Capacity | None
    partitions: int | None  # runs' partitions, for tasks' ``reply_to`` (None: no routing)

    def scope(self, ctx: RunContext) -> dict[str, Any]:
        """The run's input and the finished steps' outputs (what references resolve against)."""
        ...

    def test(self, condition: Condition, scope: dict[str, Any]) -> bool:
        """Whether ``condition`` holds in ``scope`` (as ``when`` does); raises ``RefError`` when
        it names nothing."""
        ...

    def skip(self, ctx: RunContext, row: Step, reason: str) -> None:
        """End a ``pending`` step ``skipped`` with ``reason``, and call its kind's ``on_skip``."""
        ...

    def succeed(self, ctx: RunContext, row: Step, output: Any, **data: Any) -> None:
        """End the step ``succeeded`` with ``output``, and extend the ledger with it."""
        ...

    def attempt_failed(
        self, ctx: RunContext, row: Step, error: dict[str, Any], timed_out: bool = False
    ) -> None:
        """End the step's attempt with ``error``: retried, failed, timed out, or (``on_error:
        continue``) succeeded with the error as its output."""
        ...

    async def recheck_held(self, ctx: RunContext, row: Step) -> None:
        """Look again at a task whose offline agent's inbox still held it (``held``)."""
        ...


@dataclass(frozen=True)
class ChildOutcome:
    """How a child run ended: its id, final state, output and error."""

    run_id: str
    status: str
    output: Any = None
    error: dict[str, Any] | None = None


class SignalRefused(ValueError):
    """A signal's body that the waiting step's schema refuses; ``path`` names the field."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


class StepKind:
    """One kind of step. Subclasses set ``name`` and override the hooks they need.

    Every hook changes rows only through ``ctx.move_step`` (the transition rules of
    ``services.orchestrator.states``) and the host's ``succeed`` / ``attempt_failed``.
    """

    name: ClassVar[str]

    def __init__(self, host: Host) -> None:
        self.host = host

    async def start(
        self, ctx: RunContext, step: StepDefinition, row: Step, scope: dict[str, Any]
    ) -> bool:
        """The step's dependencies are done and its ``when`` holds: begin it (``pending`` to
        ``scheduled``, ``running`` or an end). True when the engine should look at the other
        steps again (this one ended, or may end in ``drive``)."""
        raise NotImplementedError

    def unresolved(self, ctx: RunContext, row: Step, exc: refs.RefError) -> bool:
        """A step whose input (or ``for_each``) names something that is not there, as it
        starts. A skipped step's output: skipped too (its branch was not taken). Anything else
        (a field the run's input or a step's output lacks) fails it with ``bad_reference``, not
        retried, as a fan-out's item does: skipping it made a run with a misspelt field
        succeed without doing anything. True, as ``start``'s answer (the step ended)."""
        if isinstance(exc, refs.NoOutput) and row.status == StepState.PENDING:
            self.host.skip(ctx, row, str(exc))
        else:
            error = {"code": "bad_reference", "message": str(exc), "retryable": False}
            self.host.attempt_failed(ctx, row, error)
        return True

    def on_skip(self, ctx: RunContext, step: StepDefinition, row: Step) -> None:
        """The step ended ``skipped`` before it started (its ``when`` false, a skipped step's
        output read, a branch not taken): skip what would otherwise run only through it."""

    async def drive(self, ctx: RunContext, step: StepDefinition, row: Step) -> bool:
        """Called while the step is ``running``, after anything changed in the run; True when
        the step's state changed."""
        return False

    async def on_timer(self, ctx: RunContext, step: StepDefinition, row: Step) -> None:
        """The step's ``due_at`` has passed (it is not ``pending``): a timeout, the end of a
        backoff, a sleep's end."""

    def on_cancel(self, ctx: RunContext, step: StepDefinition, row: Step, reason: str) -> None:
        """The run ends (cancelled, failed or past its deadline) while this step has not: undo
        what it started outside the run (the engine then moves it to ``cancelled``)."""

    def on_child(
        self, ctx: RunContext, step: StepDefinition, row: Step, child: ChildOutcome
    ) -> bool:
        """A child run this step started has ended (``child``); True when the step took it
        (a late child, of an attempt already over, is not taken)."""
        return False

    def on_signal(
        self, ctx: RunContext, step: StepDefinition, row: Step, name: str, body: Any, sender: str
    ) -> bool:
        """A signal ``name`` reached the run while this step is ``running``; True when the step
        took it. Raises ``SignalRefused`` for a body it waits for but refuses."""
        return False

    def on_early_signal(
        self, ctx: RunContext, step: StepDefinition, row: Step, name: str, body: Any, sender: str
    ) -> bool:
        """A signal ``name`` that no running step took reached the run while this step has not
        started (``pending``, or ``retrying`` between attempts); True when the step keeps it
        for when it starts. Raises ``SignalRefused`` for a body it would refuse."""
        return False
