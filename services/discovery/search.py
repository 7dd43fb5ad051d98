"""Capability search behind ``GET /v1/capabilities``: concept filters, then a ranking for ``q``.

1. ``produces=`` / ``consumes=`` keep the capabilities with an IRI that the asked concept
   subsumes (:mod:`services.discovery.concepts`): asking for ``tax:CaseFacts`` also finds
   producers of ``tax:ValidatedFacts``. Both parameters work the same way. The concept's
   subclasses are computed here, every spelling of their IRIs is handed to the database, and
   the database keeps the matching rows (:func:`services.registry.store.find_capabilities`).
2. With ``q``, the remaining capabilities are ranked. When an agent serving ``model.embed`` is
   live, by the cosine similarity of embeddings of their names and descriptions
   (``ranking: "embedding"``), the embeddings coming from a run of that capability
   (:mod:`services.discovery.embed_run`); otherwise, or when that run fails or times out, by
   BM25 (``ranking: "lexical"``), and ``fallback`` says why. Only the rows of the page
   answered are read whole.

Caches (per process; all are keyed by content, so registrations and deregistrations on any
replica invalidate them without a signal):

- candidates (their keys and corpus) by their stamp (:func:`store.capability_stamp`: one
  aggregate, not a row per capability), and corpora
  (:class:`~services.discovery.ranking.Corpus`) by the stamp of the rows they were made of:
  a capability row never changes, so the rows determine the texts. A corpus keeps its BM25
  index and its matrix of embeddings, so a query over an unchanged set of candidates
  rebuilds neither;
- capability vectors by text (:class:`EmbeddingRanker`): a changed set costs the views of
  each new capability (two texts), plus the query;
- rankings by (query, fingerprint of the ranked texts): a repeated query over an unchanged
  set costs no run at all. A change of the embedding model clears the vectors and rankings.
"""

from __future__ import annotations

import hashlib
import heapq
import logging
from collections import OrderedDict
from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from services.db.models import DEFAULT_TENANT, AgentRow, CapabilityRow
from services.discovery.concepts import concept_index
from services.discovery.embed_run import (
    EMBED_TENANT,
    EmbeddingUnavailable,
    RunEmbedder,
    embedder_live,
)
from services.discovery.ranking import (
    BM25Ranker,
    Capability,
    Corpus,
    EmbeddingRanker,
    Vector,
    reciprocal_rank_fusion,
)
from services.registry import store
from services.registry.schemas import CapabilityPublic, CapabilitySpec
from services.registry.store import CapabilityKey
from services.runtime import Runtime

log = logging.getLogger(__name__)

RankingKind = Literal["embedding", "lexical", "fused"]
_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


class DiscoverySettings(BaseSettings):
    """Discovery's knobs (environment prefix ``MODX_DISCOVERY_``)."""

    model_config = SettingsConfigDict(env_prefix="MODX_DISCOVERY_", extra="ignore")

    embed_timeout_s: float = Field(default=10.0, gt=0, le=300)
    result_cache_size: int = Field(default=1024, ge=0)
    corpus_cache_size: int = Field(default=8, ge=1)


@dataclass(frozen=True)
class Ranked:
    """Scores by capability name, which ranking made them, and why not embeddings if not.

    A name missing from ``scores`` scores 0 (lexical rankings only list the names that share a
    word with the query).
    """

    scores: Mapping[str, float]
    ranking: RankingKind
    fallback: dict[str, str] | None = None
    cached: bool = False


def representatives(keys: Sequence[CapabilityKey]) -> tuple[CapabilityKey, ...]:
    """One key per name, its first agent's: agents serving the same name share its text.

    ``keys`` are sorted by (name, agent), as :func:`store.capability_keys` returns them.
    """
    return tuple(key for i, key in enumerate(keys) if i == 0 or keys[i - 1].name != key.name)


@dataclass(frozen=True)
class Candidates:
    """The capabilities a search ranks: their keys by (name, agent), and their corpus."""

    keys: tuple[CapabilityKey, ...]
    corpus: Corpus


def _digest(stamp: str) -> str:
    return hashlib.sha256(stamp.encode()).hexdigest()


def _remember(cache: OrderedDict[_K, _V], key: _K, value: _V, size: int) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > size:
        cache.popitem(last=False)


class Discovery:
    """The rankers and caches of one process, bound to its runtime."""

    def __init__(self, runtime: Runtime, settings: DiscoverySettings | None = None) -> None:
        """Create the rankers.

        Args:
            runtime: The process's runtime; embedding runs are started through it.
            settings: Timeouts and cache sizes (``MODX_DISCOVERY_*`` by default).
        """
        self.runtime = runtime
        self.settings = settings or DiscoverySettings()
        self.embedder = RunEmbedder(runtime, timeout_s=self.settings.embed_timeout_s)
        self.embedding = EmbeddingRanker(self.embedder)
        self.lexical = BM25Ranker()
        # Both keyed by digests of store.stamp(): what the capabilities were, not when.
        self._candidates: OrderedDict[str, Candidates] = OrderedDict()
        self._corpora: OrderedDict[str, Corpus] = OrderedDict()
        self._results: OrderedDict[tuple[str, str], Vector] = OrderedDict()

    def invalidate(self) -> None:
        """Forget every cached vector and ranking."""
        self.embedding.invalidate()
        self._results.clear()

    async def candidates(
        self,
        session: AsyncSession,
        name: str | None,
        live: bool,
        produces: Collection[str] | None,
        consumes: Collection[str] | None,
        tenant: str | None = None,
    ) -> Candidates:
        """The capabilities the filters select (see :func:`store.find_capabilities`).

        While they stay the same, this reads one aggregate (:func:`store.capability_stamp`),
        not a row per capability.
        """
        seen = _digest(
            await store.capability_stamp(
                session, name, live, produces=produces, consumes=consumes, tenant=tenant
            )
        )
        found = self._candidates.get(seen)
        if found is not None:
            self._candidates.move_to_end(seen)
            return found
        keys = await store.capability_keys(
            session, name, live, produces=produces, consumes=consumes, tenant=tenant
        )
        found = Candidates(tuple(keys), await self.corpus(session, keys))
        # Kept under the stamp of what was read: the set may have changed since ``seen``.
        size = self.settings.corpus_cache_size
        _remember(self._candidates, _digest(store.stamp(keys)), found, size)
        return found

    async def corpus(self, session: AsyncSession, keys: Sequence[CapabilityKey]) -> Corpus:
        """The corpus to rank for candidates ``keys``: one capability per name, in name order.

        Made once per distinct set of representatives; only then are descriptions read.
        """
        chosen = representatives(keys)
        # A capability row never changes: the same rows, the same texts.
        key = _digest(store.stamp(chosen))
        found = self._corpora.get(key)
        if found is not None:
            self._corpora.move_to_end(key)
            return found
        descriptions = await store.capability_descriptions(session, [k.id for k in chosen])
        # A capability removed since its key was read keeps an empty text here; its row can
        # never come back, so no later set of candidates finds this corpus.
        found = Corpus(Capability(k.name, descriptions.get(k.id, "")) for k in chosen)
        _remember(self._corpora, key, found, self.settings.corpus_cache_size)
        return found

    async def rank(self, query: str, corpus: Corpus) -> Ranked:
        """Rank ``corpus`` for ``query``: embeddings when possible, else BM25."""
        key = (query, corpus.fingerprint)
        hit = self._results.get(key)
        if hit is not None:
            self._results.move_to_end(key)
            return Ranked(
                dict(zip(corpus.names, hit.tolist(), strict=True)), "embedding", cached=True
            )
        if not await embedder_live(self.runtime):
            reason = "no live agent serves model.embed"
            return self._lexical(query, corpus, "no_embedder", reason)
        if not len(corpus):
            return Ranked({}, "embedding")  # nothing to rank: no run to wait for
        try:
            similarities = await self._embedding_scores(query, corpus)
        except (EmbeddingUnavailable, ValueError) as exc:
            code = exc.code if isinstance(exc, EmbeddingUnavailable) else "embedding_malformed"
            log.warning("semantic discovery fell back to BM25: %s", exc)
            return self._lexical(query, corpus, code, str(exc))
        if self.settings.result_cache_size:
            _remember(self._results, key, similarities, self.settings.result_cache_size)
        return Ranked(dict(zip(corpus.names, similarities.tolist(), strict=True)), "embedding")

    async def _embedding_scores(self, query: str, corpus: Corpus) -> Vector:
        before = self.embedder.model
        try:
            similarities = await self.embedding.similarities(query, corpus)
            stale = before is not None and self.embedder.model != before
        except ValueError:
            # Vectors of two models have different sizes; only a model change excuses that.
            if self.embedder.model == before:
                raise
            stale = True
        if stale:
            log.info("embedding model changed to %s: cached vectors dropped", self.embedder.model)
            self.invalidate()
            similarities = await self.embedding.similarities(query, corpus)
        return similarities

    def _lexical(self, query: str, corpus: Corpus, code: str, message: str) -> Ranked:
        scores = self.lexical.scores(query, corpus)
        return Ranked(scores, "lexical", fallback={"code": code, "message": message})


def fused(query: str, corpus: Corpus, ranked: Ranked, lexical: BM25Ranker) -> Ranked:
    """An embedding ranking fused with BM25 by reciprocal rank fusion (``ranking: "fused"``).

    Opt-in (``fuse=true``): on the paraphrase set of ``bench.discovery_eval`` it puts the
    right capability first less often than embeddings alone (bench/results/discovery_eval.md),
    because BM25 ranks paraphrases badly; it is there for registries whose words embeddings do
    not know (codes, product names)."""
    if ranked.ranking != "embedding":
        return ranked  # BM25 already: nothing to fuse with
    semantic = sorted(ranked.scores, key=lambda name: (-ranked.scores[name], name))
    words = lexical.scores(query, corpus)
    lexical_order = sorted(words, key=lambda name: (-words[name], name))
    scores = reciprocal_rank_fusion([semantic, lexical_order])
    return Ranked(scores, "fused", ranked.fallback, ranked.cached)


def discovery_of(state: Any, runtime: Runtime) -> Discovery:
    """The :class:`Discovery` kept on an app's ``state`` (made on first use)."""
    found = getattr(state, "discovery", None)
    if not isinstance(found, Discovery) or found.runtime is not runtime:
        found = Discovery(runtime)
        state.discovery = found
    return found


def public(cap: CapabilityRow, agent: AgentRow, score: float | None = None) -> dict[str, Any]:
    """The API view of one capability of one agent."""
    # Limits (concurrency, rate_limit) are on the agent's card only, not the row.
    fields = {k: getattr(cap, k) for k in CapabilitySpec.model_fields if hasattr(CapabilityRow, k)}
    spec = CapabilitySpec.model_validate(fields)
    return CapabilityPublic(
        **spec.model_dump(),
        agent_id=agent.id,
        agent_name=agent.name,
        agent_status=agent.status,
        score=score,
    ).model_dump()


def best(
    keys: Sequence[CapabilityKey], scores: Mapping[str, float], limit: int
) -> list[tuple[CapabilityKey, float]]:
    """The ``limit`` best keys with their scores; ties by name, then agent.

    ``keys`` are sorted by (name, agent): equal scores keep that order, as in a full sort by
    (-score, name, agent). Only positive and negative scores are sorted; a lexical ranking
    leaves most capabilities at 0, and those are taken in order.
    """
    positive: list[CapabilityKey] = []
    zero: list[CapabilityKey] = []
    negative: list[CapabilityKey] = []
    for key in keys:
        score = scores.get(key.name, 0.0)
        (positive if score > 0 else zero if score == 0 else negative).append(key)

    def worse(key: CapabilityKey) -> float:
        return -scores[key.name]

    ordered = [
        *heapq.nsmallest(limit, positive, key=worse),
        *zero[:limit],
        *heapq.nsmallest(limit, negative, key=worse),
    ]
    return [(key, scores.get(key.name, 0.0)) for key in ordered[:limit]]


async def discover(
    session: AsyncSession,
    discovery: Discovery,
    *,
    q: str | None = None,
    name: str | None = None,
    produces: str | None = None,
    consumes: str | None = None,
    live: bool = False,
    limit: int = 100,
    tenant: str | None = None,
    fuse: bool = False,
) -> dict[str, Any]:
    """The answer of ``GET /v1/capabilities`` (see the module docstring); with ``tenant``, the
    capabilities serving that tenant only."""
    produced = consumed = None
    if produces is not None or consumes is not None:
        index = await concept_index()
        produced = None if produces is None else index.spellings(produces)
        consumed = None if consumes is None else index.spellings(consumes)
    if q is None or not q.strip():
        pairs = await store.find_capabilities(
            session, name, live, produces=produced, consumes=consumed, limit=limit, tenant=tenant
        )
        items = [public(cap, agent) for cap, agent in pairs]
        return {"items": items, "ranking": None, "fallback": None}
    found = await discovery.candidates(session, name, live, produced, consumed, tenant)
    # End the read before ranking, which may write an embedding run and wait for it.
    await session.rollback()
    scope = EMBED_TENANT.set(tenant or DEFAULT_TENANT)
    try:
        ranked = await discovery.rank(q.strip(), found.corpus)
    finally:
        EMBED_TENANT.reset(scope)
    if fuse:
        ranked = fused(q.strip(), found.corpus, ranked, discovery.lexical)
    top = best(found.keys, ranked.scores, limit)
    rows = await store.capabilities_by_id(session, [key.id for key, _ in top])
    return {
        # A capability deregistered while the query was ranked is left out.
        "items": [public(*rows[key.id], score) for key, score in top if key.id in rows],
        "ranking": ranked.ranking,
        "fallback": ranked.fallback,
    }


__all__ = [
    "Candidates",
    "Discovery",
    "DiscoverySettings",
    "Ranked",
    "best",
    "discover",
    "discovery_of",
    "public",
    "representatives",
]
