"""The real embedding model, loaded once per test process; skipped (or failed in CI) if absent."""

from __future__ import annotations

import functools
from typing import Any

from tests.fixtures.services import missing


@functools.cache
def _load() -> Any:
    try:
        from agents.models.embedding import MiniLMEmbedder
    except ImportError as exc:
        return exc
    embedder = MiniLMEmbedder()
    try:
        embedder.load()
    except ImportError as exc:
        return exc
    return embedder


def loaded_embedder() -> Any:
    """The shared, loaded ``MiniLMEmbedder``; skips the test when the model is not installed."""
    embedder = _load()
    if isinstance(embedder, ImportError):
        missing(f"the embedding model ({embedder})")
    return embedder
