"""Capability search behind ``GET /v1/capabilities``: concept filters, then a ranking for ``q``.

1. ``produces=`` / ``consumes=`` keep the capabilities with an IRI that the asked concept
   subsumes (:mod:`services.discovery.concepts`): asking for ``tax:CaseFacts`` also finds
   producers of ``tax:ValidatedFacts``. Both parameters work the same way.
2. With ``q``, the remaining capabilities are ranked. When an agent serving ``model.embed`` is
   live, by the cosine similarity of embeddings of their names and descriptions
   (``ranking: "embedding"``), the embeddings coming from a run of that capability
   (:mod:`services.discovery.embed_run`); otherwise, or when that run fails or times out, by
   BM25 (``ranking: "lexical"``), and ``fallback`` says why.

Caches (per process; both are keyed by content, so registrations and deregistrations on any
replica invalidate them without a signal):

- capability vectors by capability text (:class:`EmbeddingRanker`): a stable registry costs
  one embedded text (the query) per new query;
- rankings by (query, fingerprint of the ranked capabilities' texts): a repeated query over an
  unchanged set costs no run at all. A change of the embedding model clears both.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.db.models import AgentRow, CapabilityRow
from services.discovery.concepts import ConceptIndex
from services.discovery.embed_run import EmbeddingUnavailable, RunEmbedder, embedder_live
from services.discovery.ranking import BM25Ranker, Capability, EmbeddingRanker
from services.registry.schemas import CapabilityPublic, CapabilitySpec
from services.runtime import Runtime

log = logging.getLogger(__name__)

RankingKind = Literal["embedding", "lexical"]


class DiscoverySettings(BaseSettings):
    """Discovery's knobs (environment prefix ``MODX_DISCOVERY_``)."""

    model_config = SettingsConfigDict(env_prefix="MODX_DISCOVERY_", extra="ignore")

    embed_timeout_s: float = Field(default=10.0, gt=0, le=300)
    result_cache_size: int = Field(default=1024, ge=0)


@dataclass(frozen=True)
class Ranked:
    """Scores by capability name, which ranking made them, and why not embeddings if not."""

    scores: dict[str, float]
    ranking: RankingKind
    fallback: dict[str, str] | None = None
    cached: bool = False


def fingerprint(capabilities: Sequence[Capability]) -> str:
    """A digest of the texts that are ranked: equal sets rank equally."""
    digest = hashlib.sha256()
    for text in sorted({cap.text for cap in capabilities}):
        digest.update(text.encode())
        digest.update(b"\0")
    return digest.hexdigest()


class Discovery:
    """The rankers and caches of one process, bound to its runtime."""

    def __init__(self, runtime: Runtime, settings: DiscoverySettings | None = None) -> None:
        """Create the rankers.

        Args:
            runtime: The process's runtime; embedding runs are started through it.
            settings: Timeouts and cache size (``MODX_DISCOVERY_*`` by default).
        """
        self.runtime = runtime
        self.settings = settings or DiscoverySettings()
        self.embedder = RunEmbedder(runtime, timeout_s=self.settings.embed_timeout_s)
        self.embedding = EmbeddingRanker(self.embedder)
        self.lexical = BM25Ranker()
        self._results: OrderedDict[tuple[str, str], dict[str, float]] = OrderedDict()

    def invalidate(self) -> None:
        """Forget every cached vector and ranking."""
        self.embedding.invalidate()
        self._results.clear()

    async def rank(self, query: str, capabilities: Sequence[Capability]) -> Ranked:
        """Rank ``capabilities`` for ``query``: embeddings when possible, else BM25."""
        key = (query, fingerprint(capabilities))
        hit = self._results.get(key)
        if hit is not None:
            self._results.move_to_end(key)
            return Ranked(hit, "embedding", cached=True)
        if not await embedder_live(self.runtime):
            reason = "no live agent serves model.embed"
            return self._lexical(query, capabilities, "no_embedder", reason)
        try:
            scores = await self._embedding_scores(query, capabilities)
        except (EmbeddingUnavailable, ValueError) as exc:
            code = exc.code if isinstance(exc, EmbeddingUnavailable) else "embedding_malformed"
            log.warning("semantic discovery fell back to BM25: %s", exc)
            return self._lexical(query, capabilities, code, str(exc))
        if self.settings.result_cache_size:
            self._results[key] = scores
            while len(self._results) > self.settings.result_cache_size:
                self._results.popitem(last=False)
        return Ranked(scores, "embedding")

    async def _embedding_scores(
        self, query: str, capabilities: Sequence[Capability]
    ) -> dict[str, float]:
        before = self.embedder.model
        try:
            ranking = await self.embedding.rank(query, capabilities)
            stale = before is not None and self.embedder.model != before
        except ValueError:
            # Vectors of two models have different sizes; only a model change excuses that.
            if self.embedder.model == before:
                raise
            stale = True
        if stale:
            log.info("embedding model changed to %s: cached vectors dropped", self.embedder.model)
            self.invalidate()
            ranking = await self.embedding.rank(query, capabilities)
        return dict(ranking)

    def _lexical(
        self, query: str, capabilities: Sequence[Capability], code: str, message: str
    ) -> Ranked:
        scores = dict(self.lexical.score(query, capabilities))
        return Ranked(scores, "lexical", fallback={"code": code, "message": message})


def discovery_of(state: Any, runtime: Runtime) -> Discovery:
    """The :class:`Discovery` kept on an app's ``state`` (made on first use)."""
    found = getattr(state, "discovery", None)
    if not isinstance(found, Discovery) or found.runtime is not runtime:
        found = Discovery(runtime)
        state.discovery = found
    return found


def matches(
    cap: CapabilityRow, index: ConceptIndex, produces: str | None, consumes: str | None
) -> bool:
    """True when ``cap`` produces/consumes the asked concepts or narrower ones."""
    return (produces is None or index.any_subsumed(produces, cap.produces)) and (
        consumes is None or index.any_subsumed(consumes, cap.consumes)
    )


def public(cap: CapabilityRow, agent: AgentRow, score: float | None = None) -> dict[str, Any]:
    """The API view of one capability of one agent."""
    spec = CapabilitySpec.model_validate({k: getattr(cap, k) for k in CapabilitySpec.model_fields})
    return CapabilityPublic(
        **spec.model_dump(),
        agent_id=agent.id,
        agent_name=agent.name,
        agent_status=agent.status,
        score=score,
    ).model_dump()


def ranked_items(
    pairs: Sequence[tuple[CapabilityRow, AgentRow]], ranked: Ranked, limit: int
) -> list[dict[str, Any]]:
    """Items best first (ties by name, then agent), each with its score."""
    ordered = sorted(pairs, key=lambda p: (-ranked.scores.get(p[0].name, 0.0), p[0].name, p[1].id))
    return [public(cap, agent, ranked.scores.get(cap.name, 0.0)) for cap, agent in ordered[:limit]]


def capabilities_to_rank(pairs: Sequence[tuple[CapabilityRow, AgentRow]]) -> list[Capability]:
    """One text per capability name (agents serving the same name share its description)."""
    seen: dict[str, Capability] = {}
    for cap, _ in pairs:
        seen.setdefault(cap.name, Capability(cap.name, cap.description))
    return list(seen.values())


__all__ = [
    "Discovery",
    "DiscoverySettings",
    "Ranked",
    "capabilities_to_rank",
    "discovery_of",
    "fingerprint",
    "matches",
    "public",
    "ranked_items",
]
