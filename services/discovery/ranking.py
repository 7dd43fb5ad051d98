"""Rank capabilities against a free-text query: by embeddings, or by BM25 as a fallback.

Both rankers take the capabilities ``(name, description)`` on each call, because the registry's
set changes while the ranker lives, and return ``[(name, score), ...]`` best first (ties by
name). A capability is represented by its name with dots and underscores turned into words,
followed by its description: ``legal.contract_review`` reads as "legal contract review".

- :class:`EmbeddingRanker` embeds the query and the capability texts with any async embed
  function and scores by cosine similarity. Capability vectors are cached by text, so a
  registry of stable capabilities costs one embedding (the query) per search.
- :class:`BM25Ranker` needs no model: Okapi BM25 over a small tokenizer. It only matches
  words, so paraphrased queries score much worse than with embeddings.
"""

from __future__ import annotations

import math
import re
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

EmbedFn = Callable[[list[str]], Awaitable[Sequence[Sequence[float]]]]
"""An async function that embeds texts, one vector per text, in order."""

Ranking = list[tuple[str, float]]

_STOPWORD_TEXT = """
a an and are as at be by can do does for from has have how i in into is it its me my of on or
our please so some that the their them then there these this to up us was we what when where
which who will with would you your s t
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Capability:
    """A capability as the ranker sees it."""

    name: str
    description: str

    @property
    def text(self) -> str:
        """The text that is embedded or indexed: the name as words, then the description."""
        words = " ".join(_NON_ALNUM.split(_CAMEL.sub(" ", self.name).lower())).strip()
        return f"{words}: {self.description}"


CapabilityLike = Capability | tuple[str, str]


def as_capabilities(items: Iterable[CapabilityLike]) -> list[Capability]:
    """Accept ``Capability`` objects or ``(name, description)`` pairs."""
    return [item if isinstance(item, Capability) else Capability(*item) for item in items]


def _fold(token: str) -> str:
    """Fold simple English plurals (``invoices`` -> ``invoice``); nothing more."""
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 4 and token.endswith(("sses", "xes", "ches", "shes")):
        return token[:-2]
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def tokenize(text: str) -> list[str]:
    """Lowercase words of ``text``: camelCase, dotted and underscored names are split.

    Stopwords are dropped and simple plurals folded.
    """
    words = _NON_ALNUM.split(_CAMEL.sub(" ", text).lower())
    return [_fold(word) for word in words if word and word not in STOPWORDS]


def _sorted(scores: Iterable[tuple[str, float]], top_k: int | None) -> Ranking:
    ranking = sorted(scores, key=lambda pair: (-pair[1], pair[0]))
    return ranking if top_k is None else ranking[:top_k]


class BM25Ranker:
    """Okapi BM25 over capability names and descriptions; no model, no dependency."""

    def __init__(self, *, k1: float = 1.5, b: float = 0.75) -> None:
        """Set the BM25 parameters.

        Args:
            k1: Term-frequency saturation.
            b: Length normalization (0: none, 1: full).
        """
        self.k1 = k1
        self.b = b

    def score(
        self, query: str, capabilities: Iterable[CapabilityLike], *, top_k: int | None = None
    ) -> Ranking:
        """Rank capabilities for ``query`` (synchronous).

        Args:
            query: Free text.
            capabilities: ``Capability`` objects or ``(name, description)`` pairs.
            top_k: Keep only the best ``top_k``.

        Returns:
            ``(name, score)`` pairs, best first; a capability sharing no word scores 0.
        """
        caps = as_capabilities(capabilities)
        documents = [Counter(tokenize(cap.text)) for cap in caps]
        if not documents:
            return []
        lengths = [sum(doc.values()) for doc in documents]
        average = sum(lengths) / len(lengths) or 1.0
        frequency: Counter[str] = Counter()
        for doc in documents:
            frequency.update(doc.keys())
        total = len(documents)
        terms = set(tokenize(query))
        scores = []
        for cap, doc, length in zip(caps, documents, lengths, strict=True):
            value = 0.0
            norm = self.k1 * (1 - self.b + self.b * length / average)
            for term in terms:
                tf = doc.get(term, 0)
                if tf:
                    df = frequency[term]
                    idf = math.log(1 + (total - df + 0.5) / (df + 0.5))
                    value += idf * tf * (self.k1 + 1) / (tf + norm)
            scores.append((cap.name, value))
        return _sorted(scores, top_k)

    async def rank(
        self, query: str, capabilities: Iterable[CapabilityLike], *, top_k: int | None = None
    ) -> Ranking:
        """Same as :meth:`score`, with the async signature of :class:`EmbeddingRanker`."""
        return self.score(query, capabilities, top_k=top_k)


def _unit(vector: Sequence[float]) -> tuple[float, ...]:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return tuple(x / norm for x in vector)


class EmbeddingRanker:
    """Cosine similarity between the query's and the capabilities' embeddings.

    Capability vectors are cached by capability text (least recently used ones are evicted
    past ``max_cache``). Call :meth:`invalidate` when the embedding model changes; a changed
    description is a new text and needs nothing.
    """

    def __init__(self, embed: EmbedFn, *, max_cache: int = 10_000) -> None:
        """Create the ranker.

        Args:
            embed: Embeds texts, e.g. ``agents.models.embedding.embed_function(server)``.
            max_cache: Capability vectors kept.
        """
        self._embed = embed
        self._max_cache = max_cache
        self._cache: OrderedDict[str, tuple[float, ...]] = OrderedDict()

    @property
    def cached(self) -> int:
        """Capability vectors in the cache."""
        return len(self._cache)

    def invalidate(self, texts: Iterable[str] | None = None) -> None:
        """Forget cached vectors: those of ``texts``, or all when None."""
        if texts is None:
            self._cache.clear()
            return
        for text in texts:
            self._cache.pop(text, None)

    async def warm(self, capabilities: Iterable[CapabilityLike]) -> None:
        """Embed and cache the capabilities that are not cached yet."""
        await self._vectors([cap.text for cap in as_capabilities(capabilities)], query=None)

    async def rank(
        self, query: str, capabilities: Iterable[CapabilityLike], *, top_k: int | None = None
    ) -> Ranking:
        """Rank capabilities for ``query`` by cosine similarity.

        Args:
            query: Free text.
            capabilities: ``Capability`` objects or ``(name, description)`` pairs.
            top_k: Keep only the best ``top_k``.

        Returns:
            ``(name, cosine)`` pairs, best first.
        """
        caps = as_capabilities(capabilities)
        vectors, query_vector = await self._vectors([cap.text for cap in caps], query=query)
        assert query_vector is not None
        scores = (
            (cap.name, sum(q * v for q, v in zip(query_vector, vector, strict=True)))
            for cap, vector in zip(caps, vectors, strict=True)
        )
        return _sorted(scores, top_k)

    async def _vectors(
        self, texts: list[str], *, query: str | None
    ) -> tuple[list[tuple[float, ...]], tuple[float, ...] | None]:
        """Vectors of ``texts`` (from the cache, or embedded in one call with the query)."""
        missing = list(dict.fromkeys(text for text in texts if text not in self._cache))
        batch = missing + ([query] if query is not None else [])
        embedded = [_unit(vector) for vector in await self._embed(batch)] if batch else []
        if len(embedded) != len(batch):
            raise ValueError(f"embed returned {len(embedded)} vectors for {len(batch)} texts")
        fresh = dict(zip(missing, embedded, strict=False))
        for text, vector in fresh.items():
            self._cache[text] = vector
        vectors = []
        for text in texts:
            vector = fresh.get(text) or self._cache[text]
            self._cache.move_to_end(text)
            vectors.append(vector)
        while len(self._cache) > self._max_cache:
            self._cache.popitem(last=False)
        return vectors, (embedded[-1] if query is not None else None)
