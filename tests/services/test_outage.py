"""Telling an outage from a bug: which failures mean the database or the bus is away."""

from __future__ import annotations

import pytest
from redis.exceptions import (
    ClusterCrossSlotError,
    ClusterDownError,
    MasterDownError,
    OutOfMemoryError,
    RedisClusterUnreachableError,
    ResponseError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError

from bus.errors import PublishError
from services.outage import BUS, DATABASE, dependency_of


@pytest.mark.parametrize(
    "exc",
    [
        RedisConnectionError("refused"),
        PublishError("cannot publish"),
        # A Redis Cluster failing over, migrating a slot, or out of reach as a whole.
        ClusterDownError("CLUSTERDOWN The cluster is down"),
        MasterDownError("MASTERDOWN Link with MASTER is down"),
        TryAgainError("TRYAGAIN"),
        SlotNotCoveredError('Slot "12" is not covered by the cluster.'),
        RedisClusterUnreachableError("no node answers"),
        # Full: maxmemory with noeviction refuses writes until memory is freed.
        OutOfMemoryError("command not allowed when used memory > 'maxmemory'."),
    ],
)
def test_the_bus_away_is_an_outage_of_the_bus(exc: Exception) -> None:
    assert dependency_of(exc) == BUS
    assert dependency_of(RuntimeError("wrapped")) is None
    try:
        raise RuntimeError("while publishing") from exc
    except RuntimeError as wrapper:
        assert dependency_of(wrapper) == BUS  # the cause says more


@pytest.mark.parametrize(
    "exc", [ClusterCrossSlotError("CROSSSLOT"), ResponseError("WRONGTYPE"), ValueError("bug")]
)
def test_a_refusal_that_waiting_cannot_change_is_no_outage(exc: Exception) -> None:
    assert dependency_of(exc) is None


def test_a_refused_connection_without_redis_in_it_is_the_database() -> None:
    assert dependency_of(ConnectionRefusedError("5432")) == DATABASE
