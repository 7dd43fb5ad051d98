"""The legal agent closes its SWI-Prolog processes when it stops."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agents.legal.agent import agent as legal
from agents.legal.workflow import DEMO_CASE
from agents.sdk.testing import AgentTestEnvironment

pytestmark = pytest.mark.prolog


def swipl_children() -> set[int]:
    """The pids of this process's ``swipl`` children."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")"
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if name == "swipl" and ppid == os.getpid():
            found.add(int(entry.name))
    return found


async def test_stopping_the_agent_stops_its_prolog_processes(swipl: str) -> None:
    before = swipl_children()
    async with AgentTestEnvironment(legal, timeout_s=120) as env:
        parsed = await env.execute("sara.parse_case", {"case": DEMO_CASE.read_text()})
        assert parsed.kind.value == "result", parsed.payload
        output = parsed.payload["output"]
        answer = await env.execute(
            "legal.infer", {"facts": output["facts"], "query": output["query"]}
        )
        assert answer.kind.value == "result", answer.payload
        # the case expander and the reasoner pool's workers (2 by default)
        assert len(swipl_children() - before) >= 3
    assert swipl_children() - before == set()
