"""``modx``: run the service, agents and workflows from a shell.

Every command that prints data takes ``--json``; exit codes: 0 ok, 1 run failed, 2 bad request,
3 service unreachable, 4 not authorized, 5 not found.
"""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer
import yaml

from modx.errors import error_text
from modx.locate import find_server
from services.cli import client as cli_client
from services.cli.app import ModxApp
from services.cli.bench import app as bench_app
from services.cli.client import Client
from services.cli.db import app as db_app
from services.cli.errors import check_port_free, file_error
from services.cli.keys import app as keys_app
from services.cli.ledger import app as ledger_app
from services.cli.legal import app as legal_app
from services.cli.table import print_page, print_table
from services.cli.tokens import tenant_app, token_app

app = ModxApp(
    help="MODX: multi-agent orchestration with verifiable legal reasoning. Add --debug to any "
    "command to see a traceback when it fails.",
    no_args_is_help=True,
)
run_app = typer.Typer(help="Submit, inspect and cancel runs.", no_args_is_help=True)
workflow_app = typer.Typer(help="Register and read workflow definitions.", no_args_is_help=True)
agent_app = typer.Typer(
    help="Run, list and remove agents; register MCP servers and A2A agents.", no_args_is_help=True
)
app.add_typer(run_app, name="run")
app.add_typer(workflow_app, name="workflow")
app.add_typer(db_app, name="db")
app.add_typer(agent_app, name="agent")
app.add_typer(legal_app, name="legal")
app.add_typer(ledger_app, name="ledger")
app.add_typer(bench_app, name="bench")
app.add_typer(token_app, name="token")
app.add_typer(tenant_app, name="tenant")
app.add_typer(keys_app, name="keys")


class AgentTransport(StrEnum):
    """How an agent's tasks reach it."""

    AUTO = "auto"
    BUS = "bus"
    GATEWAY = "gateway"
    HTTP = "http"


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
UrlOpt = Annotated[str | None, typer.Option("--url", envvar="MODX_URL", help="MODX API URL.")]
STATUS_COLORS = {
    "succeeded": typer.colors.GREEN,
    "failed": typer.colors.RED,
    "timed_out": typer.colors.RED,
    "cancelled": typer.colors.YELLOW,
    "running": typer.colors.BLUE,
    "pending": typer.colors.WHITE,
}


def _print(data: Any, as_json: bool) -> None:
    typer.echo(json.dumps(data, indent=None if as_json else 2, default=str))


def _load_file(path: Path) -> Any:
    text = path.read_text()
    try:
        return yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise file_error(str(path), exc) from exc


@app.command()
def up(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="MODX_PORT", help="Port to listen on.")] = 8000,
    data_dir: Annotated[Path, typer.Option(help="Where state and the token live.")] = Path(".modx"),
    demo: Annotated[bool, typer.Option(help="Submit the demo workflow once started.")] = True,
    exit_after_demo: Annotated[
        bool, typer.Option(help="Stop after the demo (for scripts).")
    ] = False,
) -> None:
    """Run MODX embedded: API, orchestrator and built-in agents in one process, on SQLite."""
    from services.embedded import run_embedded

    check_port_free(host, port)
    code = run_embedded(
        host=host, port=port, data_dir=data_dir, demo=demo, exit_after_demo=exit_after_demo
    )
    raise typer.Exit(code)


@app.command()
def serve(
    host: Annotated[
        str | None,
        typer.Option(help="Interface to listen on (default: MODX_HOST, else 127.0.0.1)."),
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port to listen on (default: MODX_PORT, else 8000).")
    ] = None,
    orchestrate: Annotated[
        bool, typer.Option(help="Run the orchestrator's loops in this process.")
    ] = True,
) -> None:
    """Run the API and the orchestrator for the distributed mode (PostgreSQL + Redis)."""
    import uvicorn

    from agents.sdk.http_protocol import http_protocol_of
    from services import collector
    from services.api.app import GRACEFUL_SHUTDOWN_S, KEEP_ALIVE_S, create_app
    from services.config import Settings

    overrides: dict[str, Any] = {"host": host, "port": port}
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    host, port = settings.host, settings.port
    check_port_free(host, port)
    from services.ledger.keys import LedgerKeyMissing, load

    try:
        load(settings)  # a missing or malformed ledger key stops here, with the reason
    except (LedgerKeyMissing, ValueError) as exc:
        cli_client.fail(str(exc), cli_client.BAD_REQUEST)
    if settings.embedded:
        typer.secho(
            "MODX_REDIS_URL is not set: the bus is in-process (use `modx up` for that).",
            fg=typer.colors.YELLOW,
            err=True,
        )
    # Ctrl-C or SIGTERM: open connections (long polls, live views) get a few seconds, not
    # as long as they like; the lifespan then stops the loops and hands back undelivered work.
    served = create_app(settings, orchestrate=orchestrate)
    served.state.on_ready.append(collector.when_ready)  # after start-up: GC settings
    uvicorn.run(
        served,
        host=host,
        port=port,
        log_level="info",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        timeout_keep_alive=KEEP_ALIVE_S,
        ws_max_size=settings.gateway_max_frame_bytes,
        http=http_protocol_of(settings),
    )


@agent_app.command("run")
def agent_run(
    target: Annotated[
        str,
        typer.Argument(
            help="MODULE:ATTRIBUTE of an Agent, imported from the current directory first: "
            "shop:agent is the `agent` of ./shop.py."
        ),
    ],
    transport: Annotated[
        AgentTransport,
        typer.Option(
            envvar="MODX_AGENT_TRANSPORT",
            help="How tasks arrive: bus, gateway (the API's WebSocket), auto (the bus when "
            "it is reachable from here, else the gateway), or http (MODX POSTs each task to "
            "this process: see --port).",
        ),
    ] = AgentTransport.AUTO,
    host: Annotated[
        str, typer.Option(help="With --transport http: the interface to listen on.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="With --transport http: the port to listen on.")] = 8080,
    public_url: Annotated[
        str | None,
        typer.Option(
            help="With --transport http: where MODX reaches this agent "
            "(default http://HOST:PORT; MODX must be allowed to call it, see MODX_EGRESS_ALLOW)."
        ),
    ] = None,
    url: UrlOpt = None,
) -> None:
    """Run an agent: register over HTTP, heartbeat, serve its capabilities until SIGTERM."""
    from agents.sdk import AgentSettings, load_agent

    sys.path.insert(0, os.getcwd())
    agent = load_agent(target)
    server = find_server(url)  # --url / MODX_URL, MODX_API_TOKEN, else what `modx up` recorded
    if transport is AgentTransport.HTTP:
        settings = AgentSettings(url=server.url, api_token=server.token)
        check_port_free(host, port)
        typer.echo(
            f"serving {agent.name} over HTTP at {public_url or f'http://{host}:{port}'}/task "
            f"for {server.url}",
            err=True,
        )
        agent.run_http_sync(host, port, public_url, settings=settings)
        return
    settings = AgentSettings(transport=transport.value, url=server.url, api_token=server.token)
    agent.run_sync(settings=settings)


@agent_app.command("list")
def agent_list(
    status: Annotated[str | None, typer.Option(help="Only agents in this state.")] = None,
    url: UrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The agents MODX knows, with their state, transport and capabilities."""
    params = {"status": status} if status else None
    agents = Client(url, as_json=as_json).request("GET", "/v1/agents", params=params)
    if as_json:
        print_page(agents)
        return
    print_table(
        ("NAME", "VERSION", "STATUS", "TRANSPORT", "CAPABILITIES"),
        [(a["name"], a["version"], a["status"], a["transport"], _capabilities(a)) for a in agents],
        [typer.colors.GREEN if a["status"] == "online" else None for a in agents],
    )


def _capabilities(agent: Any) -> str:
    return ", ".join(c["name"] for c in agent["capabilities"])


@agent_app.command("remove")
def agent_remove(
    agent: Annotated[
        str, typer.Argument(help="The agent's name (as `modx agent list` shows) or id.")
    ],
    url: UrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Deregister an agent (needs an admin token); it is removed once its tasks end.

    No new task goes to it; an MCP server's process is stopped. Needed to register an MCP server
    or an A2A agent again under the same name.
    """
    api = Client(url, as_json=as_json)
    found = api.request("GET", "/v1/agents", params={"name": agent})
    live = [a for a in found if a["status"] != "gone"]
    if not live:
        found = [a for a in api.request("GET", "/v1/agents") if a["agent_id"] == agent]
        live = [a for a in found if a["status"] != "gone"]
    if not live:
        cli_client.fail(
            f"no agent named {agent!r}", cli_client.NOT_FOUND, as_json, hint="see `modx agent list`"
        )
    answers = [api.request("DELETE", f"/v1/agents/{quote(a['agent_id'], safe='')}") for a in live]
    if as_json:
        _print(answers, True)
        return
    for answer in answers:
        typer.echo(f"removing {agent} ({answer['agent_id']}): {answer['status']}")


@agent_app.command("add-mcp")
def agent_add_mcp(
    name: Annotated[str, typer.Argument(help="The agent's name: tools become mcp.NAME.TOOL.")],
    target: Annotated[
        list[str],
        typer.Argument(
            help="A streamable-HTTP URL, or after -- the command that starts a stdio server "
            "(e.g. modx agent add-mcp calc -- python -m my_server)."
        ),
    ],
    env: Annotated[
        list[str] | None, typer.Option("--env", help="KEY=VALUE for a stdio server; repeat.")
    ] = None,
    header: Annotated[
        list[str] | None, typer.Option("--header", help="Name: value sent to a URL; repeat.")
    ] = None,
    description: Annotated[str, typer.Option(help="What the server is for.")] = "",
    url: UrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register an MCP server as an agent (a command needs a system admin token)."""
    body: dict[str, Any] = {"name": name, "description": description}
    if len(target) == 1 and target[0].startswith(("http://", "https://")):
        body["url"] = target[0]
        body["headers"] = dict(_pair(h, ":", "--header") for h in header or [])
    else:
        body["command"] = target
        body["env"] = dict(_pair(e, "=", "--env") for e in env or [])
    row = Client(url, as_json=as_json).request("POST", "/v1/agents/mcp", json=body)
    if as_json:
        _print(row, True)
        return
    typer.echo(f"registered {row['name']} ({row['agent_id']}) at {row['location']}")
    for capability in row["capabilities"]:
        typer.echo(f"  {capability}")
    for tool in row.get("rejected_tools", []):
        typer.echo(f"  rejected {tool['name']}: {tool['reason']}")


@agent_app.command("add-a2a")
def agent_add_a2a(
    card_url: Annotated[
        str,
        typer.Argument(help="The Agent Card's URL (https://host/.well-known/agent-card.json)."),
    ],
    name: Annotated[
        str | None, typer.Option(help="The agent's name here (default: the card's name).")
    ] = None,
    header: Annotated[
        list[str] | None,
        typer.Option("--header", help="Name: value sent with every request to the agent; repeat."),
    ] = None,
    url: UrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a remote A2A agent by its Agent Card: its skills become capabilities."""
    body: dict[str, Any] = {"card_url": card_url}
    if name is not None:
        body["name"] = name
    if header:
        body["headers"] = dict(_pair(h, ":", "--header") for h in header)
    row = Client(url, as_json=as_json).request("POST", "/v1/agents/a2a", json=body)
    if as_json:
        _print(row, True)
        return
    how = "streaming" if row["streaming"] else "not streaming"
    typer.echo(f"registered {row['name']} ({row['agent_id']}) at {row['endpoint']} ({how})")
    for capability in row["capabilities"]:
        typer.echo(f"  {capability}")


def _pair(text: str, sep: str, option: str) -> tuple[str, str]:
    key, found, value = text.partition(sep)
    if not found or not key.strip():
        cli_client.fail(f"{option} {text!r}: expected KEY{sep}VALUE", cli_client.BAD_REQUEST, False)
    return key.strip(), value.strip()


@workflow_app.command("register")
def workflow_register(
    file: Annotated[Path, typer.Argument(exists=True, help="YAML or JSON definition.")],
    url: UrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a definition (a new version when its content changed)."""
    row = Client(url, as_json=as_json).request("POST", "/v1/workflows", json=_load_file(file))
    if as_json:
        _print(row, True)
    else:
        typer.echo(f"registered {row['name']} version {row['version']}")
        for warning in row.get("warnings", []):
            typer.secho(f"warning: {warning}", fg=typer.colors.YELLOW, err=True)


@workflow_app.command("list")
def workflow_list(url: UrlOpt = None, as_json: JsonOpt = False) -> None:
    """The latest version of every workflow."""
    rows = Client(url, as_json=as_json).request("GET", "/v1/workflows")
    if as_json:
        print_page(rows)
        return
    print_table(
        ("NAME", "VERSION", "STEPS"),
        [(r["name"], r["version"], len(r["definition"]["steps"])) for r in rows],
    )


@run_app.command("submit")
def run_submit(
    workflow: Annotated[
        str, typer.Argument(help="A YAML/JSON definition file, or a registered name.")
    ],
    input_: Annotated[
        str | None,
        typer.Option("--input", help="The run's input, as JSON (or @file.json); none if omitted."),
    ] = None,
    wait: Annotated[bool, typer.Option(help="Wait for the run to finish.")] = False,
    timeout: Annotated[
        float, typer.Option(help="With --wait: seconds to wait at most (the run goes on after).")
    ] = 300.0,
    idempotency_key: Annotated[str | None, typer.Option(help="Same key, same run.")] = None,
    url: UrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Start a run; with --wait, exit 0 if it succeeded and 1 if not."""
    api = Client(url, as_json=as_json)
    path = Path(workflow)
    spec: Any = _load_file(path) if path.exists() else workflow
    input_ = "null" if input_ is None else input_
    raw = Path(input_[1:]).read_text() if input_.startswith("@") else input_
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        cli_client.fail(
            f"--input is not JSON: {exc}",
            cli_client.BAD_REQUEST,
            as_json,
            hint=cli_client.JSON_HINT,
        )
    with api.guard() as modx:
        accepted = modx.submit(spec, value, idempotency_key=idempotency_key)
    if not wait:
        _print(vars(accepted), as_json) if as_json else typer.echo(
            f"run {accepted.run_id} {accepted.status}"
        )
        return
    run = _wait(api, accepted.run_id, timeout, as_json)
    if as_json:
        _print(run, True)
    else:
        _show_waited(run, timeout)
    raise typer.Exit(cli_client.OK if run["status"] == "succeeded" else cli_client.RUN_FAILED)


def _wait(api: Client, run_id: str, timeout: float, as_json: bool) -> Any:
    """Follow the run's event stream until it ends (the client resumes a stream the server
    closes early), showing progress on a terminal; then read the run once."""
    show = not as_json and sys.stderr.isatty()
    done: set[str] = set()
    with api.guard() as modx:
        for event in modx.stream(run_id, timeout=timeout):
            if show:
                if event.step_id and event.to_state in ("succeeded", "skipped"):
                    done.add(event.step_id)
                typer.echo(f"\r{event.type:20} {len(done)} steps done", nl=False, err=True)
        run = modx.get(run_id).raw
    if show:
        typer.echo("", err=True)
    return run


def _show_waited(run: Any, timeout: float) -> None:
    """``_show``, and for a run the wait gave up on, that it goes on (exit code 1 alone read
    as a failed run)."""
    _show(run)
    if run["status"] in ("pending", "running"):
        run_id = run["run_id"]
        typer.secho(
            f"still {run['status']} after --timeout {timeout:g} s; the run goes on "
            f"(modx run show {run_id}, modx run cancel {run_id})",
            fg=typer.colors.YELLOW,
            err=True,
        )


def _show(run: Any) -> None:
    typer.secho(
        f"run {run['run_id']}  {run['workflow']}  {run['status']}",
        fg=STATUS_COLORS.get(run["status"]),
        bold=True,
    )
    if run.get("parent_run_id"):
        typer.echo(f"  child of run {run['parent_run_id']} (step {run['parent_step_id']})")
    for step in _in_order(run["steps"]):
        typer.echo(f"  {step['step_id']:24} {step['status']:10} {_progress(step)}".rstrip())
        if step["error"]:
            typer.secho(f"    error: {step['error'].get('message')}", fg=typer.colors.RED)
        if (step.get("meta") or {}).get("waiting"):
            typer.secho(f"    {step['meta']['waiting']}", fg=typer.colors.YELLOW)
        elif step["status"] == "running" and (step.get("meta") or {}).get("signal"):
            signal = step["meta"]["signal"]
            typer.secho(
                f"    waiting for signal {signal} (modx run signal {run['run_id']} {signal})",
                fg=typer.colors.YELLOW,
            )
            question = step["meta"].get("question")
            if isinstance(question, dict):  # a remote agent asks (its answer: {"text", "data"})
                typer.secho(f"    the agent asks: {question.get('text')}", fg=typer.colors.YELLOW)
                for data in question.get("data") or []:
                    typer.echo(f"      {json.dumps(data)[:2000]}")
        children = (step.get("meta") or {}).get("children")
        if children:
            typer.echo(f"    child runs: {', '.join(children)} (modx run show ID)")
    if run["error"]:
        typer.secho(f"error: {error_text(run['error'])}", fg=typer.colors.RED)
    if run["output"] is not None:
        typer.echo("output: " + json.dumps(run["output"], indent=2)[:4000])


def _in_order(steps: list[Any]) -> list[Any]:
    """The steps in the order they started (those not started last), each followed by its
    fan-out's items; the API lists them as its rows were written."""
    items: dict[str, list[Any]] = {}
    for step in steps:
        if step.get("item_index") is not None:
            items.setdefault(step["definition_id"], []).append(step)
    ordered: list[Any] = []
    for step in sorted(steps, key=lambda s: s.get("started_at") or s.get("scheduled_at") or "~"):
        if step.get("item_index") is None:
            ordered.append(step)
            ordered.extend(items.pop(step["definition_id"], []))
    return ordered + [s for rest in items.values() for s in rest]  # items whose step is not out


def _progress(step: Any) -> str:
    """``attempt 1/3  agent …<id>`` for a step that ran; a fan-out's items finished; nothing for a
    step that has not started."""
    meta = step.get("meta") or {}
    if step.get("item_index") is None and "items" in meta:
        return f"{meta.get('finished', 0)}/{meta['items']} items finished"
    if not step["attempt"]:
        return ""
    text = f"attempt {step['attempt']}/{step['max_attempts']}"
    return f"{text}  agent …{step['agent_id'][-12:]}" if step["agent_id"] else text


@run_app.command("show")
def run_show(run_id: str, url: UrlOpt = None, as_json: JsonOpt = False) -> None:
    """One run with its steps."""
    run = Client(url, as_json=as_json).request("GET", f"/v1/runs/{run_id}")
    _print(run, True) if as_json else _show(run)


@run_app.command("list")
def run_list(
    status: Annotated[str | None, typer.Option(help="Only runs in this state.")] = None,
    workflow: Annotated[str | None, typer.Option(help="Only runs of this workflow.")] = None,
    parent: Annotated[
        str | None, typer.Option(help="Only the child runs of this run (sub-workflows, loops).")
    ] = None,
    limit: Annotated[int, typer.Option(help="How many.")] = 20,
    cursor: Annotated[str | None, typer.Option(help="Continue after this cursor.")] = None,
    url: UrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Runs, newest first."""
    params = {
        k: v
        for k, v in {
            "status": status,
            "workflow": workflow,
            "parent_run_id": parent,
            "limit": limit,
            "cursor": cursor,
        }.items()
        if v is not None
    }
    page = Client(url, as_json=as_json).request("GET", "/v1/runs", params=params)
    if as_json:
        print_page(page["items"], page["next_cursor"])
        return
    runs = page["items"]
    print_table(
        ("RUN", "WORKFLOW", "STATUS", "CREATED"),
        [(r["run_id"], r["workflow"], r["status"], r["created_at"]) for r in runs],
        [STATUS_COLORS.get(r["status"]) for r in runs],
    )
    if page["next_cursor"]:
        typer.echo(f"more: --cursor {page['next_cursor']}", err=True)


@run_app.command("events")
def run_events(run_id: str, url: UrlOpt = None, as_json: JsonOpt = False) -> None:
    """A run's history, in order."""
    events = Client(url, as_json=as_json).request("GET", f"/v1/runs/{run_id}/events")
    if as_json:
        print_page(events)
        return
    print_table(("TIME", "TYPE", "STEP", "CHANGE", "REASON"), [_event_row(e) for e in events])


def _event_row(event: Any) -> tuple[str, ...]:
    waiting = event["type"] == "step.waiting"
    reason = (event.get("data") or {}).get("reason") if waiting else ""
    change = f"{event['from_state'] or ''} -> {event['to_state'] or ''}"
    return (event["created_at"], event["type"], event["step_id"] or "", change, reason or "")


@run_app.command("cancel")
def run_cancel(run_id: str, url: UrlOpt = None, as_json: JsonOpt = False) -> None:
    """Cancel a run."""
    api = Client(url, as_json=as_json)
    with api.guard() as modx:
        result = modx.cancel(run_id)
    _print(vars(result), True) if as_json else typer.echo(f"run {run_id} {result.status}")


@run_app.command("signal")
def run_signal(
    run_id: str,
    name: Annotated[str, typer.Argument(help="The signal's name (a wait step's `signal`).")],
    data: Annotated[
        str,
        typer.Option("--data", help="The signal's body, as JSON (or @file.json / @file.yaml)."),
    ] = "null",
    url: UrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Send a signal to a run: the steps waiting for NAME end with the body as their output."""
    if data.startswith("@"):
        body = _load_file(Path(data[1:]))
    else:
        try:
            body = json.loads(data)
        except json.JSONDecodeError as exc:
            cli_client.fail(
                f"--data is not JSON: {exc}",
                cli_client.BAD_REQUEST,
                as_json,
                hint=cli_client.JSON_HINT.replace("input.json", "data.json"),
            )
    with Client(url, as_json=as_json).guard() as modx:
        answer = modx.signal(run_id, name, body)
    if as_json:
        _print(answer, True)
    else:
        taken = f"taken by {', '.join(answer['steps'])}" if answer["steps"] else ""
        kept = answer.get("kept") or []
        held = f"kept by {', '.join(kept)} until it waits" if kept else ""
        typer.echo(f"signal {name} sent to run {run_id}: {taken or held}")


@run_app.command("retry")
def run_retry(
    run_id: str,
    wait: Annotated[bool, typer.Option(help="Wait for the new run to finish.")] = False,
    timeout: Annotated[
        float, typer.Option(help="With --wait: seconds to wait at most (the run goes on after).")
    ] = 300.0,
    url: UrlOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Retry a failed run from its failed step: a new run that keeps the succeeded steps."""
    api = Client(url, as_json=as_json)
    with api.guard() as modx:
        accepted = modx.retry(run_id)
    if not wait:
        _print(vars(accepted), True) if as_json else typer.echo(
            f"run {accepted.run_id} {accepted.status} (retry of {run_id})"
        )
        return
    run = _wait(api, accepted.run_id, timeout, as_json)
    _print(run, True) if as_json else _show_waited(run, timeout)
    raise typer.Exit(cli_client.OK if run["status"] == "succeeded" else cli_client.RUN_FAILED)


def main() -> None:
    """Entry point of the ``modx`` script."""
    app()


if __name__ == "__main__":
    main()
