"""Step kinds: one module per kind of step, behind one small interface (``base.StepKind``).

A step's kind is what its definition names (``StepDefinition.kind``): ``capability`` (a task
sent to an agent), ``for_each`` (a fan-out of capability tasks), ``wait`` (a signal from
outside), ``sleep`` (a durable timer), ``switch`` (one branch of steps taken, the others
skipped), ``workflow`` (a sub-workflow: a child run) and ``loop`` (a body run again, one child
run per iteration, until a condition holds). The engine (``services.orchestrator.engine``)
stays the coordinator: it creates the rows, tests ``when``, orders steps by their
dependencies, finishes the run, and calls the kind of each step through seven hooks:

=============  ===========================================================================
hook           when the engine calls it
=============  ===========================================================================
``start``      the step is ``pending``, its dependencies are done and its ``when`` holds
``drive``      the step is ``running`` and something changed in the run (a fan-out fans in)
``on_timer``   the step's ``due_at`` has passed (a timeout, a backoff's end, a sleep's end)
``on_signal``  ``POST /v1/runs/{id}/signals/{name}`` reached the run while the step runs
``on_child``   a child run the step started has ended (``Engine.child_finished``)
``on_cancel``  the run ends while the step has not (a cancel, a failure, the deadline)
``on_skip``    the step ended ``skipped`` before it started (``Host.skip``)
=============  ===========================================================================

A kind changes a row only through ``RunContext.move_step`` (the explicit rules of
``states.py``), records what it does as events, and ends an attempt through the engine
(``Host.succeed``, ``Host.attempt_failed``: retries, timeouts and ``on_error`` are the same for
every kind). Timers are ``due_at`` on the step's row: the orchestrator's sweep finds them in the
database, so they outlive the process that set them.

To add a kind: a module with a ``StepKind`` subclass, its field on ``StepDefinition`` (and its
checks in ``definitions.check``), its name in ``StepDefinition.kind``, and one entry in
``kinds`` below.
"""

from __future__ import annotations

from collections.abc import Callable

from bus.envelope import Envelope
from services.orchestrator.steps.base import ChildOutcome, Host, SignalRefused, StepKind
from services.orchestrator.steps.capability import Capability
from services.orchestrator.steps.fan_out import FanOut
from services.orchestrator.steps.loop import Loop
from services.orchestrator.steps.sleep import Sleep
from services.orchestrator.steps.subworkflow import SubWorkflow
from services.orchestrator.steps.switch import Switch
from services.orchestrator.steps.wait import Wait

__all__ = ["Capability", "ChildOutcome", "FanOut", "Host", "SignalRefused", "StepKind", "kinds"]


def kinds(host: Host, sign_task: Callable[[Envelope], Envelope]) -> dict[str, StepKind]:
    """Every kind, by the name ``StepDefinition.kind`` gives."""
    capability = Capability(host, sign_task)
    found: list[StepKind] = [
        capability,
        FanOut(host, capability),
        Wait(host),
        Sleep(host),
        Switch(host),
        SubWorkflow(host),
        Loop(host),
    ]
    return {kind.name: kind for kind in found}
