"""Fixtures of the dashboard tests: an embedded MODX with the e2e agents, and a Chromium page.

Chromium is Debian's (``chromium`` fixture: a skip on a laptop without it, a failure in CI);
Playwright never downloads a browser here. Screenshots go to ``test-artifacts/dashboard/``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from agents.sdk import Agent, TaskContext
from tests.e2e import fleet
from tests.fixtures.stack import ADMIN, REPO, Stack, running_stack

ARTIFACTS = REPO / "test-artifacts" / "dashboard"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

FAILING = {
    "name": "range-then-flaky",
    "steps": [
        {"id": "make", "capability": "test.range", "input": {"n": 3}},
        {
            "id": "flaky",
            "capability": "test.flaky",
            "input": {"value": "$.steps.make.output.items[1]", "failures": 5},
            "retry": {"max_attempts": 3, "backoff_s": 0.05},
        },
    ],
}
HANGING = {
    "name": "hang-then-square",
    "steps": [
        {"id": "hang", "capability": "dash.hold", "input": {"value": 2}},
        {
            "id": "after",
            "capability": "test.square",
            "input": {"value": "$.steps.hang.output.value"},
        },
    ],
}


def holder(gate: asyncio.Event) -> Agent:
    """An agent whose ``dash.hold`` runs until ``gate`` opens (a run that stays running).

    Unlike ``test.hang`` it lets go when the test ends, so the agent drains at once.
    """
    agent = Agent("holder", version="1.0.0", description="Holds each task until released.")

    @agent.capability("dash.hold", description="Answers its input once released.")
    async def hold(request: fleet.Value, ctx: TaskContext) -> fleet.Value:
        await gate.wait()
        return request

    return agent


@pytest.fixture
async def dash(tmp_path: Path) -> AsyncIterator[Stack]:
    """Embedded MODX (SQLite, in-process bus) with ``numbers``, ``squares`` and ``holder``."""
    gate = asyncio.Event()
    async with running_stack(
        "embedded",
        tmp_path,
        None,
        None,
        agent_lease_s=3.0,
        heartbeat_interval_s=0.5,
        egress_allow=["127.0.0.1"],  # remote agents (A2A peers) of the tests listen on loopback
    ) as stack:
        await stack.agent(fleet.numbers)
        await stack.agent(fleet.squares)
        await stack.agent(holder(gate))
        try:
            yield stack
        finally:
            gate.set()


@pytest.fixture
async def page(chromium: str, dash: Stack) -> AsyncIterator[Any]:
    """A fresh Chromium page (closed before the stack stops, so no stream holds it up)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 1400, "height": 900})
        tab = await context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            yield tab
        finally:
            await context.close()
            await browser.close()
        assert not errors, f"JavaScript errors on the page: {errors}"


async def login(page: Any, base: str, path: str = "/dashboard") -> None:
    """Open ``path``, land on the login page, type the admin token, and come back."""
    await page.goto(base + path)
    assert re.search(r"/dashboard/login\?next=", page.url), page.url
    await page.fill("#token", ADMIN)
    await page.click("#login-submit")
    await page.wait_for_url(re.compile(re.escape(base + path) + r"(\?.*)?$"))


async def shot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.evaluate("window.scrollTo(0, 0)")  # else the sticky top bar lands mid-page
    await page.screenshot(path=str(path), full_page=True)
    return path
