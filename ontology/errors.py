"""Exceptions of the ontology package: one root, subclasses that also subclass the builtin they
resemble, each carrying a machine-readable ``code``."""

from __future__ import annotations


class OntologyError(Exception):
    """Root of every error raised by ``ontology``."""

    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class FactsError(OntologyError, ValueError):
    """Facts that cannot be written as Prolog (unknown name, wrong value type)."""

    code = "bad_facts"


class CaseFormatError(OntologyError, ValueError):
    """A SARA case file that cannot be parsed; ``line`` is the file line when known."""

    code = "malformed_case"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        line: int | None = None,
        case_id: str | None = None,
    ) -> None:
        where = f"{case_id or 'case'}" + (f":{line}" if line else "")
        super().__init__(f"{where}: {message}", code=code)
        self.detail = message
        self.line = line
        self.case_id = case_id


class ReasonerError(OntologyError, RuntimeError):
    """A query the reasoner could not answer; ``code`` says why (see ``worker.pl``)."""

    code = "prolog_error"


class QueryTimeout(ReasonerError, TimeoutError):
    """The query ran past its time limit; the worker was replaced."""

    code = "timeout"


class ResourceExhausted(ReasonerError):
    """The query hit the inference or stack limit; the worker was replaced."""

    code = "resource"


class UnknownPredicate(ReasonerError):
    """The goal, or something it calls, is not defined."""

    code = "existence_error"


class PrologSyntaxError(ReasonerError, ValueError):
    """The goal text is not valid Prolog."""

    code = "syntax"


class InvalidFact(ReasonerError, ValueError):
    """A fact is not a ground vocabulary term with atomic arguments."""

    code = "bad_fact"


class InvalidGoal(ReasonerError, ValueError):
    """The goal is not a single call to a predicate of the loaded rules."""

    code = "bad_goal"


class NoProof(ReasonerError):
    """The goal has no proof from the rules and facts."""

    code = "no_proof"


class IncompleteCase(ReasonerError, ValueError):
    """The case does not say enough to answer (the person asked about is in no fact; an income
    has no date or no amount): an error rather than a number that would be wrong."""

    code = "incomplete_case"


class WorkerCrashed(ReasonerError):
    """The worker process died while answering; it was replaced."""

    code = "worker_crashed"


class WorkerStartError(ReasonerError):
    """A worker could not start (swipl missing, or the rules failed to load)."""

    code = "start_failed"


class PoolBusy(ReasonerError):
    """The pool's queue is full; retry later."""

    code = "busy"


class PoolClosed(ReasonerError):
    """The pool is closed (or closing)."""

    code = "closed"


REASONER_ERRORS: dict[str, type[ReasonerError]] = {
    cls.code: cls
    for cls in (
        QueryTimeout,
        ResourceExhausted,
        UnknownPredicate,
        PrologSyntaxError,
        InvalidFact,
        InvalidGoal,
        NoProof,
        IncompleteCase,
        WorkerCrashed,
        WorkerStartError,
        PoolBusy,
        PoolClosed,
    )
}


def reasoner_error(code: str, message: str) -> ReasonerError:
    """The exception for a worker error ``code`` (a plain ``ReasonerError`` if unknown)."""
    return REASONER_ERRORS.get(code, ReasonerError)(message, code=code)
