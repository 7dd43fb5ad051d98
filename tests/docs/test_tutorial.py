"""docs/tutorial.md, run as written: its files are written, its commands run in order in an
empty directory, and each command's output must show what the page says it shows.

How the page is read:
- a fenced block with ``file=NAME`` is a file to create;
- a ``console`` block holds ``$ command`` lines, each followed by the lines it prints (``…``
  stands for anything, spaces are compared loosely); ``# exits N`` after a command is its exit
  code (0 otherwise);
- ``modx up`` and ``modx agent run`` keep running: they are started in the background, and the
  tutorial goes on once they have printed what the page shows;
- a ``python`` block without a file is run as a script; a ``# text`` comment on a ``print`` line
  is what that line prints;
- ``<!-- tutorial: stop the agent -->`` is the reader pressing Ctrl-C in the agent's terminal.

Then the dashboard is opened in Chromium, as section 6 says, and must show the run.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.dashboard.conftest import CHROMIUM_ARGS
from tests.fixtures.services import free_port
from tests.fixtures.stack import REPO

TUTORIAL = REPO / "docs" / "tutorial.md"
BACKGROUND = ("modx up", "modx agent run")
FENCE = re.compile(r"^```(\w*)(?: file=(\S+))?\n(.*?)^```$", re.M | re.S)
DIRECTIVE = re.compile(r"<!-- tutorial: (.+?) -->")


@dataclass
class Command:
    line: str
    expected: list[str]
    exit_code: int = 0


@dataclass
class Block:
    kind: str  # "console", "python" or "directive"
    commands: list[Command] = field(default_factory=list)
    text: str = ""


def parse(page: str) -> tuple[dict[str, str], list[Block]]:
    """The files to create, and the steps in the order of the page."""
    files: dict[str, str] = {}
    found: list[tuple[int, Block]] = []
    for match in FENCE.finditer(page):
        lang, name, body = match.groups()
        if name:
            files[name] = body
        elif lang == "console":
            found.append((match.start(), Block("console", _commands(body))))
        elif lang == "python":
            found.append((match.start(), Block("python", text=body)))
    for match in DIRECTIVE.finditer(page):
        found.append((match.start(), Block("directive", text=match.group(1))))
    return files, [block for _, block in sorted(found, key=lambda pair: pair[0])]


def _commands(body: str) -> list[Command]:
    commands: list[Command] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            command, _, comment = line[2:].partition("  # ")
            exits = re.match(r"exits (\d+)", comment)
            commands.append(Command(command.strip(), [], int(exits.group(1)) if exits else 0))
        elif line.strip():
            commands[-1].expected.append(line)
    return commands


def _loose(text: str) -> str:
    return " ".join(text.split())


def missing(expected: list[str], output: str) -> list[str]:
    """The expected lines that no line of ``output`` shows."""
    lines = [_loose(line) for line in output.splitlines()]
    absent = []
    for line in expected:
        pattern = ".*".join(re.escape(part) for part in _loose(line).split("…"))
        if not any(re.search(pattern, have) for have in lines):
            absent.append(line)
    return absent


class Reader:
    """The reader's shell: an empty directory, the repository's ``modx`` on the PATH, and no
    MODX settings but a free port and a private config directory."""

    def __init__(self, home: Path) -> None:
        self.home = home
        base = {k: v for k, v in os.environ.items() if not k.startswith("MODX_")}
        self.env = {
            **base,
            "PATH": f"{Path(sys.executable).parent}:{base.get('PATH', '')}",
            "PYTHONPATH": str(REPO),
            "XDG_CONFIG_HOME": str(home / "config"),
            "MODX_PORT": str(free_port()),
        }
        self.background: list[tuple[str, asyncio.subprocess.Process, Path]] = []

    async def run(self, command: str) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            "bash",
            "-c",
            command,
            cwd=self.home,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 180)
        return proc.returncode or 0, out.decode()

    async def start(self, command: Command) -> None:
        """Start a long-running command; return once it printed what the page shows."""
        log = self.home / f"background-{len(self.background)}.log"
        with open(log, "wb") as out:  # noqa: ASYNC230 - a moment, before the process starts
            proc = await asyncio.create_subprocess_exec(
                "bash",
                "-c",
                f"exec {command.line}",
                cwd=self.home,
                env=self.env,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        self.background.append((command.line, proc, log))
        for _ in range(600):
            text = log.read_text(errors="replace")
            if not missing(command.expected, text):
                return
            assert proc.returncode is None, f"{command.line} exited:\n{text}"
            await asyncio.sleep(0.2)
        raise AssertionError(f"{command.line} never printed {command.expected}:\n{text}")

    async def stop(self, prefix: str) -> str:
        """Ctrl-C in the terminal of the latest command starting with ``prefix``."""
        for line, proc, log in reversed(self.background):
            if line.startswith(prefix) and proc.returncode is None:
                proc.send_signal(signal.SIGINT)
                await asyncio.wait_for(proc.wait(), 60)
                return log.read_text(errors="replace")
        raise AssertionError(f"nothing running that starts with {prefix!r}")

    async def close(self) -> None:
        for _, proc, _ in reversed(self.background):
            if proc.returncode is None:
                proc.send_signal(signal.SIGINT)
                try:
                    await asyncio.wait_for(proc.wait(), 30)
                except TimeoutError:
                    proc.kill()
                    await proc.wait()


@pytest.fixture
async def reader(tmp_path: Path) -> AsyncIterator[Reader]:
    shell = Reader(tmp_path)
    try:
        yield shell
    finally:
        await shell.close()


DIRECTIVES = {"stop the agent": "modx agent run"}


async def test_the_tutorial_runs_as_written(reader: Reader, chromium: str) -> None:
    files, steps = parse(TUTORIAL.read_text())
    assert {"shop.py", "basket.yaml", "broken.yaml"} <= files.keys()
    for name, body in files.items():
        (reader.home / name).write_text(body)

    ran: list[str] = []
    for step in steps:
        if step.kind == "directive":
            await reader.stop(DIRECTIVES[step.text])
            continue
        if step.kind == "python":
            script = reader.home / f"snippet-{len(ran)}.py"
            script.write_text(step.text)
            code, out = await reader.run(f"{sys.executable} {script.name}")
            expected = re.findall(r"print\(.*\)\s+# (.+)$", step.text, re.M)
            assert code == 0 and not missing(expected, out), out
            ran.append(script.name)
            continue
        for command in step.commands:
            if command.line.startswith(BACKGROUND):
                await reader.start(command)
            else:
                code, out = await reader.run(command.line)
                assert code == command.exit_code, f"{command.line} exited {code}:\n{out}"
                absent = missing(command.expected, out)
                assert not absent, f"{command.line} did not print {absent}:\n{out}"
            ran.append(command.line)
    # Every part of the tour ran: the agent, a fan-out run, each way of breaking it, Python.
    assert any(line.startswith("modx agent run") for line in ran)
    assert sum("--wait" in line for line in ran) >= 4
    assert any(line.endswith(".py") for line in ran)

    await _the_dashboard_shows_the_run(reader, chromium)


async def _the_dashboard_shows_the_run(reader: Reader, chromium: str) -> None:
    """Section 6: log in with the token in .modx/token and find the basket run."""
    from playwright.async_api import async_playwright

    state: dict[str, Any] = json.loads((reader.home / ".modx" / "state.json").read_text())
    token = (reader.home / ".modx" / "token").read_text().strip()
    code, out = await reader.run("modx run list --status succeeded --json")
    runs = [r for r in json.loads(out)["items"] if r["workflow"] == "basket"]
    assert code == 0 and runs, out
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            await page.goto(f"{state['url']}/dashboard/runs/{runs[-1]['run_id']}")
            await page.fill("#token", token)
            await page.click("#login-submit")
            await page.wait_for_url(re.compile(r".*/dashboard/runs/.*"))
            body = await page.inner_text("body")
        finally:
            await browser.close()
    assert "basket" in body and "succeeded" in body.lower(), body[:2000]
    assert "shop.price" in body and "shop.total" in body, body[:2000]
