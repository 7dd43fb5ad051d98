"""Workflow definitions: the pydantic model, and the checks that make a definition a DAG.

Every problem is reported with the JSON path at fault, relative to the definition
(``$.steps[2].input.facts``), so the API can answer 422 naming it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from graphlib import CycleError, TopologicalSorter
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from agents.sdk.json_schema import SchemaRefused, check_schema
from services.db.ranges import Version
from services.orchestrator import refs

SIGNAL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}$"
STEP_ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_\-]{0,99}$"
CAPABILITY_PATTERN = r"^[A-Za-z][A-Za-z0-9_\-]*(\.[A-Za-z0-9_\-]+)*$"


class Strict(BaseModel):
    """Unknown fields are errors: a typo in a definition must not pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class RetryPolicy(Strict):
    """How a step's failed or timed-out attempts are retried."""

    max_attempts: int = Field(default=1, ge=1, le=100)
    backoff_s: float = Field(default=1.0, ge=0, le=3600)
    backoff_factor: float = Field(default=2.0, ge=1, le=10)
    max_backoff_s: float = Field(default=300.0, ge=0, le=86400)
    jitter: float = Field(default=0.2, ge=0, le=1)
    retry_on: list[str] | None = None
    """Error codes worth retrying; None means: whatever the agent marks retryable."""
    no_retry_on: list[str] = Field(default_factory=list)

    def delay(self, attempt: int, rand: float) -> float:
        """Seconds to wait after failed ``attempt``; ``rand`` in [0, 1) spreads retries out."""
        base = min(self.max_backoff_s, self.backoff_s * self.backoff_factor ** (attempt - 1))
        return base * (1 - self.jitter + 2 * self.jitter * rand)

    def retries(self, code: str | None, retryable: bool) -> bool:
        """Whether an error with this code and flag is retried (attempts aside)."""
        if not retryable or (code is not None and code in self.no_retry_on):
            return False
        return self.retry_on is None or code in self.retry_on


Op = Literal["truthy", "falsy", "equals", "not_equals", "gt", "gte", "lt", "lte", "in", "exists"]


class Condition(Strict):
    """``when``: run the step only if the referenced value passes the test."""

    ref: str
    op: Op = "truthy"
    value: Any = None
    short: bool = Field(default=False, exclude=True)
    """Written as a bare reference (errors then point at ``when`` itself)."""


class _OrBareReference:
    """In the published schema, a condition may also be written as a bare ``$.`` reference
    (a truthy test), as the validators of ``when`` accept."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        bare = {"type": "string", "pattern": r"^\$\.", "description": "a truthy test of this"}
        return {"anyOf": [handler(core_schema), bare]}


When = Annotated[Condition, _OrBareReference]


class WaitSpec(Strict):
    """``wait``: the step waits for ``POST /v1/runs/{id}/signals/{signal}``; the signal's body
    (checked against ``schema``) is its output."""

    signal: str = Field(pattern=SIGNAL_PATTERN)
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    """A JSON Schema the body must match (422 naming the field that does not); checked by
    ``check`` (``agents.sdk.json_schema``)."""
    timeout_s: float | None = Field(default=None, gt=0, le=365 * 86400)
    """Without a signal by then the step times out; none: it waits until the run's deadline."""
    prompt: str | None = Field(default=None, max_length=4000)
    """What the step asks of whoever sends the signal (shown by the A2A server's input-required
    status, with the schema)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SleepSpec(Strict):
    """``sleep``: the step ends after ``seconds``, or at ``until`` (an ISO 8601 time, or a
    ``$.`` reference to one); a durable timer."""

    seconds: float | None = Field(default=None, ge=0, le=365 * 86400)
    until: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _one_of(self) -> SleepSpec:
        if (self.seconds is None) == (self.until is None):
            raise ValueError("give exactly one of seconds and until")
        if self.until is not None and not refs.is_ref(self.until) and timestamp(self.until) is None:
            raise ValueError("until must be an ISO 8601 time with a zone, or a $. reference")
        return self


class LoopSpec(Strict):
    """``loop``: run a body (a registered ``workflow``, or inline ``steps``) as one child run
    per iteration, until ``until`` holds over the last iteration's ``$.output``, at most
    ``max_iterations`` times. The body's ``input`` may read ``$.iteration`` (1, 2, ...) and
    ``$.previous`` (the last iteration's output; null at first)."""

    workflow: str | None = Field(default=None, pattern=NAME_PATTERN)
    version: Version | None = None
    steps: list[StepDefinition] | None = Field(default=None, min_length=1, max_length=1000)
    output: Any = None
    """An inline body's output mapping (as a workflow's ``output``)."""
    input: Any = Field(default_factory=dict)
    until: Condition
    max_iterations: int = Field(ge=1, le=1000)

    @field_validator("until", mode="before")
    @classmethod
    def _bare_reference(cls, value: Any) -> Any:
        return {"ref": value, "short": True} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_body(self) -> LoopSpec:
        if (self.workflow is None) == (self.steps is None):
            raise ValueError("give exactly one of workflow and steps (the loop's body)")
        if self.version is not None and self.workflow is None:
            raise ValueError("version goes with workflow")
        if self.output is not None and self.steps is None:
            raise ValueError("output goes with inline steps (a workflow maps its own)")
        return self


def timestamp(value: Any) -> datetime | None:
    """``value`` as a UTC datetime if it is an ISO 8601 time with a zone that UTC can hold,
    else None.

    ``9999-12-31T23:59:59-23:59`` parses, but has no UTC form (year 10000): stored as a
    step's timer, every write of its run failed, so the run stayed due for ever, at the head
    of the sweep's earliest-first list, and 500 such runs kept every other run's timers from
    being handled (``runs.due``).
    """
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
        return parsed.astimezone(UTC) if parsed.tzinfo is not None else None
    except (ValueError, OverflowError):
        return None


class SwitchCase(Strict):
    """One case of a ``switch``: when ``when`` holds (the first such case wins), the steps in
    ``then`` run and the other branches' steps are skipped."""

    when: When
    then: list[str] = Field(min_length=1, max_length=1000)

    @field_validator("when", mode="before")
    @classmethod
    def _bare_reference(cls, value: Any) -> Any:
        return {"ref": value, "short": True} if isinstance(value, str) else value


class SwitchSpec(Strict):
    """``switch``: choose one branch. Each branch lists the ids of the steps that belong to it
    (they wait for the switch); the steps of every branch not taken end ``skipped``."""

    cases: list[SwitchCase] = Field(min_length=1, max_length=100)
    default: list[str] = Field(default_factory=list, max_length=1000)
    """The steps that run when no case holds (none: nothing runs then)."""

    def branches(self) -> list[list[str]]:
        """Every branch's step ids: each case's, then the default's."""
        return [case.then for case in self.cases] + [self.default]


class StepDefinition(Strict):
    """One step: a capability call, a wait for a signal or a sleep; its input may reference
    the run and earlier steps. Exactly one of ``capability``, ``wait``, ``sleep``, ``switch``,
    ``workflow`` and ``loop``."""

    id: str = Field(pattern=STEP_ID_PATTERN)
    capability: str | None = Field(default=None, pattern=CAPABILITY_PATTERN, max_length=200)
    wait: WaitSpec | None = None
    sleep: SleepSpec | None = None
    switch: SwitchSpec | None = None
    workflow: str | None = Field(default=None, pattern=NAME_PATTERN)
    """A sub-workflow: the registered workflow of this name (the tenant's) runs as a child
    run; its output is the step's output."""
    version: Version | None = None
    """The sub-workflow's version (default: the latest when the step starts)."""
    loop: LoopSpec | None = None
    input: Any = Field(default_factory=dict)
    after: list[str] = Field(default_factory=list)
    for_each: str | None = None
    max_parallel: int | None = Field(default=None, ge=1, le=100_000)
    """For a for_each: at most this many items out at once (and never more than
    ``MODX_FOR_EACH_WINDOW``)."""
    when: When | None = None
    agent: str | None = Field(default=None, max_length=200)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    timeout_s: float | None = Field(default=None, gt=0, le=7 * 86400)
    on_error: Literal["fail", "continue"] | None = None
    """``fail`` (the default) or ``continue``: a step that fails (retries spent) succeeds
    with ``{"error": …}`` as its output, so later steps can handle it."""
    heartbeat_timeout_s: float | None = Field(default=None, ge=1, le=86400)
    """Send the task again when its holder sends no heartbeat for this long once it started
    (``services.orchestrator.in_flight``)."""
    description: str = ""

    @field_validator("when", mode="before")
    @classmethod
    def _bare_reference(cls, value: Any) -> Any:
        # ``when: "$.steps.x.output.ok"`` is short for a truthy test of that reference.
        return {"ref": value, "short": True} if isinstance(value, str) else value

    @property
    def condition(self) -> Condition | None:
        """The ``when`` condition, if any."""
        return self.when

    @property
    def kind(self) -> str:
        """The name of this step's kind (``services.orchestrator.steps``)."""
        if self.wait is not None:
            return "wait"
        if self.sleep is not None:
            return "sleep"
        if self.switch is not None:
            return "switch"
        if self.workflow is not None:
            return "workflow"
        if self.loop is not None:
            return "loop"
        return "capability" if self.for_each is None else "for_each"


class WorkflowDefinition(Strict):
    """A named, versioned DAG of steps and the mapping of the run's output."""

    name: str = Field(pattern=NAME_PATTERN)
    version: Version | None = None
    description: str = ""
    steps: list[StepDefinition] = Field(min_length=1, max_length=100_000)
    """At most ``MODX_MAX_WORKFLOW_STEPS`` when submitted (``limits.Limits``)."""
    output: Any = None
    deadline_s: float | None = Field(default=None, gt=0, le=30 * 86400)
    input_schema: dict[str, Any] | None = None
    priority: int = Field(default=0, ge=-10, le=10)
    """Where its tasks queue for a limited capability: higher first (``capacity``); a run can
    set its own (``POST /v1/runs``)."""
    concurrency_key: str | None = None
    """A ``$.input`` reference: runs with different values share a limited capability's
    places by turns."""
    _graph: dict[str, set[str]] | None = PrivateAttr(default=None)
    _by_id: dict[str, StepDefinition] | None = PrivateAttr(default=None)
    _stored: dict[str, Any] | None = PrivateAttr(default=None)

    def step(self, step_id: str) -> StepDefinition:
        """The step with this id."""
        if self._by_id is None:
            self._by_id = {step.id: step for step in self.steps}
        return self._by_id[step_id]

    def stored(self) -> dict[str, Any]:
        """The JSON a run keeps of this definition (made once; do not change it)."""
        if self._stored is None:
            self._stored = self.model_dump(mode="json", exclude_none=True, by_alias=True)
        return self._stored

    def dependencies(self) -> dict[str, set[str]]:
        """Step id -> the steps it waits for (references, for_each, when, after); computed once."""
        if self._graph is not None:
            return self._graph
        graph: dict[str, set[str]] = {}
        for step in self.steps:
            deps = set(step.after)
            for _, text in _refs_of(step):
                ref = refs.parse(text)
                if ref.step is not None:
                    deps.add(ref.step)
            graph[step.id] = deps
        for step in self.steps:
            if step.switch is not None:
                for branch in step.switch.branches():
                    for member in branch:
                        graph.setdefault(member, set()).add(step.id)
        self._graph = graph
        return graph

    def order(self) -> list[str]:
        """Step ids in a topological order."""
        return list(TopologicalSorter(self.dependencies()).static_order())

    def leaves(self) -> set[str]:
        """The steps nothing depends on: without an ``output`` mapping, the run's output is
        theirs, by id."""
        used = {dep for deps in self.dependencies().values() for dep in deps}
        return {step.id for step in self.steps if step.id not in used}


class Problem(BaseModel):
    """One thing wrong with a definition, at a JSON path."""

    path: str
    message: str


class DefinitionError(ValueError):
    """A definition that is not a valid DAG; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in problems))
        self.problems = problems


LOOP_ROOTS = ("iteration", "previous", "output")
LOOP_INPUT_ROOTS = ("iteration", "previous")  # $.output is the iteration's, for until only


def _refs_of(step: StepDefinition, base: str = "") -> list[tuple[str, str]]:
    found = [(base + ".input" + path[1:], text) for path, text in refs.walk(step.input)]
    if step.loop is not None:
        found += [(base + ".loop.input" + p[1:], t) for p, t in refs.walk(step.loop.input)]
    if step.for_each is not None:
        found.append((base + ".for_each", step.for_each))
    condition = step.condition
    if condition is not None:
        found.append((base + (".when" if condition.short else ".when.ref"), condition.ref))
    if step.sleep is not None and step.sleep.until is not None and refs.is_ref(step.sleep.until):
        found.append((base + ".sleep.until", step.sleep.until))
    if step.switch is not None:
        for index, case in enumerate(step.switch.cases):
            path = f"{base}.switch.cases[{index}].when"
            found.append((path if case.when.short else path + ".ref", case.when.ref))
    return found


KIND_FIELDS = ("capability", "wait", "sleep", "switch", "workflow", "loop")


def _kind_problems(step: StepDefinition, base: str) -> list[Problem]:
    """A step names exactly one kind, and only a capability step fans out or has an agent."""
    named = [name for name in KIND_FIELDS if getattr(step, name) is not None]
    if len(named) != 1:
        return [
            Problem(
                path=base + (f".{named[1]}" if named else ".capability"),
                message="a step has exactly one of "
                + ", ".join(KIND_FIELDS)
                + (f" (this one has {' and '.join(named)})" if named else ""),
            )
        ]
    if named[0] == "capability":
        return []
    if step.version is not None and named[0] != "workflow":
        return [Problem(path=f"{base}.version", message="version goes with workflow")]
    return [
        Problem(path=f"{base}.{field}", message=f"a {named[0]} step has no {field}")
        for field in ("for_each", "agent", "max_parallel", "heartbeat_timeout_s")
        if getattr(step, field) is not None
    ]


def check(definition: WorkflowDefinition) -> list[Problem]:
    """Every structural problem: duplicate ids, bad or dangling references, cycles."""
    problems: list[Problem] = []
    ids: dict[str, int] = {}
    for index, step in enumerate(definition.steps):
        if step.id in ids:
            problems.append(
                Problem(path=f"$.steps[{index}].id", message=f"duplicate step id {step.id!r}")
            )
        ids.setdefault(step.id, index)
    problems.extend(_schema_problems("$.input_schema", definition.input_schema))
    for index, step in enumerate(definition.steps):
        base = f"$.steps[{index}]"
        problems.extend(_kind_problems(step, base))
        if step.wait is not None:
            problems.extend(_schema_problems(f"{base}.wait.schema", step.wait.schema_))
        problems.extend(_child_problems(definition, step, base))
        for position, dep in enumerate(step.after):
            if dep not in ids:
                problems.append(
                    Problem(path=f"{base}.after[{position}]", message=f"unknown step {dep!r}")
                )
            elif dep == step.id:
                problems.append(
                    Problem(
                        path=f"{base}.after[{position}]", message="a step cannot wait for itself"
                    )
                )
        if step.for_each is not None and not refs.is_ref(step.for_each):
            problems.append(
                Problem(
                    path=f"{base}.for_each", message="for_each must be a $. reference to a list"
                )
            )
        for path, text in _refs_of(step, base):
            problems.extend(
                _check_ref(path, text, step, ids, item_allowed=step.for_each is not None)
            )
    problems.extend(_branch_problems(definition, ids))
    key = definition.concurrency_key
    if key is not None and (not refs.is_ref(key) or not key.startswith("$.input")):
        problems.append(Problem(path="$.concurrency_key", message="must be a $.input reference"))
    elif key is not None:
        problems.extend(_check_ref("$.concurrency_key", key, None, ids, item_allowed=False))
    for path, text in refs.walk(definition.output, "$.output"):
        problems.extend(_check_ref(path, text, None, ids, item_allowed=False))
    if not problems:
        try:
            definition.order()
        except CycleError as exc:
            cycle = list(dict.fromkeys(exc.args[1]))
            problems.append(
                Problem(
                    path=f"$.steps[{ids[cycle[0]]}]",
                    message="cycle: " + " -> ".join([*cycle, cycle[0]]),
                )
            )
    return problems


def _schema_problems(path: str, schema: dict[str, Any] | None) -> list[Problem]:
    """A JSON Schema that values will be checked against must be one that can be checked
    safely (linear-time patterns, no outside references, bounded size)."""
    if schema is None:
        return []
    try:
        check_schema(schema)
    except SchemaRefused as exc:
        return [Problem(path=path + exc.path, message=exc.message)]
    return []


def _branch_problems(definition: WorkflowDefinition, ids: dict[str, int]) -> list[Problem]:
    """A switch's branches name existing steps other than itself, each step in one branch."""
    problems: list[Problem] = []
    owner: dict[str, str] = {}
    for index, step in enumerate(definition.steps):
        if step.switch is None:
            continue
        spec = step.switch
        named = [(f"cases[{i}].then", case.then) for i, case in enumerate(spec.cases)]
        for where, members in [*named, ("default", spec.default)]:
            for position, member in enumerate(members):
                path = f"$.steps[{index}].switch.{where}[{position}]"
                if member not in ids:
                    message = f"unknown step {member!r}"
                elif member == step.id:
                    message = "a switch cannot be a step of its own branch"
                elif member in owner:
                    message = f"step {member!r} is already in a branch ({owner[member]})"
                else:
                    owner[member] = f"$.steps[{index}].switch.{where}"
                    continue
                problems.append(Problem(path=path, message=message))
    return problems


def _child_problems(
    definition: WorkflowDefinition, step: StepDefinition, base: str
) -> list[Problem]:
    """A sub-workflow or loop body that is the workflow itself would recurse without end; an
    inline loop body is a definition of its own (its references are its own run's)."""
    problems = []
    for path, name in (
        (f"{base}.workflow", step.workflow),
        (f"{base}.loop.workflow", step.loop.workflow if step.loop else None),
    ):
        if name is not None and name == definition.name:
            problems.append(Problem(path=path, message="a workflow cannot include itself"))
    if step.loop is not None:
        body = None
        if step.loop.steps is not None:
            body = WorkflowDefinition(
                name=body_name(definition, step), steps=step.loop.steps, output=step.loop.output
            )
            body_problems = check(body)
            problems.extend(
                Problem(path=f"{base}.loop" + p.path[1:], message=p.message) for p in body_problems
            )
            if body_problems:  # its shape is not known: its references may not even parse
                body = None
        problems.extend(until_problems(step, base, body))
    return problems


def until_problems(
    step: StepDefinition, base: str, body: WorkflowDefinition | None
) -> list[Problem]:
    """A loop's ``until`` reads the last iteration's ``$.output`` or ``$.iteration``, and
    only what the body's output can hold (``body``, when known: a reference to a field or step
    it never has would run the loop to ``max_iterations``)."""
    assert step.loop is not None
    until = step.loop.until
    where = f"{base}.loop.until" + ("" if until.short else ".ref")
    shapes: dict[str, Shape] = {"iteration": SCALAR, "output": ANY}
    if body is not None:
        shapes["output"] = output_shape(body)
    return _check_ref(where, until.ref, None, {}, item_allowed=False, roots=shapes)


Shape = Any
"""What a definition tells of a value before it exists: ``ANY`` (nothing known), ``SCALAR``
(a literal that has no fields), or a dict / list of shapes (a literal's keys or items)."""
ANY: Shape = None
SCALAR: Shape = "scalar"


def output_shape(definition: WorkflowDefinition) -> Shape:
    """The shape of a run's output: its ``output`` mapping's literal structure (a reference
    in it may be anything), or, without one, an object keyed by the leaf steps' ids."""
    if definition.output is None:
        return dict.fromkeys(definition.leaves(), ANY)
    return _template_shape(definition.output)


def _template_shape(value: Any) -> Shape:
    if refs.is_ref(value):
        return ANY
    if isinstance(value, dict):
        return {key: _template_shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_template_shape(item) for item in value]
    return SCALAR


def _shape_problem(shape: Shape, path: tuple[str | int, ...]) -> str | None:
    """Why ``path`` can never be found in a value of ``shape``, or None."""
    for token in path:
        if shape is ANY:
            return None
        if isinstance(shape, dict) and isinstance(token, str) and token in shape:
            shape = shape[token]
        elif isinstance(shape, list) and isinstance(token, int) and token < len(shape):
            shape = shape[token]
        else:
            has = sorted(shape) if isinstance(shape, dict) else None
            return f"it never has {token!r}" + (f" (it has {', '.join(has)})" if has else "")
    return None


def body_name(definition: WorkflowDefinition, step: StepDefinition) -> str:
    """The name of a loop's inline body (the runs of its iterations carry it)."""
    return f"{definition.name}.{step.id}"[:200]


def _check_ref(
    path: str,
    text: str,
    step: StepDefinition | None,
    ids: dict[str, int],
    item_allowed: bool,
    roots: dict[str, Shape] | None = None,
) -> list[Problem]:
    """A reference's problems: it must parse, name a root defined where it stands, a step
    that exists (not the step itself), and, with ``roots`` (the only roots allowed there, with
    what is known of their values), a path those values can have."""
    try:
        ref = refs.parse(text)
    except refs.RefError as exc:
        return [Problem(path=path, message=str(exc))]
    if roots is not None:
        if ref.root not in roots:
            allowed = " or ".join(f"$.{root}" for root in sorted(roots))
            return [Problem(path=path, message=f"{text}: only {allowed} is defined here")]
        problem = _shape_problem(roots[ref.root], ref.path)
        return [] if problem is None else [Problem(path=path, message=f"{text}: {problem}")]
    if ref.root in LOOP_ROOTS and (".loop.input" not in path or ref.root not in LOOP_INPUT_ROOTS):
        where = "a loop's until" if ref.root == "output" else "a loop's input"
        return [Problem(path=path, message=f"$.{ref.root} is only defined in {where}")]
    if ref.root in ("item", "item_index") and (not item_allowed or path.endswith(".for_each")):
        return [
            Problem(
                path=path, message=f"$.{ref.root} is only defined inside a for_each step's input"
            )
        ]
    if ref.step is not None:
        if ref.step not in ids:
            return [Problem(path=path, message=f"reference to unknown step {ref.step!r}")]
        if step is not None and ref.step == step.id:
            return [Problem(path=path, message="a step cannot reference its own output")]
    return []


_UNION_TAGS = re.compile(
    r"^(str|int|float|bool|none|dict\[.*|list\[.*|function-.*|Condition|RetryPolicy|StepDefinition|WaitSpec|SleepSpec|SwitchSpec|SwitchCase|LoopSpec|WorkflowDefinition)$"
)


def json_path(loc: tuple[str | int, ...] | list[str | int], base: str = "$") -> str:
    """A pydantic error location as a JSON path: ("steps", 1, "id") -> ``$.steps[1].id``.

    Pydantic puts the member's type in the location of an error inside a union
    (``("workflow", "dict[str,any]", "x")``); those tags are not part of the document.
    """
    path = base
    for part in loc:
        if isinstance(part, str) and _UNION_TAGS.match(part):
            continue
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def error_message(msg: str) -> str:
    """A pydantic error's message without the prefix it puts before a validator's own words
    (``Value error, give exactly one of …``): the message says what is wrong, and that alone."""
    return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def problems_from(error: ValidationError, base: str = "$") -> list[Problem]:
    """Pydantic's errors as Problems with JSON paths."""
    return [
        Problem(path=json_path(tuple(item["loc"]), base), message=error_message(item["msg"]))
        for item in error.errors(include_url=False)
    ]


def parse_definition(data: Any, base: str = "$") -> WorkflowDefinition:
    """Validate a definition's fields, then its graph; raises DefinitionError with JSON paths."""
    try:
        definition = WorkflowDefinition.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError(problems_from(exc, base)) from None
    problems = check(definition)
    if problems:
        raise DefinitionError(
            [Problem(path=base + p.path[1:], message=p.message) for p in problems]
        )
    return definition


LoopSpec.model_rebuild()
