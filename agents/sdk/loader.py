"""``load_agent("pkg.module:attr")``: find an ``Agent`` by path, for ``modx agent run``."""

from __future__ import annotations

import importlib

from agents.sdk.agent import Agent
from agents.sdk.errors import LoadError


def load_agent(path: str) -> Agent:
    """Import ``module`` and return its ``attr`` (dots allowed: ``module:obj.agent``).

    Args:
        path: ``"package.module:attribute"``.

    Returns:
        The agent.

    Raises:
        LoadError: When the path is malformed, the module cannot be found, importing it fails,
            the attribute does not exist, or it is not an ``Agent``.
    """
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise LoadError(f"expected 'package.module:attribute', got {path!r}")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module_name == missing or module_name.startswith(missing + "."):
            raise LoadError(
                f"cannot find module {module_name!r} (from {path!r}); is it on sys.path?"
            ) from exc
        # The module exists but needs something that is not installed: say which.
        raise LoadError(f"importing {module_name!r} failed: {exc}") from exc
    except Exception as exc:
        raise LoadError(f"importing {module_name!r} failed: {exc!r}") from exc
    target: object = module
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise LoadError(f"{module_name!r} has no attribute {attr!r} (from {path!r})") from None
    if not isinstance(target, Agent):
        raise LoadError(f"{path!r} is a {type(target).__name__}, not an agents.sdk.Agent")
    return target
