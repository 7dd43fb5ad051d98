"""Fixtures of the model-serving tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from tests.models.embedding_fixtures import loaded_embedder
from tests.models.fake_gateway import FakeGateway


@pytest.fixture
def registry() -> CollectorRegistry:
    """A registry of the test's own, so metrics do not leak between tests."""
    return CollectorRegistry()


@pytest.fixture
def embedder() -> Any:
    """The real int8 MiniLM embedder, loaded once per process."""
    return loaded_embedder()


@pytest.fixture(scope="session")
def gateway_server() -> Iterator[FakeGateway]:
    """One scripted OpenAI-compatible server for the session."""
    server = FakeGateway()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def gateway(gateway_server: FakeGateway) -> FakeGateway:
    """The scripted gateway, with no replies queued and no requests recorded."""
    gateway_server.reset()
    return gateway_server
