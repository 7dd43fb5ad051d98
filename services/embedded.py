"""The embedded mode: the API, the orchestrator and the built-in agents in one process, on SQLite.

Built-in agents register over HTTP like any other agent (one code path), but share the
server's in-process bus instead of opening their own. ``modx up`` serves until interrupted;
``modx legal eval --embedded`` and the benchmarks use the same ``embedded_service``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx
import typer
import uvicorn

from agents.sdk import Agent, AgentSettings
from agents.sdk.http_protocol import http_protocol_of
from modx.locate import config_dir
from services.api.app import GRACEFUL_SHUTDOWN_S, KEEP_ALIVE_S, create_app
from services.builtin import builtin_agents, builtin_workflows
from services.cli.errors import UserError
from services.cli.state import remove_state, write_state
from services.config import Settings, token_problem
from services.demo import run_demo
from services.runtime import Runtime

log = logging.getLogger(__name__)


def load_or_create_token(data_dir: Path) -> str:
    """The embedded admin token: ``MODX_API_TOKEN``, else ``<data_dir>/token`` (created 0600)."""
    if os.environ.get("MODX_API_TOKEN"):
        problem = token_problem(os.environ["MODX_API_TOKEN"])
        if problem is not None:
            raise UserError(
                f"setting MODX_API_TOKEN: {problem}",
                hint="unset it (modx up then makes one) or use a longer one",
            )
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


AGENT_DRAIN_S = 5.0  # built-in agents finish their tasks within this, or leave them in flight


class _Server(uvicorn.Server):
    """uvicorn, except that a signal asks the owner to stop (agents first) instead of exiting."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.stop_requested = asyncio.Event()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.stop_requested.is_set():  # a second Ctrl-C: exit now
            super().handle_exit(sig, frame)
        else:
            self.stop_requested.set()


@dataclass
class EmbeddedService:
    """A running embedded MODX."""

    url: str
    token: str
    data_dir: Path
    agents: list[str]
    server: _Server

    def client(self, timeout: float = 120.0) -> httpx.AsyncClient:
        """An HTTP client of this service, authenticated."""
        headers = {"authorization": f"Bearer {self.token}"}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=timeout)


@contextlib.asynccontextmanager
async def embedded_service(
    data_dir: Path, host: str = "127.0.0.1", port: int = 8000, agents: list[Agent] | None = None
) -> AsyncIterator[EmbeddedService]:
    """Serve MODX embedded until the block ends; built-in agents drain and leave first."""
    token = load_or_create_token(data_dir)
    settings = Settings(
        data_dir=data_dir,
        admin_token=token,
        host=host,
        port=port,
        redis_url=None,
        database_url=os.environ.get("MODX_DATABASE_URL"),
    )
    settings = _allow_loopback_agents(settings)
    app = create_app(settings)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    chosen = builtin_agents() if agents is None else agents
    stop_agents = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []

    app.state.on_ready.append(builtin_workflows)
    server = _Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
            timeout_keep_alive=KEEP_ALIVE_S,
            ws_max_size=settings.gateway_max_frame_bytes,
            http=http_protocol_of(settings),
        )
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
            raise RuntimeError(f"MODX could not start on {host}:{port}")
        await asyncio.sleep(0.05)
    # The agents register over HTTP, so they start once the server listens.
    runtime: Runtime = app.state.runtime
    # Built-in agents keep their keys with the service's data (a restart proves the same key).
    agent_settings = AgentSettings(url=url, api_token=token, key_dir=data_dir / "agent-keys")
    for agent in chosen:
        tasks.append(asyncio.create_task(_run_agent(agent, runtime, agent_settings, stop_agents)))
    try:
        yield EmbeddedService(url, token, data_dir, [a.name for a in chosen], server)
    finally:
        # Agents drain and deregister while the API still answers; then the server stops.
        stop_agents.set()
        # Tasks not finished by then stay in flight in the database: the next start sends
        # them again (the in-process bus starts a new incarnation).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), AGENT_DRAIN_S)
        server.should_exit = True
        await serving


def _allow_loopback_agents(settings: Settings) -> Settings:
    """The embedded mode runs on one machine: HTTP agents there may listen on loopback, unless
    ``MODX_EGRESS_ALLOW`` says otherwise. Said loudly, since it opens this host's own ports."""
    if "MODX_EGRESS_ALLOW" in os.environ:
        return settings
    log.warning(
        "embedded mode: HTTP agents may use loopback endpoints (127.0.0.1, ::1); "
        "set MODX_EGRESS_ALLOW to choose what MODX may call instead"
    )
    return settings.model_copy(update={"egress_allow": ["127.0.0.1", "::1"]})


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


def run_embedded(*, host: str, port: int, data_dir: Path, demo: bool, exit_after_demo: bool) -> int:
    """``modx up``: serve until interrupted (or until the demo is done); returns the exit code."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return asyncio.run(_up(host, port, data_dir, demo, exit_after_demo))


async def _up(host: str, port: int, data_dir: Path, demo: bool, exit_after_demo: bool) -> int:
    try:
        async with embedded_service(data_dir, host, port) as service:
            write_state(data_dir, service.url, service.token)
            _banner(service)
            code = 0
            if demo:
                code = await _demo_unless_stopped(service)
            if not exit_after_demo:
                await service.server.stop_requested.wait()
            remove_state(data_dir, service.url)
            return code
    except (RuntimeError, OSError) as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        return 3


async def _demo_unless_stopped(service: EmbeddedService) -> int:
    """Run the demo; Ctrl-C while it runs stops it (and then the service) at once."""

    async def demo() -> int:
        try:
            async with service.client() as client:
                return await run_demo(client)
        except Exception as exc:  # the service keeps running; the demo's failure is reported
            typer.secho(f"demo failed: {exc!r}", fg=typer.colors.RED, err=True)
            return 1

    running = asyncio.create_task(demo())
    stopped = asyncio.create_task(service.server.stop_requested.wait())
    await asyncio.wait([running, stopped], return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if running.done():
        return running.result()
    running.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running
    return 130  # interrupted, as a shell reports SIGINT


def _banner(service: EmbeddedService) -> None:
    out, url, data_dir = sys.stdout, service.url, service.data_dir
    typer.secho("MODX is running (embedded)", fg=typer.colors.GREEN, bold=True, file=out)
    typer.echo(f"  API        {url}   (OpenAPI: {url}/docs)", file=out)
    typer.echo(f"  Dashboard  {url}/dashboard   (log in with the token)", file=out)
    token_file = (data_dir / "token").resolve()
    from_env = os.environ.get("MODX_API_TOKEN") == service.token
    typer.echo(
        f"  Token      {'MODX_API_TOKEN (from this shell)' if from_env else token_file}",
        file=out,
    )
    typer.echo(f"  State      {data_dir / 'modx.db'}", file=out)
    typer.echo(f"  Agents     {', '.join(service.agents) or 'none'}", file=out)
    typer.echo("  Stop       Ctrl-C", file=out)
    typer.echo(
        f"The CLI finds this server by itself ({config_dir() / 'state.json'}). "
        "In another shell or machine:",
        file=out,
    )
    typer.echo(f"  export MODX_URL={url}", file=out)
    token = "$MODX_API_TOKEN" if from_env else f"$(cat {token_file})"
    typer.echo(f"  export MODX_API_TOKEN={token}", file=out)
