"""Rank capabilities against a free-text query: by embeddings, or by BM25 as a fallback.

Both rankers take the capabilities ``(name, description)`` on each call, because the registry's
set changes while the ranker lives, and return ``[(name, score), ...]`` best first (ties by
name). A capability is represented by its name with dots and underscores turned into words,
followed by its description: ``legal.contract_review`` reads as "legal contract review".
The embedding ranker also embeds the description alone, as a second *view*, and scores a
capability by its best view (bench/results/discovery_eval.md).

Passing a :class:`Corpus` instead of a plain list keeps what the rankers derive from a set of
capabilities (texts, BM25 term statistics, the matrix of embeddings) on the corpus, so the
queries over an unchanged set only tokenize or embed the query itself.

- :class:`EmbeddingRanker` embeds the query and the capability texts with any async embed
  function and scores by cosine similarity. Capability vectors are cached by text, so a
  registry of stable capabilities costs one embedding (the query) per search.
- :class:`BM25Ranker` needs no model: Okapi BM25 over a small tokenizer and an inverted index
  (:class:`LexicalIndex`). It only matches words, so paraphrased queries score much worse than
  with embeddings.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
from numpy.typing import NDArray

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

    @property
    def views(self) -> tuple[str, ...]:
        """The texts embedded for this capability: :attr:`text`, then the description alone.

        The name's words help a request that names the capability, but pull the text away
        from a paraphrase of the description alone; scoring by the best view keeps both.
        """
        return (self.text, self.description) if self.description.strip() else (self.text,)


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


@lru_cache(maxsize=32_768)
def term_counts(text: str) -> Mapping[str, int]:
    """How often each token occurs in ``text`` (cached: a registry's texts rarely change)."""
    # A plain dict of str -> int: the garbage collector does not track it, so the cache costs
    # nothing to full collections.
    return dict(Counter(tokenize(text)))


def _sorted(scores: Iterable[tuple[str, float]], top_k: int | None) -> Ranking:
    ranking = sorted(scores, key=lambda pair: (-pair[1], pair[0]))
    return ranking if top_k is None else ranking[:top_k]


class LexicalIndex:
    """BM25 term statistics of a list of texts: an inverted index, built once.

    A query only visits the documents that contain one of its terms.
    """

    def __init__(self, texts: Sequence[str], *, k1: float, b: float) -> None:
        """Index ``texts`` (document ``i`` is ``texts[i]``) with the BM25 parameters."""
        documents = [term_counts(text) for text in texts]
        lengths = [sum(doc.values()) for doc in documents]
        average = (sum(lengths) / len(lengths) if lengths else 0.0) or 1.0
        self.k1 = k1
        self.total = len(documents)
        self._norms = [k1 * (1 - b + b * length / average) for length in lengths]
        postings: dict[str, list[tuple[int, int]]] = {}
        for index, doc in enumerate(documents):
            for term, tf in doc.items():
                postings.setdefault(term, []).append((index, tf))
        # Tuples of numbers only: the garbage collector stops tracking them.
        self._postings = {term: tuple(found) for term, found in postings.items()}

    def scores(self, query: str) -> dict[int, float]:
        """Scores of the documents sharing a term with ``query`` (the others score 0)."""
        values: dict[int, float] = {}
        k1 = self.k1
        for term in set(tokenize(query)):
            postings = self._postings.get(term)
            if not postings:
                continue
            df = len(postings)
            idf = math.log(1 + (self.total - df + 0.5) / (df + 0.5))
            for index, tf in postings:
                values[index] = values.get(index, 0.0) + idf * tf * (k1 + 1) / (
                    tf + self._norms[index]
                )
        return values


class Corpus:
    """A fixed list of capabilities, and what rankers derive from it, computed once.

    Attributes:
        names: The capabilities' names, in the order given.
        texts: Their texts (:attr:`Capability.text`), in that order.
    """

    def __init__(self, capabilities: Iterable[CapabilityLike]) -> None:
        """Hold ``capabilities``; nothing else is computed until a ranker asks."""
        listed = as_capabilities(capabilities)
        self.names = [cap.name for cap in listed]
        self.texts = [cap.text for cap in listed]
        views = [cap.views for cap in listed]
        # Every view of every capability, flat, and the capability each belongs to.
        self.view_texts = [text for group in views for text in group]
        self.view_owners = np.repeat(np.arange(len(views)), [len(group) for group in views])
        self._lexical: dict[tuple[float, float], LexicalIndex] = {}
        self._matrix: tuple[object, NDArray[np.float64]] | None = None

    def __len__(self) -> int:
        return len(self.names)

    @cached_property
    def fingerprint(self) -> str:
        """A digest of the texts in order: corpora with equal fingerprints rank equally.

        The views derive from the texts (each holds its description), so they need no digest.
        """
        digest = hashlib.sha256()
        for text in self.texts:
            digest.update(text.encode())
            digest.update(b"\0")
        return digest.hexdigest()

    def lexical(self, k1: float, b: float) -> LexicalIndex:
        """The BM25 index of the texts (built on first use)."""
        index = self._lexical.get((k1, b))
        if index is None:
            index = self._lexical[(k1, b)] = LexicalIndex(self.texts, k1=k1, b=b)
        return index


def as_corpus(capabilities: Corpus | Iterable[CapabilityLike]) -> Corpus:
    """A :class:`Corpus` as it is, or one made of the capabilities given."""
    return capabilities if isinstance(capabilities, Corpus) else Corpus(capabilities)


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
        self,
        query: str,
        capabilities: Corpus | Iterable[CapabilityLike],
        *,
        top_k: int | None = None,
    ) -> Ranking:
        """Rank capabilities for ``query`` (synchronous).

        Args:
            query: Free text.
            capabilities: A :class:`Corpus` (its index is reused), ``Capability`` objects or
                ``(name, description)`` pairs.
            top_k: Keep only the best ``top_k``.

        Returns:
            ``(name, score)`` pairs, best first; a capability sharing no word scores 0.
        """
        corpus = as_corpus(capabilities)
        values = corpus.lexical(self.k1, self.b).scores(query)
        return _sorted(
            ((name, values.get(index, 0.0)) for index, name in enumerate(corpus.names)), top_k
        )

    def scores(self, query: str, corpus: Corpus) -> dict[str, float]:
        """Scores by name of the capabilities that share a word with ``query`` (others: 0)."""
        values = corpus.lexical(self.k1, self.b).scores(query)
        return {corpus.names[index]: value for index, value in values.items()}

    async def rank(
        self,
        query: str,
        capabilities: Corpus | Iterable[CapabilityLike],
        *,
        top_k: int | None = None,
    ) -> Ranking:
        """Same as :meth:`score`, with the async signature of :class:`EmbeddingRanker`."""
        return self.score(query, capabilities, top_k=top_k)


Vector = NDArray[np.float64]


def _unit(vector: Sequence[float]) -> Vector:
    array = np.asarray(vector, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"an embedding must be a flat list of numbers, not shape {array.shape}")
    norm = float(np.linalg.norm(array)) or 1.0
    return array / norm


class EmbeddingRanker:
    """Cosine similarity between the query's and the capabilities' embeddings.

    A capability scores the best cosine over its views (:attr:`Capability.views`).

    Capability vectors are cached by capability text (least recently used ones are evicted
    past ``max_cache``), and a :class:`Corpus` keeps the matrix of its vectors, so ranking an
    unchanged corpus embeds the query alone and costs one matrix-vector product. Call
    :meth:`invalidate` when the embedding model changes; a changed description is a new text
    and needs nothing.
    """

    def __init__(self, embed: EmbedFn, *, max_cache: int = 10_000, max_batch: int = 128) -> None:
        """Create the ranker.

        Args:
            embed: Embeds texts, e.g. ``agents.models.embedding.embed_function(server)``.
            max_cache: Capability vectors kept.
            max_batch: Texts per call of ``embed`` (the ``model.embed`` agent takes 256 at
                most); the calls of one ranking run concurrently.
        """
        self._embed = embed
        self._max_cache = max_cache
        self._max_batch = max_batch
        self._cache: OrderedDict[str, Vector] = OrderedDict()
        # Matrices kept on corpora are valid for this generation only: invalidate() starts another.
        self._generation = object()

    @property
    def cached(self) -> int:
        """Capability vectors in the cache."""
        return len(self._cache)

    def invalidate(self, texts: Iterable[str] | None = None) -> None:
        """Forget cached vectors: those of ``texts``, or all when None."""
        self._generation = object()
        if texts is None:
            self._cache.clear()
            return
        for text in texts:
            self._cache.pop(text, None)

    async def warm(self, capabilities: Iterable[CapabilityLike]) -> None:
        """Embed and cache the capabilities that are not cached yet."""
        texts = [text for cap in as_capabilities(capabilities) for text in cap.views]
        await self._vectors(texts, query=None)

    async def rank(
        self,
        query: str,
        capabilities: Corpus | Iterable[CapabilityLike],
        *,
        top_k: int | None = None,
    ) -> Ranking:
        """Rank capabilities for ``query`` by cosine similarity.

        Args:
            query: Free text.
            capabilities: A :class:`Corpus` (its matrix is reused), ``Capability`` objects or
                ``(name, description)`` pairs.
            top_k: Keep only the best ``top_k``.

        Returns:
            ``(name, cosine)`` pairs (the best view's), best first.
        """
        corpus = as_corpus(capabilities)
        similarities = await self.similarities(query, corpus)
        return _sorted(zip(corpus.names, similarities.tolist(), strict=True), top_k)

    async def similarities(self, query: str, corpus: Corpus) -> Vector:
        """The best cosine of ``query`` with each capability's views, in the corpus's order.

        Raises:
            ValueError: The embed function answered the wrong number of vectors, or vectors
                of different sizes (as when the model changed).
        """
        kept = corpus._matrix
        if kept is not None and kept[0] is self._generation:
            matrix = kept[1]
            _, query_vector = await self._vectors([], query=query)
        else:
            vectors, query_vector = await self._vectors(corpus.view_texts, query=query)
            matrix = np.array(vectors) if vectors else np.empty((0, len(query_vector)))
            corpus._matrix = (self._generation, matrix)
        if matrix.ndim != 2 or matrix.shape[1] != len(query_vector):
            raise ValueError(f"vectors of {matrix.shape} and a query of {query_vector.shape}")
        similarities: Vector = np.full(len(corpus), -np.inf)
        np.maximum.at(similarities, corpus.view_owners, matrix @ query_vector)
        return similarities

    async def _vectors(self, texts: list[str], *, query: str | None) -> tuple[list[Vector], Vector]:
        """Vectors of ``texts`` (from the cache, or embedded with the query, concurrently)."""
        missing = list(dict.fromkeys(text for text in texts if text not in self._cache))
        batch = missing + ([query] if query is not None else [])
        wanted = set(missing)  # the query is not cached
        size = self._max_batch
        chunks = [batch[start : start + size] for start in range(0, len(batch), size)]
        answers = await asyncio.gather(*map(self._embed, chunks), return_exceptions=True)
        embedded: list[Vector] = []
        failure: BaseException | None = None
        for chunk, answer in zip(chunks, answers, strict=True):
            if isinstance(answer, BaseException) or len(answer) != len(chunk):
                failure = failure or (
                    answer
                    if isinstance(answer, BaseException)
                    else ValueError(f"embed returned {len(answer)} vectors for {len(chunk)} texts")
                )
                continue
            vectors = [_unit(vector) for vector in answer]
            # Cache what was embedded even if another chunk failed: a large cold registry
            # then gets embedded over successive queries instead of failing every time.
            self._cache.update((t, v) for t, v in zip(chunk, vectors, strict=True) if t in wanted)
            embedded.extend(vectors)
        if failure is not None:
            self._evict()
            raise failure
        fresh = dict(zip(missing, embedded, strict=False))
        vectors = []
        for text in texts:
            vector = fresh[text] if text in fresh else self._cache[text]
            self._cache.move_to_end(text)
            vectors.append(vector)
        self._evict()
        return vectors, (embedded[-1] if query is not None else np.empty(0))

    def _evict(self) -> None:
        while len(self._cache) > self._max_cache:
            self._cache.popitem(last=False)


RRF_K = 60
"""Reciprocal rank fusion's constant (Cormack et al., 2009): a capability's fused score is the
sum over rankings of ``1 / (RRF_K + rank)``, so no single ranking's top place dominates."""


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int = RRF_K) -> dict[str, float]:
    """Fuse rankings (names, best first; a name a ranking leaves out gets nothing from it).

    Only ranks count, not scores: cosine similarities and BM25 scores are on scales that
    cannot be added, and ranks need no calibration.
    """
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, name in enumerate(ranking, start=1):
            fused[name] = fused.get(name, 0.0) + 1.0 / (k + rank)
    return fused
