"""Capability discovery: find the capabilities that fit a free-text request."""

from services.discovery.ranking import (
    BM25Ranker,
    Capability,
    Corpus,
    EmbeddingRanker,
    EmbedFn,
    LexicalIndex,
    Ranking,
    tokenize,
)

__all__ = [
    "BM25Ranker",
    "Capability",
    "Corpus",
    "EmbedFn",
    "EmbeddingRanker",
    "LexicalIndex",
    "Ranking",
    "tokenize",
]
