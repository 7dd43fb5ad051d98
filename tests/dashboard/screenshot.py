"""Make ``docs/screenshots/run-detail.png``: a real run page, with DAG, timeline and trace.

``python -m tests.dashboard.screenshot [OUT]`` starts an embedded MODX with the e2e agents,
runs a fan-out workflow in which one step fails three times (retried, then failing the run),
opens the run page in Debian's Chromium (never a downloaded browser), opens one message of the
trace, and saves it.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

from playwright.async_api import async_playwright

from tests.dashboard.conftest import CHROMIUM_ARGS
from tests.e2e import fleet
from tests.fixtures.stack import ADMIN, REPO, running_stack

WORKFLOW = {
    "name": "score-portfolio",
    "steps": [
        {"id": "load", "capability": "test.range", "input": {"n": "$.input.n"}},
        {
            "id": "score",
            "capability": "test.square",
            "for_each": "$.steps.load.output.items",
            "input": {"value": "$.item"},
        },
        {
            "id": "enrich",
            "capability": "test.flaky",
            "input": {"value": 7, "failures": 5},
            "after": ["load"],
            "retry": {"max_attempts": 3, "backoff_s": 0.15},
        },
        {"id": "total", "capability": "test.sum", "input": {"values": "$.steps.score.output"}},
        {"id": "publish", "capability": "test.noop", "input": {}, "after": ["total", "enrich"]},
    ],
    "output": "$.steps.total.output.total",
}


async def main(out: Path) -> None:
    """Run the workflow and save the screenshot to ``out``."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with tempfile.TemporaryDirectory() as tmp:
        async with running_stack(
            "embedded", Path(tmp), None, None, agent_lease_s=3.0, heartbeat_interval_s=0.5
        ) as stack:
            await stack.agent(fleet.numbers)
            await stack.agent(fleet.squares)
            run_id = await stack.submit(WORKFLOW, {"n": 5})
            await stack.wait(run_id)
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=chromium, args=CHROMIUM_ARGS
                )
                page = await browser.new_page(
                    viewport={"width": 1440, "height": 2000}, device_scale_factor=1
                )
                await page.goto(f"{stack.url}/dashboard/runs/{run_id}")
                await page.fill("#token", ADMIN)
                await page.click("#login-submit")
                await page.wait_for_url(f"{stack.url}/dashboard/runs/{run_id}")
                await page.locator('#trace details.msg[data-kind="error"] summary').first.click()
                await page.screenshot(path=str(out), full_page=False)
                await browser.close()


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs/screenshots/run-detail.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    asyncio.run(main(target))
    print(target)
