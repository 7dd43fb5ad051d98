"""The demo ``modx up`` runs: a short tax case of our own through ``sara-tax``, explained."""

from __future__ import annotations

import asyncio

import httpx
import typer

from agents.legal.workflow import DEMO_CASE


async def run_demo(client: httpx.AsyncClient, timeout_s: float = 120.0) -> int:
    """Submit the demo case, print the answer and its explanation; returns an exit code."""
    typer.secho("\nDemo: the sara-tax workflow on a case of our own", bold=True)
    case = DEMO_CASE.read_text()
    line = next(line[2:] for line in case.splitlines() if line.startswith("% How much"))
    # The case file ends its question with the answer worked out by hand: shown after the run.
    question, _, expected = line.rpartition("?")
    typer.echo(f"  {question}?")
    await wait_for_agents(
        client, {"sara.parse_case", "legal.validate_facts", "legal.infer", "legal.explain"}
    )
    response = await client.post(
        "/v1/runs", json={"workflow": "sara-tax", "input": {"case": case, "case_id": "demo"}}
    )
    response.raise_for_status()
    run_id = response.json()["run_id"]
    typer.echo(f"  run {run_id} submitted; waiting…")
    run = (await client.get(f"/v1/runs/{run_id}/wait", params={"timeout_s": timeout_s})).json()
    if run["status"] != "succeeded":
        typer.secho(f"  run {run['status']}: {run['error']}", fg=typer.colors.RED)
        return 1
    output = run["output"]
    typer.secho(f"  Answer: ${output['answer']}", fg=typer.colors.GREEN, bold=True)
    typer.echo(f"  (worked out by hand from the statutes: {expected.strip()})")
    # Every citation, in statute order: the answer's claim is that each one was used.
    typer.echo("  Statutes cited: " + ", ".join(output["citations"]))
    typer.echo("  Explanation (first lines):")
    for line in output["explanation"].splitlines()[:14]:
        typer.echo("    " + line)
    typer.echo(f"  Full trace: {client.base_url}/dashboard/runs/{run_id}")
    return 0


async def wait_for_agents(
    client: httpx.AsyncClient, capabilities: set[str], timeout_s: float = 60.0
) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout_s
    while loop.time() < end:
        items = (await client.get("/v1/capabilities", params={"live": "true"})).json()["items"]
        if capabilities <= {item["name"] for item in items}:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"the built-in agents did not register: {sorted(capabilities)}")
