"""Waits and sleeps are durable: ``modx serve`` killed (SIGKILL) and started again while steps
wait for a signal or sleep changes nothing, on SQLite with the in-process bus and on PostgreSQL
with Redis."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.serve import Restartable
from tests.fixtures.services import wait_until
from tests.fixtures.stack import TOKEN

APPROVAL = {
    "name": "approve-then-publish",
    "steps": [
        {
            "id": "approve",
            "wait": {
                "signal": "approval",
                "schema": {"type": "object", "required": ["ok"]},
                "timeout_s": 3600,
            },
        },
        # No agent in this test: a zero sleep stands for the step that runs only when approved.
        {"id": "publish", "sleep": {"seconds": 0}, "when": "$.steps.approve.output.ok"},
    ],
    "output": "$.steps.approve.output",
}
UNANSWERED = {
    "name": "unanswered",
    "steps": [{"id": "approve", "wait": {"signal": "approval", "timeout_s": 4}}],
}
# Signalled while the step before its wait sleeps: the signal is kept, through the restart.
EARLY = {
    "name": "signalled-early",
    "steps": [
        {"id": "nap", "sleep": {"seconds": 15}},
        {"id": "approve", "after": ["nap"], "wait": {"signal": "approval", "timeout_s": 3600}},
    ],
    "output": "$.steps.approve.output",
}
NAP = {
    "name": "nap",
    "steps": [{"id": "nap", "sleep": {"seconds": 4}}],
    "output": "$.steps.nap.output",
}


def _steps(run: dict[str, Any]) -> dict[str, str]:
    return {s["step_id"]: s["status"] for s in run["steps"]}


@pytest.mark.parametrize("mode", ["embedded", "distributed"])
async def test_a_restart_while_steps_wait_or_sleep_changes_nothing(
    mode: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    servers: list[subprocess.Popen[bytes]],
) -> None:
    server = Restartable(mode, request, tmp_path, servers)
    await server.started()
    headers = {"authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as client:
        ids = {}
        flows = (("approval", APPROVAL), ("unanswered", UNANSWERED), ("nap", NAP), ("early", EARLY))
        for name, workflow in flows:
            response = await client.post("/v1/runs", json={"workflow": workflow, "input": {}})
            assert response.status_code == 202, response.text
            ids[name] = response.json()["run_id"]

        async def all_waiting() -> bool:
            for run_id in ids.values():
                run = (await client.get(f"/v1/runs/{run_id}")).json()
                if run["steps"][0]["status"] != "running":
                    return False
            return True

        await wait_until(all_waiting)
        before = (await client.get(f"/v1/runs/{ids['approval']}/events")).json()
        early = {"ok": True, "comment": "before the step waited"}
        sent = await client.post(f"/v1/runs/{ids['early']}/signals/approval", json=early)
        assert sent.status_code == 202, sent.text
        assert (sent.json()["steps"], sent.json()["kept"]) == ([], ["approve"])

    server.kill()  # while the steps wait and sleep
    await server.started()

    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as client:
        approval = (await client.get(f"/v1/runs/{ids['approval']}")).json()
        assert approval["status"] == "running" and _steps(approval)["approve"] == "running"
        assert (await client.get(f"/v1/runs/{ids['approval']}/events")).json() == before
        decision = {"ok": True, "comment": "after the restart"}
        sent = await client.post(f"/v1/runs/{ids['approval']}/signals/approval", json=decision)
        assert sent.status_code == 202, sent.text
        finished = {}
        for name, run_id in ids.items():
            run: dict[str, Any] = {}
            for _ in range(60):
                run = (await client.get(f"/v1/runs/{run_id}/wait", params={"timeout_s": 5})).json()
                if run["status"] != "running":
                    break
            finished[name] = run
        approval = finished["approval"]
        assert approval["status"] == "succeeded" and approval["output"] == decision
        assert _steps(approval) == {"approve": "succeeded", "publish": "succeeded"}
        unanswered = finished["unanswered"]
        assert unanswered["status"] == "failed", unanswered
        assert _steps(unanswered) == {"approve": "timed_out"}
        signalled = finished["early"]
        assert signalled["status"] == "succeeded" and signalled["output"] == early, signalled
        kinds = [e["type"] for e in (await client.get(f"/v1/runs/{ids['early']}/events")).json()]
        assert kinds.index("signal.kept") < kinds.index("signal.received")
        nap = finished["nap"]
        assert nap["status"] == "succeeded", nap
        # Woken at its time or after, never before, though its timer was set by the killed process.
        assert datetime.fromisoformat(nap["finished_at"]) >= datetime.fromisoformat(
            nap["output"]["until"]
        )
        # Nothing was dispatched for any of them.
        for run_id in ids.values():
            events = (await client.get(f"/v1/runs/{run_id}/events")).json()
            assert not [e for e in events if e["type"] == "message.sent"]
        assert (await client.get("/v1/ledger/verify")).json()["ok"]
