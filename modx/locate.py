"""Where a client finds its server: the environment, else what ``modx up`` recorded.

``modx up`` writes ``state.json`` (``{"url", "token", "data_dir"}``, mode 0600) in its data
directory and in the user's config directory (``$XDG_CONFIG_HOME/modx``, by default
``~/.config/modx``). The URL comes from the caller, else ``MODX_URL``, else
``./.modx/state.json``, else the config directory's, else ``http://127.0.0.1:8000``; the token
from the caller, else ``MODX_API_TOKEN``, else the same state file, else ``./.modx/token``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_URL = "http://127.0.0.1:8000"
STATE = "state.json"


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/modx``, or ``~/.config/modx``."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "modx"


@dataclass(frozen=True)
class Server:
    """A server to talk to, and where each half of that came from (for error messages)."""

    url: str
    token: str | None
    url_from: str
    token_from: str


def find_server(url: str | None = None, token: str | None = None) -> Server:
    """The server and token to use (see the module docstring for the order)."""
    url_from = token_from = "default"
    state: dict[str, str] | None = None
    state_path = ""
    for path in (Path(".modx") / STATE, config_dir() / STATE):
        state = read_state(path)
        if state is not None:
            state_path = str(path)
            break
    if url:
        url_from = "--url/MODX_URL"
    elif os.environ.get("MODX_URL"):
        url, url_from = os.environ["MODX_URL"], "MODX_URL"
    elif state is not None and state.get("url"):
        url, url_from = state["url"], state_path
    if token:
        token_from = "--token"
    elif os.environ.get("MODX_API_TOKEN"):
        token, token_from = os.environ["MODX_API_TOKEN"], "MODX_API_TOKEN"
    elif state is not None and state.get("token"):
        token, token_from = state["token"], state_path
    elif (Path(".modx") / "token").exists():
        token, token_from = (Path(".modx") / "token").read_text().strip(), ".modx/token"
    return Server((url or DEFAULT_URL).rstrip("/"), token, url_from, token_from)


def read_state(path: Path) -> dict[str, str] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
