"""The service's own Ed25519 keys: where they come from, and how they are created.

A key lives outside the database: it is given by configuration (base64 of the 32 raw
private-key bytes), or read from a file, or, where the service may make its own (embedded
mode), created in a file under the data directory on first start, readable by its owner only.
Every key of the service (the orchestrator's, which signs tasks; the ledger's) is loaded by
``load_key`` from its own settings, so each is kept, rotated and backed up on its own.
"""

from __future__ import annotations

from pathlib import Path

from bus.signing import Ed25519PrivateKey, create_key_file, load_private_key, read_key_file


class KeyUnavailable(RuntimeError):
    """No key was configured, and this mode may not create one."""


def load_key(
    name: str,
    *,
    value: str | None,
    path: Path | None,
    default_path: Path,
    create: bool,
) -> Ed25519PrivateKey:
    """The key named ``name``, from the first of: ``value``, ``path``, ``default_path``.

    Args:
        name: What the key is for, in messages (e.g. ``orchestrator``).
        value: The key itself (base64), from configuration.
        path: A file holding the key (base64); it must exist.
        default_path: Where the key lives when neither is given.
        create: Create ``default_path`` (0600) when it does not exist.

    Raises:
        KeyUnavailable: Nothing configured, ``default_path`` missing and ``create`` False.
        ValueError: The configured value or file is not an Ed25519 private key.
    """
    if value:
        return load_private_key(value.strip())
    if path is not None:
        return read_key_file(path)
    if default_path.exists():
        return read_key_file(default_path)
    if not create:
        raise KeyUnavailable(
            f"no {name} key: set MODX_{name.upper()}_KEY or MODX_{name.upper()}_KEY_FILE "
            f"(every replica needs the same one; `modx keys generate FILE` makes one)"
        )
    return create_key_file(default_path)
