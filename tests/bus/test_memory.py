"""The transport contract on the in-memory transport."""

from __future__ import annotations

import pytest

from bus import MemoryTransport
from tests.bus.contract import TransportContract


class MemoryConfig:
    """Builds in-memory transports and closes them after the test."""

    @pytest.fixture
    async def make_transport(self):
        made: list[MemoryTransport] = []

        def make(**options) -> MemoryTransport:
            made.append(MemoryTransport(**options))
            return made[-1]

        yield make
        for transport in made:
            await transport.close()


class TestMemoryTransport(MemoryConfig, TransportContract):
    """Every contract test, in memory."""
