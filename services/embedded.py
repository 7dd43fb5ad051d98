"""``modx up``: the API, the orchestrator and the built-in agents in one process, on SQLite.

Built-in agents register over HTTP like any other agent (one code path), but share the
server's in-process bus instead of opening their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import sys
from pathlib import Path

import httpx
import typer
import uvicorn

from agents.sdk import Agent, AgentSettings
from services.api.app import create_app
from services.builtin import builtin_agents, builtin_workflows
from services.config import Settings
from services.demo import run_demo
from services.runtime import Runtime

log = logging.getLogger(__name__)


def load_or_create_token(data_dir: Path) -> str:
    """The embedded admin token: ``MODX_API_TOKEN``, else ``<data_dir>/token`` (created 0600)."""
    if os.environ.get("MODX_API_TOKEN"):
        return os.environ["MODX_API_TOKEN"]
    path = data_dir / "token"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    token = "mdx_" + secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    return token


def run_embedded(*, host: str, port: int, data_dir: Path, demo: bool, exit_after_demo: bool) -> int:
    """Serve until interrupted (or until the demo is done); returns the exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return asyncio.run(_serve(host, port, data_dir, demo, exit_after_demo))


async def _serve(host: str, port: int, data_dir: Path, demo: bool, exit_after_demo: bool) -> int:
    token = load_or_create_token(data_dir)
    settings = Settings(
        data_dir=data_dir,
        admin_token=token,
        host=host,
        port=port,
        redis_url=None,
        database_url=os.environ.get("MODX_DATABASE_URL"),
    )
    app = create_app(settings)
    base_url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    stop_agents = asyncio.Event()
    agent_tasks: list[asyncio.Task[None]] = []
    agents = builtin_agents()

    async def start_agents(runtime: Runtime) -> None:
        agent_settings = AgentSettings(url=base_url, api_token=token)
        for agent in agents:
            agent_tasks.append(
                asyncio.create_task(_run_agent(agent, runtime, agent_settings, stop_agents))
            )
        await builtin_workflows(runtime)

    async def stop_builtin(_: Runtime) -> None:
        stop_agents.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*agent_tasks, return_exceptions=True), 10)

    app.state.on_ready.append(start_agents)
    app.state.on_shutdown.append(stop_builtin)
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            return 3  # the port is taken, or start-up failed (uvicorn said why)
        await asyncio.sleep(0.05)
    _banner(base_url, data_dir, token, [a.name for a in agents])
    code = 0
    if demo:
        try:
            async with httpx.AsyncClient(
                base_url=base_url, headers={"authorization": f"Bearer {token}"}, timeout=120
            ) as client:
                code = await run_demo(client)
        except Exception as exc:  # the service keeps running; the demo's failure is reported
            typer.secho(f"demo failed: {exc!r}", fg=typer.colors.RED, err=True)
            code = 1
    if exit_after_demo:
        server.should_exit = True
    await serving
    return code


async def _run_agent(
    agent: Agent, runtime: Runtime, settings: AgentSettings, stop: asyncio.Event
) -> None:
    try:
        await agent.run(
            transport=runtime.transport, settings=settings, stop=stop, handle_signals=False
        )
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("built-in agent %s stopped", agent.name)


def _banner(url: str, data_dir: Path, token: str, agents: list[str]) -> None:
    out = sys.stdout
    typer.secho("MODX is running (embedded)", fg=typer.colors.GREEN, bold=True, file=out)
    typer.echo(f"  API        {url}   (OpenAPI: {url}/docs)", file=out)
    typer.echo(f"  Dashboard  {url}/dashboard", file=out)
    typer.echo(
        f"  Token      {data_dir / 'token'}   (export MODX_API_TOKEN=$(cat {data_dir / 'token'}))",
        file=out,
    )
    typer.echo(f"  State      {data_dir / 'modx.db'}", file=out)
    typer.echo(f"  Agents     {', '.join(agents) or 'none'}", file=out)
    del token
