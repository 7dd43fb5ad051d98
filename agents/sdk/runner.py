"""The life of a bus agent process: register, serve, heartbeat, drain, deregister.

``run_agent`` is what ``Agent.run()`` does:

1. register the card over HTTP, backing off while the server is unreachable;
2. open the bus named by the registration (``MODX_BUS_URL`` or a ``transport=`` object wins);
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
from typing import TYPE_CHECKING

from agents.sdk.errors import ServerUnavailable, SetupError
from agents.sdk.registration import Registration, RegistryClient, keep_alive
from agents.sdk.runtime import TaskRuntime
from agents.sdk.settings import AgentSettings
from bus.factory import create_transport
from bus.transport import Transport

if TYPE_CHECKING:
    from agents.sdk.agent import Agent

logger = logging.getLogger("agents.sdk")


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
    card = agent.card(transport="bus")
    try:
        registration = await client.register_until(card, stop)
        if registration is None:
            return
        logger.info("registered %s as %s", agent.name, registration.agent_id)
        current = [registration]  # the heartbeat loop replaces it when it registers again
        try:
            bus, owned = _open_bus(transport, settings, registration)
            try:
                await _serve(agent, bus, client, current, settings, stop, force)
            finally:
                if owned:
                    await bus.close()
        finally:
            # Last, after the drain: DELETE tells the server we have no task left.
            if await client.deregister(current[0]):
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
) -> None:
    runtime = TaskRuntime(agent, bus, current[0].agent_id)
    stopped = False
    try:
        await runtime.start()
        heartbeats = asyncio.create_task(
            keep_alive(
                client,
                current,
                lambda: agent.card(transport="bus"),
                lambda: runtime.in_flight,
                stop,
                lambda fresh: runtime.rebind(fresh.agent_id),
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


def _open_bus(
    transport: Transport | None, settings: AgentSettings, registration: Registration
) -> tuple[Transport, bool]:
    """The bus to use, and whether this runner owns (and must close) it."""
    if transport is not None:
        return transport, False
    url = settings.bus_url or registration.bus_url
    if not url:
        raise ServerUnavailable("registration gave no bus_url; set MODX_BUS_URL")
    if url.startswith("memory:"):
        logger.warning(
            "bus_url is %s: only agents inside the server process share that bus; "
            "pass transport= or set MODX_BUS_URL to reach the server's bus",
            url,
        )
        # A memory bus is shared by the whole process (the server's own): never close it.
        return create_transport(url), False
    return create_transport(url), True


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
