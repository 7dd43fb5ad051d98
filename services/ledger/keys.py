"""The ledger key: where it comes from, and the public half an outsider checks with.

The key lives outside the database, so that write access to the database is not enough to
rewrite history. It is given by ``MODX_LEDGER_KEY`` (base64 of the 32 raw private-key bytes)
or ``MODX_LEDGER_KEY_FILE`` (a file holding that text). Embedded mode creates
``<data_dir>/ledger.key`` (0600) on first start. Distributed mode refuses to start without one,
since every replica must sign with the same key, unless ``MODX_INSECURE_LEDGER_KEY=1`` lets it
make its own for development. It is kept apart from the orchestrator's key that signs tasks:
each is kept, rotated and backed up on its own.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from services.config import Settings

log = logging.getLogger(__name__)


class LedgerKeyMissing(RuntimeError):
    """No ledger key is configured, and this mode may not create one."""


def load(settings: Settings) -> Ed25519PrivateKey:
    """The ledger's private key, as ``settings`` say (see the module's docstring).

    Raises:
        LedgerKeyMissing: Distributed mode, nothing configured, no insecure opt-in.
        ValueError: The configured key or file does not hold an Ed25519 private key.
    """
    if settings.ledger_key is not None:
        return private_key(settings.ledger_key.get_secret_value())
    if settings.ledger_key_file is not None:
        return read_key_file(settings.ledger_key_file)
    default = settings.data_dir / "ledger.key"
    if not settings.embedded:
        if not settings.insecure_ledger_key:
            raise LedgerKeyMissing(
                "no ledger key: set MODX_LEDGER_KEY_FILE (or MODX_LEDGER_KEY) to the same key on "
                "every replica; `modx ledger keygen FILE` makes one "
                "(MODX_INSECURE_LEDGER_KEY=1 makes one per replica, for development only)"
            )
        log.warning(
            "INSECURE: MODX_INSECURE_LEDGER_KEY is set; this replica signs the ledger with its own "
            "key under %s. Do not use this in production.",
            default,
        )
    return read_key_file(default) if default.exists() else create_key_file(default)


def private_key(text: str) -> Ed25519PrivateKey:
    """A private key from base64 of its 32 raw bytes."""
    return Ed25519PrivateKey.from_private_bytes(_b64(text.strip(), "private key"))


def public_key(text: str) -> Ed25519PublicKey:
    """A public key from base64 of its 32 raw bytes, or from a file holding that text.

    Raises:
        ValueError: Neither a file nor base64 of an Ed25519 public key.
    """
    path = Path(text)
    if len(text) < 256 and path.is_file():
        text = path.read_text()
    return Ed25519PublicKey.from_public_bytes(_b64(text.strip(), "public key"))


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """Base64 of the public key's 32 raw bytes (what ``--public-key`` takes)."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def read_key_file(path: Path) -> Ed25519PrivateKey:
    """The private key in ``path`` (base64 text)."""
    try:
        return private_key(path.read_text())
    except ValueError as exc:
        raise ValueError(f"{path} does not hold an Ed25519 private key: {exc}") from None


def create_key_file(path: Path) -> Ed25519PrivateKey:
    """A new key written to ``path`` (0600, parents created); if another process created the
    file first, the key it holds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_key_file(path)
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(raw).decode() + "\n")
    return key


def _b64(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"the {what} is not base64: {exc}") from None
    if len(raw) != 32:
        raise ValueError(f"the {what} must be 32 bytes, not {len(raw)}")
    return raw
