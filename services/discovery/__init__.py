"""Capability discovery: find the capabilities that fit a free-text request."""

from services.discovery.ranking import (
    BM25Ranker,
    Capability,
    EmbeddingRanker,
    EmbedFn,
    Ranking,
    tokenize,
)

__all__ = ["BM25Ranker", "Capability", "EmbedFn", "EmbeddingRanker", "Ranking", "tokenize"]
