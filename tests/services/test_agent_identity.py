"""Agent identity in the registry, in both modes: a bus agent has a key, a live name belongs to
its key, a pinned step is pinned to one agent's id, and a draining agent stays gone."""

from __future__ import annotations

from typing import Any

from bus.signing import generate_keypair
from tests.fixtures.identity import keyed
from tests.fixtures.services import wait_until
from tests.fixtures.stack import Stack, running_stack


def card(name: str, capability: str = "id.work") -> dict[str, Any]:
    return {"name": name, "capabilities": [{"name": capability}]}


async def test_a_bus_agent_without_a_key_is_refused(stack: Stack) -> None:
    response = await stack.client.post("/v1/agents", json=card("keyless"))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["details"][0]["path"] == "$.public_key"
    assert "MODX_INSECURE_AGENTS" in error["message"]
    http = {**card("legacy"), "transport": "http", "endpoint": "http://127.0.0.1:9/task"}
    assert (await stack.client.post("/v1/agents", json=http)).status_code == 201
    assert "warnings" not in (await stack.client.get("/readyz")).json()


async def test_insecure_mode_lets_keyless_agents_in_and_says_so(tmp_path: Any) -> None:
    async with running_stack("embedded", tmp_path, None, None, insecure_agents=True) as stack:
        assert (await stack.client.post("/v1/agents", json=card("keyless"))).status_code == 201
        ready = (await stack.client.get("/readyz")).json()
        assert "MODX_INSECURE_AGENTS=1" in ready["warnings"][0]
        page = await stack.client.get("/dashboard/login")
        assert "insecure-warning" in page.text


async def test_a_live_name_belongs_to_its_key(stack: Stack) -> None:
    key, other = generate_keypair()[0], generate_keypair()[0]
    first = await stack.client.post("/v1/agents", json=keyed(card("worker"), key))
    assert first.status_code == 201
    impostor = await stack.client.post("/v1/agents", json=keyed(card("worker"), other))
    assert impostor.status_code == 409 and impostor.json()["error"]["code"] == "name_taken"
    unproven = {k: v for k, v in keyed(card("worker"), key).items() if k != "proof"}
    assert (await stack.client.post("/v1/agents", json=unproven)).status_code == 409
    stolen = keyed(card("worker"), key)
    stolen["proof"]["signature"] = keyed(card("worker"), other)["proof"]["signature"]
    assert (await stack.client.post("/v1/agents", json=stolen)).status_code == 401
    old = keyed(card("worker"), key)
    old["proof"]["signed_at"] = "2020-01-01T00:00:00+00:00"
    stale = await stack.client.post("/v1/agents", json=old)
    assert stale.status_code == 422
    assert stale.json()["error"]["details"][0]["path"] == "$.proof.signed_at"
    # The same key with a fresh proof: a restart, or another instance of the same agent.
    again = await stack.client.post("/v1/agents", json=keyed(card("worker"), key))
    assert again.status_code == 201
    assert again.json()["agent_id"] != first.json()["agent_id"]
    online = await stack.client.get("/v1/agents", params={"name": "worker", "status": "online"})
    assert len(online.json()) == 2


async def test_a_pinned_step_is_pinned_to_one_id_and_a_draining_agent_stays_gone(
    stack: Stack,
) -> None:
    key = generate_keypair()[0]
    one = (await stack.client.post("/v1/agents", json=keyed(card("pinned"), key))).json()
    two = (await stack.client.post("/v1/agents", json=keyed(card("pinned"), key))).json()
    workflow = {
        "name": "pinned",
        "steps": [{"id": "p", "capability": "id.work", "agent": one["agent_id"], "input": {}}],
    }
    run_id = await stack.submit(workflow)

    async def dispatched() -> bool:
        run = (await stack.client.get(f"/v1/runs/{run_id}")).json()
        return bool(run["steps"][0]["task_id"])

    await wait_until(dispatched)
    step = (await stack.client.get(f"/v1/runs/{run_id}")).json()["steps"][0]
    assert step["agent_id"] == one["agent_id"]  # not "pinned" the name, nor the other instance

    # Deregistered with its task out: draining. Its lease runs out: removed, and a late
    # heartbeat does not bring it back.
    headers = {"authorization": f"Bearer {one['token']}"}
    url = f"/v1/agents/{one['agent_id']}"
    assert (await stack.client.delete(url, headers=headers)).status_code == 202
    assert (await stack.client.get(url)).json()["status"] == "draining"

    async def removed() -> bool:
        return (await stack.client.get(url)).status_code == 404

    await wait_until(removed)
    beat = await stack.client.post(f"{url}/heartbeat", json={}, headers=headers)
    assert beat.status_code == 401  # its token went with it
    assert (await stack.client.get(url)).status_code == 404

    async def offline() -> bool:  # the other never heartbeat either: offline, not removed
        other = await stack.client.get(f"/v1/agents/{two['agent_id']}")
        return bool(other.json()["status"] == "offline")

    await wait_until(offline)
