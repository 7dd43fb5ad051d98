"""In a real browser: inspect dead letters, discard one, replay another to a healed consumer."""

from __future__ import annotations

from typing import Any

import pytest

from bus.envelope import Envelope, Kind
from bus.transport import ConsumerOptions
from tests.dashboard.conftest import login, shot
from tests.fixtures.services import wait_until
from tests.fixtures.stack import Stack

pytestmark = pytest.mark.browser

STREAM = "modx.tasks.dash.flaky"


async def test_dead_letters_are_shown_discarded_and_replayed(dash: Stack, page: Any) -> None:
    transport = dash.runtime.transport
    healed = False
    handled: list[str] = []

    async def handler(envelope: Envelope) -> None:
        if not healed:
            raise RuntimeError("downstream database unavailable")
        handled.append(envelope.id)

    options = ConsumerOptions(max_deliveries=1, visibility_timeout_s=0.1, block_ms=50)
    subscription = await transport.subscribe(STREAM, "dash.flaky", "c1", handler, options)
    try:
        good = Envelope(kind=Kind.TASK, topic="dash.flaky", sender="tester", payload={"n": 42})
        await transport.publish(STREAM, good)
        await transport.publish_raw(STREAM, b"\xff\xfe not an envelope")

        async def both_dead() -> bool:
            return (await transport.dlq_streams()).get(STREAM) == 2

        await wait_until(both_dead, timeout=15)
        letters = {x.envelope is None: x for x in await transport.dead_letters(STREAM)}
        garbage, envelope = letters[True], letters[False]

        await login(page, dash.url, "/dashboard/dead-letters")
        section = page.locator(f'section.dlq[data-stream="{STREAM}"]')
        assert await section.locator("tr.dead-letter").count() == 2
        row = section.locator(f'tr.dead-letter[data-id="{envelope.id}"]')
        assert "downstream database unavailable" in await row.locator(".reason").inner_text()
        await row.locator("summary").click()
        assert '"n": 42' in await row.locator("pre").inner_text()
        assert (
            "malformed"
            in await section.locator(f'tr.dead-letter[data-id="{garbage.id}"] .reason').inner_text()
        )
        await shot(page, "dead-letters")

        # Discard the garbage (after confirming): it is gone from the page and from the DLQ.
        await section.locator(
            f'tr.dead-letter[data-id="{garbage.id}"] button:text("Discard")'
        ).click()
        await page.locator("#confirm").wait_for(state="visible")
        await page.click("#confirm-yes")
        await section.locator(f'tr.dead-letter[data-id="{garbage.id}"]').wait_for(state="detached")
        assert [x.id for x in await transport.dead_letters(STREAM)] == [envelope.id]

        # Cancelling the confirmation leaves the entry alone.
        await row.locator('button:text("Replay")').click()
        await page.click("#confirm-no")
        assert await row.count() == 1

        # Heal the consumer, replay the envelope: it is handled, and the DLQ is empty.
        healed = True
        await row.locator('button:text("Replay")').click()
        await page.click("#confirm-yes")
        await row.wait_for(state="detached")
        await wait_until(lambda: handled == [good.id], timeout=15)
        assert await transport.dead_letters(STREAM) == []
        await page.reload()
        assert await page.locator(f'section.dlq[data-stream="{STREAM}"]').count() == 0
    finally:
        await subscription.stop(drain=False)
