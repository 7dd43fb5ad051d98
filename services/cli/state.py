"""Where the CLI finds its server: what ``modx up`` wrote, unless the environment says otherwise.

``modx up`` writes ``state.json`` (``{"url", "token", "data_dir"}``, mode 0600) in its data
directory and in the user's config directory (``$XDG_CONFIG_HOME/modx``, by default
``~/.config/modx``). The CLI and ``modx agent run`` take the URL from ``--url``/``MODX_URL``,
else ``./.modx/state.json``, else the config directory's, else ``http://127.0.0.1:8000``; the
token from ``MODX_API_TOKEN``, else the same state file, else ``./.modx/token``.
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


def write_state(data_dir: Path, url: str, token: str) -> list[Path]:
    """Record a running ``modx up`` for the CLI; returns the files written."""
    body = json.dumps({"url": url, "token": token, "data_dir": str(data_dir.resolve())})
    written = []
    for folder in (data_dir, config_dir()):
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / STATE
        # Written aside, then renamed: a reader never sees half a file.
        partial = folder / f".{STATE}.{os.getpid()}"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(body + "\n")
        os.replace(partial, path)
        written.append(path)
    return written


def remove_state(data_dir: Path, url: str) -> None:
    """Forget a stopped ``modx up`` (the config directory's file only if it is still ours)."""
    for path in (data_dir / STATE, config_dir() / STATE):
        state = _read(path)
        if state is not None and state.get("url") == url:
            path.unlink(missing_ok=True)


def find_server(url: str | None = None, token: str | None = None) -> Server:
    """The server and token the CLI uses (see the module docstring for the order)."""
    url_from = token_from = "default"
    state: dict[str, str] | None = None
    state_path = ""
    for path in (Path(".modx") / STATE, config_dir() / STATE):
        state = _read(path)
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


def _read(path: Path) -> dict[str, str] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
