"""``Agent``: a named, versioned set of capabilities, and the ways to serve them.

An agent is declared once at import time and served in one of three ways:
``await agent.run()`` (a bus agent, the usual case), ``agent.http_app()`` / ``agent.run_http()``
(an HTTP agent the orchestrator POSTs tasks to), or ``AgentTestEnvironment`` in tests.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from agents.sdk.definition import CapabilityDefinition, define_capability
from agents.sdk.errors import SetupError
from agents.sdk.runner import run_agent
from bus.envelope import LATER_FIELDS, Envelope
from bus.signing import (
    Ed25519PrivateKey,
    create_key_file,
    load_private_key,
    read_key_file,
    registration_proof,
    sign,
)
from bus.transport import ConsumerOptions, Transport

if TYPE_CHECKING:
    from fastapi import FastAPI

    from agents.sdk.settings import AgentSettings

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
Hook = Callable[[], Awaitable[None]]
H = TypeVar("H", bound=Hook)

logger = logging.getLogger("agents.sdk")


class Agent:
    """A named, versioned set of typed capabilities.

    Args:
        name: The agent's name in the registry (e.g. ``tax-reasoner``).
        version: Its version, shown in the card.
        description: One line for humans.
        max_concurrency: Tasks run at once, shared across all capabilities.
        consumer_options: Bus consumer settings (visibility timeout, max deliveries...);
            ``concurrency`` and ``batch_size`` are derived from ``max_concurrency``.
        signing_key: An Ed25519 private key (object or base64) to sign outgoing envelopes;
            its public key goes in the card. When omitted, ``run``/``run_http`` take it
            from the settings (``MODX_AGENT_KEY``, ``MODX_AGENT_KEY_FILE``) or from
            ``<MODX_AGENT_KEY_DIR>/<name>.key``, created on the first run.
        shared: Ask for the capabilities to serve every tenant, not only the registering
            token's (granted to system-tenant tokens only).

    Example::

        agent = Agent("tax-reasoner", version="1.0.0")

        @agent.capability("legal.infer", consumes=["tax:CaseFacts"], produces=["tax:TaxAnswer"])
        async def infer(request: InferRequest) -> InferResult: ...
    """

    def __init__(
        self,
        name: str,
        *,
        version: str = "0.1.0",
        description: str = "",
        max_concurrency: int = 8,
        consumer_options: ConsumerOptions | None = None,
        signing_key: Ed25519PrivateKey | str | None = None,
        announce_after_s: float = 0.05,
        shared: bool = False,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise SetupError(f"agent name must be a non-empty string, got {name!r}")
        if not isinstance(version, str) or not version.strip():
            raise SetupError(f"agent version must be a non-empty string, got {version!r}")
        if not isinstance(max_concurrency, int) or max_concurrency < 1:
            raise SetupError(f"max_concurrency must be an int >= 1, got {max_concurrency!r}")
        self.name = name
        self.version = version
        self.description = description
        self.max_concurrency = max_concurrency
        self.consumer_options = consumer_options
        # A task that finishes sooner is not announced with ``task.started``: its result carries
        # ``started_at`` instead, which saves the orchestrator a transaction per short task.
        self.announce_after_s = announce_after_s
        # Ask to serve every tenant, not only the registering token's (the server grants it to
        # system-tenant tokens only; the registration answer says what was shared).
        self.shared = shared
        self._signing_key = (
            load_private_key(signing_key) if isinstance(signing_key, str) else signing_key
        )
        self._capabilities: dict[str, CapabilityDefinition] = {}
        self._limits: dict[str, dict[str, Any]] = {}  # the card's concurrency and rate_limit
        self._on_start: list[Hook] = []
        self._on_stop: list[Hook] = []

    def __repr__(self) -> str:
        names = list(self._capabilities)
        return f"Agent({self.name!r}, version={self.version!r}, capabilities={names})"

    @property
    def capabilities(self) -> Mapping[str, CapabilityDefinition]:
        """The declared capabilities by name (read-only)."""
        return MappingProxyType(self._capabilities)

    def capability(
        self,
        name: str,
        *,
        consumes: Sequence[str] = (),
        produces: Sequence[str] = (),
        description: str | None = None,
        idempotent: bool = False,
        concurrency: int | None = None,
        rate_limit: Mapping[str, Any] | None = None,
    ) -> Callable[[F], F]:
        """Declare the decorated async function as the handler of capability ``name``.

        The handler is checked now (see ``agents.sdk.definition``) and returned unchanged.

        Args:
            name: The capability name, e.g. ``legal.infer``.
            consumes: Ontology IRIs of the input, e.g. ``["tax:CaseFacts"]``.
            produces: Ontology IRIs of the output.
            description: One line; defaults to the first line of the docstring.
            idempotent: True when running the same input twice is harmless (safe to retry
                after an ambiguous failure).
            concurrency: At most this many of its tasks in flight at once, for every agent
                serving it together (the orchestrator holds the others back, in order).
            rate_limit: At most ``count`` tasks started ``per`` second, minute or hour, for
                every agent together, e.g. ``{"per": "minute", "count": 60}``.

        Returns:
            A decorator that registers its function and returns it unchanged.

        Raises:
            SetupError: At decoration time, when the declaration or the handler is wrong, or
                the agent already has a capability of that name.
        """

        def decorate(fn: F) -> F:
            if name in self._capabilities:
                raise SetupError(f"agent {self.name!r} already has a capability {name!r}")
            definition = define_capability(
                fn,
                name,
                description=description,
                consumes=consumes,
                produces=produces,
                idempotent=idempotent,
            )
            self._capabilities[name] = definition
            limits = {"concurrency": concurrency, "rate_limit": rate_limit}
            self._limits[name] = {k: v for k, v in limits.items() if v is not None}
            return fn

        return decorate

    def on_start(self, fn: H) -> H:
        """Declare an async function (no arguments) to run before the agent takes tasks.

        Every way of serving the agent runs it (``run``, ``run_http``, ``http_app`` under any
        ASGI server, ``AgentTestEnvironment``), once per start. A hook that raises stops
        the start; the ``on_stop`` hooks still run.

        Raises:
            SetupError: When ``fn`` is not an async function.
        """
        _check_hook(fn, "on_start")
        self._on_start.append(fn)
        return fn

    def on_stop(self, fn: H) -> H:
        """Declare an async function (no arguments) to run once the agent has stopped.

        It runs after the last in-flight task was answered (or cancelled): the place to close
        what the handlers opened (processes, connections). Hooks run in the reverse order of
        their declaration; one that raises is logged and the others still run.

        Raises:
            SetupError: When ``fn`` is not an async function.
        """
        _check_hook(fn, "on_stop")
        self._on_stop.append(fn)
        return fn

    async def started(self) -> None:
        """Run the ``on_start`` hooks, in order (the serving code calls this)."""
        for hook in self._on_start:
            await hook()

    async def stopped(self) -> None:
        """Run the ``on_stop`` hooks, last declared first (the serving code calls this)."""
        for hook in reversed(self._on_stop):
            try:
                await hook()
            except Exception:  # one failed clean-up must not skip the others
                logger.exception("agent %s: on_stop hook %s failed", self.name, hook.__name__)

    def card(
        self, transport: Literal["bus", "http", "gateway"] = "bus", endpoint: str | None = None
    ) -> dict[str, Any]:
        """The agent card sent to ``POST /v1/agents`` (DESIGN.md, "Agent card").

        Args:
            transport: ``"bus"`` (tasks arrive on the bus), ``"gateway"`` (over the API's
                WebSocket) or ``"http"`` (POSTed to ``endpoint``).
            endpoint: The URL the orchestrator POSTs tasks to; required for ``"http"`` only.

        Returns:
            ``{name, version, description, transport, endpoint?, capabilities, public_key?,
            proof?}``; the proof (a signature over the name, the key and the time) lets
            this agent take its name again while an earlier instance is still live.

        Raises:
            SetupError: On an unknown transport, or an endpoint missing or misplaced.
        """
        if transport not in ("bus", "http", "gateway"):
            raise SetupError(f"transport must be 'bus', 'gateway' or 'http', got {transport!r}")
        if transport == "http" and not endpoint:
            raise SetupError("an HTTP agent's card needs the endpoint tasks are POSTed to")
        if transport != "http" and endpoint:
            raise SetupError(f"a {transport} agent has no endpoint; use transport='http'")
        card: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "transport": transport,
        }
        if endpoint:
            card["endpoint"] = endpoint
        card["capabilities"] = [
            {**c.card_entry(), **self._limits.get(c.name, {})} for c in self._capabilities.values()
        ]
        if self.shared:
            for entry in card["capabilities"]:
                entry["shared"] = True
        # The later envelope fields this SDK knows: tasks carry them only to agents that say so.
        card["features"] = sorted(LATER_FIELDS)
        if self._signing_key is not None:
            card.update(registration_proof(self.name, self._signing_key))
        return card

    def sign(self, envelope: Envelope) -> Envelope:
        """``envelope`` signed with the agent's key, or unchanged when it has none."""
        return envelope if self._signing_key is None else sign(envelope, self._signing_key)

    @property
    def signing_key(self) -> Ed25519PrivateKey | None:
        """The agent's private key, once it has one."""
        return self._signing_key

    def load_key_from(self, key: Ed25519PrivateKey) -> None:
        """Use ``key`` from now on (tests; a key from a secret store)."""
        self._signing_key = key

    def load_key(self, settings: AgentSettings) -> Ed25519PrivateKey:
        """The agent's key: the one it was given, else from ``settings`` (created on first use).

        Every instance of an agent with the same key directory shares the key file, so they
        prove one identity to the registry (docs/protocol.md, "Registration").
        """
        if self._signing_key is None:
            if settings.key is not None:
                self._signing_key = load_private_key(settings.key.get_secret_value().strip())
            elif settings.key_file is not None:
                self._signing_key = read_key_file(settings.key_file)
            else:
                safe = re.sub(r"[^A-Za-z0-9._-]", "_", self.name)
                self._signing_key = create_key_file(settings.key_dir / f"{safe}.key")
        return self._signing_key

    async def run(
        self,
        *,
        transport: Transport | None = None,
        settings: AgentSettings | None = None,
        stop: asyncio.Event | None = None,
        handle_signals: bool = True,
    ) -> None:
        """Register, serve tasks from the bus until SIGTERM/SIGINT or ``stop``, then leave.

        See ``agents.sdk.runner`` for the whole life cycle.

        Args:
            transport: A bus object to use instead of the registration's ``bus_url`` (for
                agents inside the server process); the caller keeps ownership.
            settings: Server URL, token and retry settings; ``MODX_*`` environment by default.
            stop: Set it to shut down gracefully (drain, then deregister).
            handle_signals: Install SIGTERM/SIGINT handlers (main thread only).

        Raises:
            RequestRejected: When the server refuses the registration.
        """
        await run_agent(
            self,
            transport=transport,
            settings=settings,
            stop=stop,
            handle_signals=handle_signals,
        )

    def run_sync(self, *, settings: AgentSettings | None = None) -> None:
        """Run the agent in a new event loop until SIGTERM/SIGINT (see ``run``).

        This is a program's entry point, so it also turns on INFO logging to stderr unless the
        program configured logging itself. It runs on uvloop when that is installed (it comes
        with ``uvicorn[standard]``): each bus round trip then costs the agent about half the CPU.
        """
        _program_logging()
        with asyncio.Runner(loop_factory=_fast_loop_factory()) as runner:
            runner.run(self.run(settings=settings))

    def run_http_sync(
        self,
        host: str = "127.0.0.1",
        port: int = 8080,
        public_url: str | None = None,
        *,
        settings: AgentSettings | None = None,
    ) -> None:
        """``run_http`` in a new event loop until SIGTERM/SIGINT: the entry point of an HTTP
        agent's program (INFO logging to stderr, as ``run_sync``)."""
        _program_logging()
        with asyncio.Runner(loop_factory=_fast_loop_factory()) as runner:
            runner.run(self.run_http(host, port, public_url, settings=settings))

    def http_app(self) -> FastAPI:
        """A FastAPI app serving the capabilities over HTTP (``POST /task``).

        See ``agents.sdk.http_agent``.
        """
        # Imported here so that bus agents never pay for importing FastAPI and uvicorn.
        from agents.sdk.http_agent import create_http_app

        return create_http_app(self)

    async def run_http(
        self,
        host: str = "0.0.0.0",
        port: int = 8080,
        public_url: str | None = None,
        *,
        settings: AgentSettings | None = None,
        stop: asyncio.Event | None = None,
        handle_signals: bool = True,
    ) -> None:
        """Serve ``http_app()`` with uvicorn, registered as an HTTP agent, with heartbeats.

        Args:
            host: Interface to listen on.
            port: Port to listen on.
            public_url: The base URL where the orchestrator reaches this server; the card's
                endpoint is ``public_url + "/task"``. Defaults to ``http://{host}:{port}``
                (``127.0.0.1`` when listening on every interface).
            settings: Server URL and token; ``MODX_*`` environment by default.
            stop: Set it to deregister and shut down gracefully.
            handle_signals: Install SIGTERM/SIGINT handlers (main thread only).
        """
        from agents.sdk.http_agent import run_http

        await run_http(
            self,
            host,
            port,
            public_url,
            settings=settings,
            stop=stop,
            handle_signals=handle_signals,
        )


def _check_hook(fn: Hook, kind: str) -> None:
    if not inspect.iscoroutinefunction(fn):
        raise SetupError(f"an {kind} hook must be an async function, got {fn!r}")
    if any(
        p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        for p in inspect.signature(fn).parameters.values()
    ):
        raise SetupError(
            f"an {kind} hook takes no arguments, got {fn.__name__}{inspect.signature(fn)}"
        )


def _fast_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop factory when uvloop is installed, else None (asyncio's default)."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _program_logging() -> None:
    """INFO logging to stderr, unless the program configured logging itself."""
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        # httpx logs every request at INFO: a heartbeat line every few seconds, for ever,
        # buried what the agent itself says (its errors included)
        logging.getLogger("httpx").setLevel(logging.WARNING)
