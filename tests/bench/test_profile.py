"""What ``bench.profile`` reports a sampled stack as doing."""

from __future__ import annotations

from collections import Counter

from bench import profile

WRITER_PUBLISH = (
    "Runner.run (asyncio/runners.py:118)",
    "Orchestrator._write_loop (services/orchestrator/service.py:467)",
    "Orchestrator.committed (services/orchestrator/service.py:378)",
    "OutboxRelay.publish_committed (services/outbox.py:110)",
    "OutboxRelay._send (services/outbox.py:194)",
)
RELAY_LOOP = (
    "Runner.run (asyncio/runners.py:118)",
    "OutboxRelay.run (services/outbox.py:136)",
    "OutboxRelay.flush (services/outbox.py:160)",
)


def test_the_writers_publish_is_the_writers_not_the_relays_housekeeping() -> None:
    found = profile.summarize(Counter({WRITER_PUBLISH: 3, RELAY_LOOP: 1}))["activities"]
    assert found["orchestrator writer (batches of changes)"] == 75.0
    assert found["outbox relay (housekeeping)"] == 25.0
