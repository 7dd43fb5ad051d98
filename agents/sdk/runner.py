"""The life of a bus agent process: register, serve, heartbeat, drain, deregister.

``run_agent`` is what ``Agent.run()`` does:

1. register the card over HTTP, backing off while the server is unreachable;
2. open the bus named by the registration (``MODX_BUS_URL`` or a ``transport=`` object wins),
   or the server's gateway (``agents.sdk.gateway``) when told to, or, in ``auto`` mode, when
   the bus is out of reach. A bus in the server's process (an embedded server's
   ``memory://``) is known before registering (``GET /v1/bus``): the agent registers once, for
   the gateway. A Redis that does not answer is found after: the agent registers again as a
   gateway agent then. With ``MODX_AGENT_TRANSPORT=bus`` an unreachable bus is an
   error at start: an agent never reports that it serves when no task can reach it;
3. serve tasks with a ``TaskRuntime`` and send heartbeats with the in-flight count, registering
   again if the server has forgotten the agent;
4. on SIGTERM/SIGINT (or when ``stop`` is set): stop pulling, drain in-flight tasks (heartbeats
   go on meanwhile, so the lease does not lapse and tasks are not dispatched twice), stop the
   subscriptions, ``DELETE /v1/agents/{id}``, close the bus. A second signal stops waiting
   for the drain; the cancelled tasks stay pending on the bus and are redelivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit, urlunsplit

from agents.sdk.errors import RequestRejected, ServerUnavailable, SetupError
from agents.sdk.gateway import GatewayTransport
from agents.sdk.registration import Registration, RegistryClient, keep_alive, wait_or_timeout
from agents.sdk.runtime import TaskRuntime
from agents.sdk.settings import AgentSettings
from agents.sdk.spill import ResultSpill
from bus import tasks
from bus.factory import create_transport, open_memory_transport
from bus.transport import Transport

if TYPE_CHECKING:
    from agents.sdk.agent import Agent

logger = logging.getLogger("agents.sdk")

DEREGISTER_TIMEOUT_S = 3.0
"""Longest wait for deregistration at a stop: with the bus's 5 s before it, a stop with both
servers unresponsive ends in about 8 s, under Docker's 10 s before SIGKILL."""

BUS_PING_TIMEOUT_S = 3.0
"""How long a bus may take to answer the first ping before ``auto`` takes the gateway."""


async def run_agent(
    agent: Agent,
    *,
    transport: Transport | None = None,
    settings: AgentSettings | None = None,
    stop: asyncio.Event | None = None,
    handle_signals: bool = True,
    registry: RegistryClient | None = None,
) -> None:
    """Register ``agent``, serve its capabilities from the bus until stopped, then leave cleanly.

    Args:
        agent: The agent to run.
        transport: A bus to use instead of opening the registration's ``bus_url`` (e.g. the
            embedded server's own in-memory transport). It is not closed on exit.
        settings: Server URL, token and retry settings; read from ``MODX_*`` when omitted.
        stop: Setting this event starts a graceful shutdown; one is created when omitted.
        handle_signals: Make SIGTERM and SIGINT start the shutdown (main thread only).
        registry: A registry client to use (tests); built from ``settings`` when omitted.

    Raises:
        SetupError: When the agent has no capabilities.
        RequestRejected: When the server refuses the registration (bad token or card).
    """
    if not agent.capabilities:
        raise SetupError(f"agent {agent.name!r} has no capabilities; declare one first")
    settings = settings or AgentSettings()
    stop = stop or asyncio.Event()
    force = asyncio.Event()
    restore_signals = install_signal_handlers(stop, force) if handle_signals else noop
    client = registry or RegistryClient(settings)
    via = "bus" if transport is not None else settings.transport
    kind: Literal["bus", "gateway"] = "gateway" if via == "gateway" else "bus"
    agent.load_key(settings)
    try:
        if via == "auto" and await _out_of_reach(client):
            kind = "gateway"  # registered once, for the gateway, not once for each
        registration = await client.register_until(agent.card(transport=kind), stop)
        if registration is None:
            return
        current = [registration]  # the heartbeat loop replaces it when it registers again
        try:
            bus: Transport | None = transport
            owned = False
            if kind == "bus" and bus is None:
                bus, owned, problem = await _open_bus(settings, registration)
                if problem is not None and via == "bus":
                    raise SetupError(
                        f"{problem}: this agent could never receive a task. Set MODX_BUS_URL "
                        "to a bus this machine reaches, or use the gateway "
                        "(MODX_AGENT_TRANSPORT=gateway, or `modx agent run --transport gateway`)"
                    )
                if problem is not None:
                    logger.info("%s: taking tasks through the server's gateway instead", problem)
                    await client.deregister(registration)
                    kind = "gateway"
                    fresh = await client.register_until(agent.card(transport=kind), stop)
                    if fresh is None:
                        return
                    current[0] = fresh
            if bus is None:
                bus = await _open_gateway(settings, current, client, stop)
                if bus is None:
                    return
                owned = True
            logger.info("registered %s as %s (%s)", agent.name, current[0].agent_id, kind)
            try:
                await _serve(agent, bus, client, current, settings, stop, force, kind)
            finally:
                if owned:
                    await bus.close()
        finally:
            # Last, after the drain: DELETE tells the server we have no task left. Bounded
            # like the bus's clean-up: a server that does not answer (its Redis frozen: 503s
            # after long waits) kept an agent 25 s past it; the lease runs out anyway.
            if await _deregister(client, current[0]):
                logger.info("deregistered %s", current[0].agent_id)
    finally:
        restore_signals()
        if registry is None:
            await client.aclose()


async def _serve(
    agent: Agent,
    bus: Transport,
    client: RegistryClient,
    current: list[Registration],
    settings: AgentSettings,
    stop: asyncio.Event,
    force: asyncio.Event,
    kind: Literal["bus", "gateway"],
) -> None:
    spill = ResultSpill.for_agent(settings.spill_dir, agent.name)
    runtime = TaskRuntime(
        agent,
        bus,
        current[0].agent_id,
        spill=spill,
        orchestrator_key=current[0].orchestrator_key,
        inbox_only=current[0].inbox_only,
        max_entry_bytes=settings.bus_max_entry_bytes,
    )
    stopped = False

    async def registered_again(fresh: Registration) -> None:
        if isinstance(bus, GatewayTransport):
            await bus.reconnect()  # the connection belongs to the old id and token
        await runtime.rebind(fresh.agent_id)

    try:
        await runtime.start()
        heartbeats = asyncio.create_task(
            keep_alive(
                client,
                current,
                lambda: agent.card(transport=kind),
                lambda: runtime.in_flight,
                stop,
                registered_again,
            )
        )
        try:
            await stop.wait()
            # Heartbeats go on while draining, so the lease holds until the last answer.
            await runtime.stop(drain=True, drain_timeout_s=settings.drain_timeout_s, force=force)
            stopped = True
        finally:
            heartbeats.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeats
    finally:
        if not stopped:  # cancelled or failed: do not leave handlers running
            await runtime.stop(drain=False)


async def _open_bus(
    settings: AgentSettings, registration: Registration
) -> tuple[Transport | None, bool, str | None]:
    """The bus this process reaches and whether to close it after, or None and why not."""
    url = settings.bus_url or registration.bus_url
    if not url:
        return None, False, "the registration gave no bus_url and MODX_BUS_URL is not set"
    if url.startswith("memory:"):
        # Only the process that holds an in-memory bus reaches it; it stays its owner's.
        shared = open_memory_transport(url)
        if shared is None:
            return None, False, f"the server's bus is inside the server's process ({url})"
        return shared, False, None
    bus = create_transport(url, trim_interval_s=0)  # trimming is the server's job
    try:
        reachable = await asyncio.wait_for(bus.ping(), BUS_PING_TIMEOUT_S)
    except Exception as exc:  # any failure to answer means the same: no task arrives here
        reachable, why = False, repr(exc)
    else:
        why = "no answer"
    if reachable:
        return bus, True, None
    await bus.close()
    return None, False, f"the bus at {_redacted(url)} does not answer ({why})"


async def _out_of_reach(client: RegistryClient) -> bool:
    """Whether the server's bus lives in its own process and this is another one (an
    embedded server's agent started apart): then no task reaches this process but through
    the gateway, and the agent registers for it, once."""
    url = await client.in_process_bus()
    if url is None or open_memory_transport(url) is not None:
        return False
    logger.info(
        "the server's bus is inside its process (%s): taking tasks through the server's gateway",
        url,
    )
    return True


async def _open_gateway(
    settings: AgentSettings,
    current: list[Registration],
    client: RegistryClient,
    stop: asyncio.Event,
) -> GatewayTransport | None:
    """A connected gateway, retrying while the server is unavailable (None: stopped first).

    Raises:
        SetupError: The server refuses the connection (its answer says why).
    """
    gateway = GatewayTransport(
        settings.url,
        lambda: (current[0].agent_id, current[0].token),
        backoff=client.backoff,
        open_timeout_s=settings.http_timeout_s,
    )
    failures = 0
    while not stop.is_set():
        try:
            await gateway.connect()
            return gateway
        except RequestRejected as exc:
            raise SetupError(f"{exc}; is {settings.url} a MODX server with the gateway?") from exc
        except ServerUnavailable as exc:
            delay = client.backoff(failures)
            failures += 1
            logger.warning("cannot open the gateway (%s); trying again in %.1fs", exc, delay)
            await wait_or_timeout(stop, delay)
    return None


async def _deregister(client: RegistryClient, registration: Registration) -> bool:
    """``client.deregister`` (its retries included) until the stop's deadline."""
    limit = min(tasks.STOP_TIMEOUT_S, DEREGISTER_TIMEOUT_S)
    try:
        return await asyncio.wait_for(client.deregister(registration), limit)
    except TimeoutError:
        logger.warning(
            "deregistration failed: no answer within %.1f s (the stop's deadline); the lease "
            "of %s runs out instead",
            limit,
            registration.agent_id,
        )
        return False


def _redacted(url: str) -> str:
    """``url`` without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def install_signal_handlers(stop: asyncio.Event, force: asyncio.Event) -> Callable[[], None]:
    """Make the first SIGTERM/SIGINT set ``stop`` and the second set ``force``.

    Returns:
        A function that removes the handlers again.
    """
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []

    def on_signal(sig: signal.Signals) -> None:
        if stop.is_set():
            logger.warning("%s again: no longer waiting for in-flight tasks", sig.name)
            force.set()
        else:
            logger.info("%s: stopping after in-flight tasks", sig.name)
            stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, on_signal, sig)
        except (NotImplementedError, RuntimeError, ValueError):
            continue  # Windows, or not the main thread: the caller sets ``stop`` instead
        installed.append(sig)

    def restore() -> None:
        for sig in installed:
            loop.remove_signal_handler(sig)

    return restore


def noop() -> None:
    """Do nothing (the signal-handler remover when none were installed)."""
