"""Fixtures of the discovery tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.models.embedding_fixtures import loaded_embedder


@pytest.fixture
def embedder() -> Any:
    """The real int8 MiniLM embedder, loaded once per process."""
    return loaded_embedder()
