"""The legal agent: SARA translation, fact validation, statutory inference and explanation.

Six capabilities, chained by the workflows of ``agents.legal.workflow``: ``sara-tax`` runs
``sara.parse_case`` -> ``legal.validate_facts`` -> ``legal.infer`` -> ``legal.explain``, and
``sara-entail`` the same with ``legal.entail`` (binary questions) in place of ``legal.infer``.
``legal.formalize`` starts from English instead of a case file (a goal run from ``tax:CaseText``
to ``tax:TaxAnswer`` plans formalize -> validate -> infer; to ``tax:EntailmentAnswer``,
formalize -> validate -> entail).
The reasoner pool and the case expander are started on first use and live until the agent
stops (its ``on_stop`` hook closes them); each keeps SWI-Prolog in its own OS processes, so a
bad case cannot take the agent down.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from typing import Any, Literal

from pydantic import BaseModel, Field

from agents.legal.explanation import explain_answer, readable
from agents.legal.formalize import Formalization, FormalizationFailed, formalize_text
from agents.models.chat_agent import ChatResources, task_error
from agents.models.errors import ModelError
from agents.sdk import Agent, FatalError, RetryableError, TaskContext
from ontology import (
    Answer,
    CaseExpander,
    CaseFormatError,
    Facts,
    GoalQuery,
    ProofNode,
    ReasonerError,
    ReasonerPool,
    TaxQuery,
    parse_case_text,
    statutes_rules,
    validate_facts,
)
from ontology.errors import PoolBusy, WorkerCrashed
from ontology.places import gazetteer

agent = Agent(
    "legal",
    version="1.0.0",
    description="Verifiable tax reasoning on SARA cases: translation, ontology checks, "
    "SWI-Prolog inference with cited proofs, and explanations.",
    shared=True,
)

QUERY_TIMEOUT_S = float(os.environ.get("MODX_LEGAL_QUERY_TIMEOUT_S", "30"))


class _Resources:
    """The SWI-Prolog workers of one event loop, started on first use."""

    def __init__(self) -> None:
        self.pool: ReasonerPool | None = None
        self.expander: CaseExpander | None = None
        self.servers = 0  # runtimes of the agent started on this loop and not yet stopped
        self._lock = asyncio.Lock()
        self._expand_lock = asyncio.Lock()

    async def reasoner(self) -> ReasonerPool:
        async with self._lock:
            if self.pool is None:
                size = int(os.environ.get("MODX_LEGAL_WORKERS", "2"))
                pool = ReasonerPool(statutes_rules(), size=size, default_timeout_s=QUERY_TIMEOUT_S)
                await pool.start()
                # The gazetteer (places, governments) is built once, here rather than in the
                # first query (a few seconds).
                await asyncio.to_thread(gazetteer)
                self.pool = pool
            return self.pool

    def case_expander(self) -> CaseExpander:
        if self.expander is None:
            self.expander = CaseExpander()
        return self.expander

    @property
    def expand_lock(self) -> asyncio.Lock:
        """One case expansion at a time: the expander is one process."""
        return self._expand_lock

    async def close(self) -> None:
        """Stop the reasoner pool's processes and the expander's."""
        async with self._lock:
            pool, self.pool = self.pool, None
            if pool is not None:
                await pool.close()
        async with self._expand_lock:
            expander, self.expander = self.expander, None
            if expander is not None:
                await asyncio.to_thread(expander.close)


# One set per event loop: the pool's tasks and pipes belong to the loop that started them (in
# production that is the one loop of the process; tests run each in a loop of its own).
_RESOURCES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Resources] = (
    weakref.WeakKeyDictionary()
)


def resources() -> _Resources:
    """The SWI-Prolog resources of the running event loop."""
    loop = asyncio.get_running_loop()
    found = _RESOURCES.get(loop)
    if found is None:
        found = _RESOURCES[loop] = _Resources()
    return found


@agent.on_start
async def _serving() -> None:
    resources().servers += 1


@agent.on_stop
async def _close_prolog() -> None:
    """Close this loop's SWI-Prolog processes once the last runtime of the agent on it stops
    (several may share them: the embedded server's built-in agent and a test's)."""
    shared = resources()
    shared.servers -= 1
    if shared.servers <= 0:
        _RESOURCES.pop(asyncio.get_running_loop(), None)
        await shared.close()


# The LLM gateway client for legal.formalize (MODX_LLM_BASE_URL, MODX_LLM_MODEL, ...), one per
# event loop, created on first use.
CHAT = ChatResources()


class FormalizeRequest(BaseModel):
    """A case described in English."""

    text: str = Field(
        min_length=1,
        max_length=100_000,
        description="The case in English: its facts and its question",
        json_schema_extra={"x-concept": "tax:CaseText"},
    )
    max_repairs: int = Field(default=2, ge=0, le=5, description="Repair rounds after the first")


@agent.capability(
    "legal.formalize",
    consumes=["tax:CaseText"],
    produces=["tax:CaseFacts", "tax:TaxQuestion", "tax:EntailmentQuestion"],
    description="Map a case written in English onto the tax ontology with an LLM (model.chat), "
    "output constrained by a JSON Schema generated from the ontology, ontology problems sent "
    "back with their JSON path for repair; records prompt, answers, repairs and tokens.",
)
async def formalize(request: FormalizeRequest, ctx: TaskContext) -> Formalization:
    """English -> validated ontology facts and the question: a tax question, or whether a
    statute clause applies."""
    try:
        result = await formalize_text(request.text, CHAT.client(), max_repairs=request.max_repairs)
    except FormalizationFailed as exc:
        raise FatalError(str(exc), code="formalization_failed", details=exc.record) from None
    except ModelError as exc:
        raise task_error(exc) from None
    ctx.report_usage(**{k: float(v) for k, v in result.tokens.items()}, llm_calls=result.rounds)
    return result


class ParseCaseRequest(BaseModel):
    """A SARA case file's text."""

    case: str = Field(min_length=1, max_length=500_000, description="The text of a SARA case file")
    case_id: str = Field(default="case", max_length=200, pattern=r"^[A-Za-z0-9_.\-]+$")


class ParsedCase(BaseModel):
    """A case as ontology facts plus the query to answer."""

    case_id: str
    text: str
    question: str
    gold: int | str | None
    facts: Facts
    query: dict[str, Any]
    warnings: list[dict[str, Any]] = Field(default_factory=list)


@agent.capability(
    "sara.parse_case",
    consumes=["tax:SaraCaseFile"],
    produces=["tax:CaseFacts", "tax:TaxQuestion", "tax:EntailmentQuestion"],
    description="Translate a SARA case file into typed ontology facts and its question: a tax "
    "query (numeric cases) or a clause to check (binary cases).",
    idempotent=True,
)
async def parse_case(request: ParseCaseRequest) -> ParsedCase:
    """Translate a SARA case file (helper rules expanded by SWI-Prolog) into facts and a query."""
    shared = resources()
    async with shared.expand_lock:
        try:
            case = await asyncio.to_thread(
                parse_case_text, request.case, request.case_id, expander=shared.case_expander()
            )
        except CaseFormatError as exc:
            raise FatalError(str(exc), code=exc.code, details={"line": exc.line}) from None
    unknown = [w for w in case.warnings if w.code == "unmapped_fact"]
    if unknown:
        # A fact the ontology has no term for would silently drop out of the reasoning.
        names = sorted({w.message.rsplit(" ", 1)[-1] for w in unknown})
        raise FatalError(
            f"unknown predicate(s) {', '.join(names)}: not in the tax ontology's vocabulary",
            code="unknown_predicate",
            details={"predicates": names, "facts": case.unmapped},
        )
    return ParsedCase(
        case_id=case.case_id,
        text=case.text,
        question=case.question,
        gold=case.gold,
        facts=case.facts,
        query=case.query.model_dump(),
        warnings=[w.model_dump() for w in case.warnings],
    )


class ValidateRequest(BaseModel):
    """Facts to check against the ontology."""

    facts: dict[str, Any]


class Validated(BaseModel):
    """Facts that passed every check."""

    facts: Facts
    individuals: int


@agent.capability(
    "legal.validate_facts",
    consumes=["tax:CaseFacts"],
    produces=["tax:ValidatedFacts"],
    description="Check facts against the tax ontology: classes, properties, domains, ranges.",
    idempotent=True,
)
async def validate(request: ValidateRequest) -> Validated:
    """Reject facts that do not fit the ontology, naming each problem's JSON path."""
    problems = validate_facts(request.facts)
    if problems:
        first = problems[0]
        raise FatalError(
            f"{len(problems)} problem(s) in the facts; first: {first.path}: {first.message}",
            code="invalid_facts",
            details={"problems": [p.model_dump() for p in problems]},
        )
    facts = Facts.model_validate(request.facts)
    return Validated(facts=facts, individuals=len(facts.individuals))


class InferRequest(BaseModel):
    """Facts and the question to answer from them."""

    facts: Facts
    query: TaxQuery
    timeout_s: float | None = Field(
        default=None, gt=0, le=600, description="Time limit of the query"
    )
    max_inferences: int | None = Field(
        default=None, gt=0, description="Inference budget of the query (a deterministic bound)"
    )


class Inference(BaseModel):
    """The answer, with the proof that derives it."""

    answer: int | float | str
    goal: str
    bindings: dict[str, Any]
    proof: ProofNode
    citations: list[str]
    elapsed_s: float
    inferences: int | None = None


async def _query(request: InferRequest | EntailRequest, goal: str, ctx: TaskContext) -> Answer:
    """Run ``goal`` on the request's facts; the reasoner's failures as task errors."""
    pool = await resources().reasoner()
    try:
        answer = await pool.query(
            request.facts,
            goal,
            request.timeout_s or QUERY_TIMEOUT_S,
            inference_limit=request.max_inferences,
        )
    except (PoolBusy, WorkerCrashed) as exc:
        raise RetryableError(str(exc), code=exc.code) from None
    except ReasonerError as exc:
        code = {"timeout": "query_timeout", "resource": "resource_limit"}.get(exc.code, exc.code)
        raise FatalError(str(exc), code=code, details={"goal": goal}) from None
    ctx.report_usage(inferences=float(answer.inferences or 0))
    return answer


@agent.capability(
    "legal.infer",
    consumes=["tax:ValidatedFacts", "tax:TaxQuestion"],
    produces=["tax:TaxAnswer", "tax:Proof"],
    description="Run the formalized statutes (SWI-Prolog) and return the tax with a proof citing "
    "each subsection used.",
    idempotent=True,
)
async def infer(request: InferRequest, ctx: TaskContext) -> Inference:
    """Answer ``tax(Person, Year, Amount)`` with a proof tree."""
    goal = request.query.goal()
    answer = await _query(request, goal, ctx)
    amount = answer.bindings.get("Amount")
    if amount is None:
        raise FatalError(f"{goal} succeeded without binding Amount", code="no_answer")
    return Inference(
        answer=amount,
        goal=goal,
        bindings=answer.bindings,
        proof=answer.proof,
        citations=sorted({c for c in answer.proof.citations() if c.startswith("§")}),
        elapsed_s=answer.elapsed_s,
        inferences=answer.inferences,
    )


class EntailRequest(BaseModel):
    """Facts and the clause whose application the question asks about."""

    facts: Facts
    query: GoalQuery
    timeout_s: float | None = Field(default=None, gt=0, le=600)
    max_inferences: int | None = Field(default=None, gt=0)


class Entailment(BaseModel):
    """``Entailment`` or ``Contradiction``, with the proof (or the failed proof's trace)."""

    answer: Literal["Entailment", "Contradiction"]
    goal: str
    question: str
    assumptions: list[str]
    proof: ProofNode
    citations: list[str]
    elapsed_s: float
    inferences: int | None = None


@agent.capability(
    "legal.entail",
    consumes=["tax:ValidatedFacts", "tax:EntailmentQuestion"],
    produces=["tax:EntailmentAnswer"],
    description="Decide whether a statute clause applies to a case (Entailment or Contradiction), "
    "with the proof; statutory conclusions the case states are assumptions of the proof.",
    idempotent=True,
)
async def entail(request: EntailRequest, ctx: TaskContext) -> Entailment:
    """Answer a binary question with ``sara_entail/3`` (``ontology/statutes/sara_clauses.pl``)."""
    goal = request.query.goal()
    answer = await _query(request, goal, ctx)
    verdict = answer.bindings.get("Answer")
    if verdict not in ("Entailment", "Contradiction"):
        raise FatalError(f"{goal} answered {verdict!r}", code="no_answer")
    return Entailment(
        answer=verdict,
        goal=goal,
        question=request.query.text,
        assumptions=request.query.assumptions,
        proof=answer.proof,
        citations=sorted({c for c in answer.proof.citations() if c.startswith("§")}),
        elapsed_s=answer.elapsed_s,
        inferences=answer.inferences,
    )


class ExplainRequest(BaseModel):
    """A proof to render, and optionally the question it answers."""

    proof: ProofNode
    question: str | None = None
    answer: int | float | str | None = None
    format: Literal["text"] = "text"


class Explanation(BaseModel):
    """The proof for a person: the answer on top, the provisions applied with their arithmetic,
    those checked and not applicable with the reason."""

    explanation: str
    lines: list[dict[str, Any]]
    not_applicable: list[dict[str, Any]] = Field(default_factory=list)


@agent.capability(
    "legal.explain",
    consumes=["tax:Proof"],
    produces=["tax:Explanation"],
    description="Render a proof for a person: amounts in dollars, dates as dates, the arithmetic "
    "at each combining step, provisions applied apart from those checked and not applicable.",
    idempotent=True,
)
async def explain(request: ExplainRequest) -> Explanation:
    """Turn a proof tree into an explanation."""
    key = "Answer" if isinstance(request.answer, str) else "Amount"
    bindings = {key: request.answer} if request.answer is not None else {}
    answer = Answer(bindings=bindings, proof=request.proof, elapsed_s=0.0)
    text = explain_answer(answer, question=request.question)
    shown = readable(request.proof, request.answer)
    return Explanation(
        explanation=text,
        lines=shown.lines(),
        not_applicable=[
            {"citation": n.citation, "text": n.text, "under": n.under, "why": n.why}
            for n in shown.not_applicable
        ],
    )
