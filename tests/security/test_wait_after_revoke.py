"""A long poll (``GET /v1/runs/{id}/wait``, up to 300 s) whose token is revoked while it waits
is not sent the run.

The stream and the gateway check their token again before each thing they send; the wait did
not: a viewer token revoked mid-wait got ``200`` with the run's input and output once the run
finished (seen on ``modx serve``), though its next request was already a ``401``."""

from __future__ import annotations

import asyncio

from tests.fixtures.services import wait_until
from tests.fixtures.stack import ADMIN, Stack

ONE_SIGNAL = {"name": "one-signal", "steps": [{"id": "go", "wait": {"signal": "go"}}]}


async def test_a_wait_whose_token_was_revoked_meanwhile_answers_401(stack: Stack) -> None:
    admin = {"authorization": f"Bearer {ADMIN}"}
    issued = await stack.client.post(
        "/v1/tokens", json={"tenant": "default", "role": "viewer"}, headers=admin
    )
    assert issued.status_code == 201, issued.text
    viewer = {"authorization": f"Bearer {issued.json()['token']}"}
    run_id = await stack.submit(ONE_SIGNAL, {"secret": "s3cr3t"})
    waiting = asyncio.create_task(
        stack.client.get(f"/v1/runs/{run_id}/wait", params={"timeout_s": 120}, headers=viewer)
    )
    # The wait is open once it sleeps on the run's finish (else the revoke comes first, and
    # the wait is refused as it arrives, with or without the check).
    await wait_until(lambda: run_id in stack.runtime.orchestrator.watch._on_finish)
    revoked = await stack.client.delete(f"/v1/tokens/{issued.json()['id']}", headers=admin)
    assert revoked.status_code == 200, revoked.text
    signal = await stack.client.post(f"/v1/runs/{run_id}/signals/go", json={"ok": 1})
    assert signal.status_code == 202, signal.text
    answer = await waiting
    assert answer.status_code == 401, answer.text  # before: 200, with the run's input and output
    assert "s3cr3t" not in answer.text
    # A token that still holds gets the run.
    done = await stack.client.get(f"/v1/runs/{run_id}/wait", params={"timeout_s": 120})
    assert done.status_code == 200 and done.json()["status"] == "succeeded", done.text
