"""SWI-Prolog reasoner runtime: worker processes behind an asyncio pool.

>>> async with ReasonerPool(["ontology/statutes/statutes.pl"]) as pool:   # doctest: +SKIP
...     answer = await pool.query(facts, goal("tax", "alice", 2019, Var("Amount")))
"""

from ontology.reasoner.models import Answer, PoolStats, ProofNode
from ontology.reasoner.pool import ReasonerPool
from ontology.reasoner.terms import Str, Var, goal

__all__ = ["Answer", "PoolStats", "ProofNode", "ReasonerPool", "Str", "Var", "goal"]
