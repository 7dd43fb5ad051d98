"""What ``modx up`` records for clients to find it (read back by ``modx.locate``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from modx.locate import STATE, config_dir, read_state

__all__ = ["remove_state", "write_state"]


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
        state = read_state(path)
        if state is not None and state.get("url") == url:
            path.unlink(missing_ok=True)
