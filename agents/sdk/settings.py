"""Agent settings, read from the environment with the ``MODX_`` prefix.

``MODX_URL`` and ``MODX_API_TOKEN`` are shared with the CLI (see docs/protocol.md).
``MODX_BUS_URL`` overrides the ``bus_url`` that registration answers, e.g. when the server
sees Redis under a different host name than the agent does. ``MODX_AGENT_TRANSPORT`` picks how
tasks arrive: ``bus`` (straight from the bus), ``gateway`` (over the API's WebSocket), or
``auto`` (the bus when this process can reach it, else the gateway).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bus.transport import DEFAULT_MAX_ENTRY_BYTES


class AgentSettings(BaseSettings):
    """Where the MODX server is, how to authenticate, and how patiently to retry.

    Attributes:
        url: Base URL of the MODX API (``MODX_URL``).
        api_token: Client token for registration (``MODX_API_TOKEN``).
        bus_url: Bus URL overriding the registration answer (``MODX_BUS_URL``).
        http_timeout_s: Timeout of each call to the API (``MODX_AGENT_HTTP_TIMEOUT_S``).
        retry_initial_s: First back-off delay while the API is unreachable.
        retry_max_s: Longest back-off delay.
        drain_timeout_s: How long shutdown waits for in-flight tasks; None waits for them all.
        transport: ``auto``, ``bus`` or ``gateway`` (``MODX_AGENT_TRANSPORT``).
        spill_dir: Where results that could not be published before a stop are kept, to be
            published at the next start (``MODX_AGENT_SPILL_DIR``).
        key: The agent's Ed25519 private key, base64 (``MODX_AGENT_KEY``).
        key_file: A file holding it (``MODX_AGENT_KEY_FILE``).
        key_dir: Where ``<agent name>.key`` is kept when neither is set, created on first
            run (``MODX_AGENT_KEY_DIR``). Instances of one agent share it: they prove the
            same key, so the registry lets them hold the same name.
        bus_max_entry_bytes: The server's ``MODX_BUS_MAX_ENTRY_BYTES``: an answer larger on
            the bus is sent as an ``answer_too_large`` error (the server would discard it).
        http_request_read_timeout_s: An HTTP agent closes a connection whose request (head
            and body) has not arrived whole this long after its first byte
            (``MODX_HTTP_REQUEST_READ_TIMEOUT_S``, as the server's: slowloris).
        http_max_head_bytes: An HTTP agent answers ``431`` to a request head larger than
            this, and closes the connection (``MODX_HTTP_MAX_HEAD_BYTES``, as the server's).
        http_max_connections: An HTTP agent holds at most this many open connections (and
            never more than its descriptor limit leaves); the next gets a ``503``
            (``MODX_HTTP_MAX_CONNECTIONS``, as the server's).
        http_max_connections_per_address: ...and this many of one client address, 0 for no
            bound (``MODX_HTTP_MAX_CONNECTIONS_PER_ADDRESS``, as the server's).
    """

    model_config = SettingsConfigDict(env_prefix="MODX_", extra="ignore", populate_by_name=True)

    url: str = "http://127.0.0.1:8000"
    api_token: str | None = Field(default=None, repr=False)
    bus_url: str | None = None
    http_timeout_s: float = Field(default=10.0, gt=0, validation_alias="MODX_AGENT_HTTP_TIMEOUT_S")
    retry_initial_s: float = Field(default=0.5, gt=0, validation_alias="MODX_AGENT_RETRY_INITIAL_S")
    retry_max_s: float = Field(default=30.0, gt=0, validation_alias="MODX_AGENT_RETRY_MAX_S")
    drain_timeout_s: float | None = Field(
        default=None, gt=0, validation_alias="MODX_AGENT_DRAIN_TIMEOUT_S"
    )
    transport: Literal["auto", "bus", "gateway"] = Field(
        default="auto", validation_alias="MODX_AGENT_TRANSPORT"
    )
    spill_dir: Path = Field(default=Path(".modx-agent"), validation_alias="MODX_AGENT_SPILL_DIR")
    key: SecretStr | None = Field(default=None, validation_alias="MODX_AGENT_KEY")
    key_file: Path | None = Field(default=None, validation_alias="MODX_AGENT_KEY_FILE")
    key_dir: Path = Field(default=Path(".modx/agent-keys"), validation_alias="MODX_AGENT_KEY_DIR")
    bus_max_entry_bytes: int = Field(default=DEFAULT_MAX_ENTRY_BYTES, ge=1024)
    http_request_read_timeout_s: float = Field(default=30.0, gt=0)
    http_max_head_bytes: int = Field(default=64 * 1024, ge=1024)
    http_max_connections: int = Field(default=8192, ge=1)
    http_max_connections_per_address: int = Field(default=512, ge=0)
