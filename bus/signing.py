"""Ed25519 signatures over envelopes.

The signature is the base64 of an Ed25519 signature over the envelope's canonical JSON: every
field except ``signature`` (and ``reply_to`` when it is null), dumped in pydantic's JSON mode
with the public field names, keys sorted, compact separators, UTF-8. That form survives a JSON
round trip unchanged, so a receiver recomputes it from the envelope it parsed.

Public keys travel as base64 of their 32 raw bytes (the ``public_key`` of an agent card).

Keys are ``cryptography`` objects, but the arithmetic is libsodium's (PyNaCl, ``ed25519_sign``
and ``ed25519_verify``): on this project's machines it signs in 21 us instead of OpenSSL's 52
and verifies in 48 us instead of 131, and every step signs and verifies two envelopes plus a
ledger entry. Ed25519 is deterministic (RFC 8032), so both produce the same signature bytes.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nacl.bindings
import nacl.exceptions
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from bus.envelope import Envelope

__all__ = [
    "Ed25519PrivateKey",
    "Ed25519PublicKey",
    "KeyringVerifier",
    "canonical_bytes",
    "canonical_json",
    "create_key_file",
    "ed25519_sign",
    "ed25519_verify",
    "generate_keypair",
    "load_private_key",
    "load_public_key",
    "private_key_to_str",
    "public_key_to_str",
    "read_key_file",
    "registration_bytes",
    "registration_proof",
    "sign",
    "sign_bytes",
    "verify",
    "verify_bytes",
]


def generate_keypair() -> tuple[Ed25519PrivateKey, Ed25519PublicKey]:
    """A new Ed25519 key pair.

    Returns:
        ``(private_key, public_key)``.
    """
    private_key = Ed25519PrivateKey.generate()
    return private_key, private_key.public_key()


def public_key_to_str(key: Ed25519PublicKey) -> str:
    """Base64 of the key's 32 raw bytes."""
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def load_public_key(value: str | bytes | Ed25519PublicKey) -> Ed25519PublicKey:
    """A public key from base64 text, 32 raw bytes, or a key object.

    Raises:
        ValueError: When ``value`` is not an Ed25519 public key.
    """
    if isinstance(value, Ed25519PublicKey):
        return value
    raw = _b64decode(value) if isinstance(value, str) else value
    return Ed25519PublicKey.from_public_bytes(raw)


def private_key_to_str(key: Ed25519PrivateKey) -> str:
    """Base64 of the key's 32 raw bytes (keep it secret)."""
    raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return base64.b64encode(raw).decode()


def load_private_key(value: str | bytes) -> Ed25519PrivateKey:
    """A private key from base64 text or 32 raw bytes.

    Raises:
        ValueError: When ``value`` is not an Ed25519 private key.
    """
    raw = _b64decode(value) if isinstance(value, str) else value
    return Ed25519PrivateKey.from_private_bytes(raw)


def read_key_file(path: Path) -> Ed25519PrivateKey:
    """The private key in ``path`` (base64 text).

    Raises:
        ValueError: The file does not hold an Ed25519 private key.
    """
    try:
        return load_private_key(path.read_text().strip())
    except ValueError as exc:
        raise ValueError(f"{path} does not hold an Ed25519 private key: {exc}") from None


def create_key_file(path: Path) -> Ed25519PrivateKey:
    """A new private key written to ``path`` (mode 0600, parents created); when the file
    already exists (another process created it first), the key it holds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key, _ = generate_keypair()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_key_file(path)
    with os.fdopen(fd, "w") as handle:
        handle.write(private_key_to_str(key) + "\n")
    return key


def ed25519_sign(private_key: Ed25519PrivateKey, data: bytes) -> bytes:
    """The 64-byte Ed25519 signature of ``data`` (what ``private_key.sign`` returns)."""
    return nacl.bindings.crypto_sign(data, _secret(private_key))[: nacl.bindings.crypto_sign_BYTES]


@functools.lru_cache(maxsize=64)
def _secret(private_key: Ed25519PrivateKey) -> bytes:
    """libsodium's form of the key (seed, then public key), kept per key object: the server
    and each agent sign with one key, and taking it out of OpenSSL each time cost half as much
    as the signature itself (py-spy of the server's writer)."""
    return private_key.private_bytes_raw() + private_key.public_key().public_bytes_raw()


def ed25519_verify(public_key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    """True when ``signature`` is ``public_key``'s owner's Ed25519 signature of ``data``."""
    # libsodium takes the signature and the message as one buffer: a signature of another
    # length would shift the split between them.
    if len(signature) != nacl.bindings.crypto_sign_BYTES:
        return False
    try:
        nacl.bindings.crypto_sign_open(signature + data, public_key.public_bytes_raw())
    except nacl.exceptions.BadSignatureError:
        return False
    return True


def sign_bytes(data: bytes, private_key: Ed25519PrivateKey) -> str:
    """Base64 of an Ed25519 signature over ``data`` (HTTP bodies, registration proofs)."""
    return base64.b64encode(ed25519_sign(private_key, data)).decode()


def verify_bytes(data: bytes, signature: str, public_key: Ed25519PublicKey) -> bool:
    """True when ``signature`` (base64) is ``public_key``'s owner's signature over ``data``."""
    try:
        return ed25519_verify(public_key, _b64decode(signature), data)
    except ValueError:
        return False


def registration_bytes(name: str, public_key: str, signed_at: str) -> bytes:
    """What an agent signs to prove at registration that it holds its card's key."""
    return f"modx-register\n{name}\n{public_key}\n{signed_at}".encode()


def registration_proof(name: str, private_key: Ed25519PrivateKey) -> dict[str, Any]:
    """The ``public_key`` and ``proof`` an agent card carries to prove it holds ``private_key``:
    a signature over its name, its key and the time (``registration_bytes``)."""
    public_key = public_key_to_str(private_key.public_key())
    signed_at = datetime.now(UTC).isoformat()
    signature = sign_bytes(registration_bytes(name, public_key, signed_at), private_key)
    return {"public_key": public_key, "proof": {"signed_at": signed_at, "signature": signature}}


def canonical_bytes(envelope: Envelope) -> bytes:
    """The bytes that are signed: every field but ``signature``, as canonical JSON (without
    the later fields that are null, ``Envelope.unset_later_fields``)."""
    exclude = {"signature", *envelope.unset_later_fields()}
    return canonical_json(envelope.model_dump(mode="json", by_alias=True, exclude=exclude))


_FLOAT = rb"-?(?:\d+(?:\.\d+)?e-|0\.0000)"
_PYTHON_FLOAT_FORM = re.compile(rb"[:,\[]" + _FLOAT)
_PYTHON_FLOAT_FORM_FIRST = re.compile(_FLOAT)
"""Where orjson may write a float otherwise than Python: below 1e-4 Python writes an exponent
with two digits (``1e-05``), orjson ``0.00001`` or ``1.5e-7``. Every other float, integer and
string comes out the same (tests/bus/test_signing.py compares them on random documents). Only
a value (after ``:``, ``,``, ``[``: ``_PYTHON_FLOAT_FORM``, or at the start:
``_PYTHON_FLOAT_FORM_FIRST``) is looked at: ids such as ``...b85e-...`` would otherwise send a
quarter of all envelopes down the slow path; a string that happens to hold such text after one
of those characters only costs the slow path. Two patterns, not one starting with ``^`` or a set:
a pattern that starts with a set of characters is scanned for it in C, the alternation made the
search try every position (9 us of an envelope's 16 us canonical form, against 3.5 us)."""


def canonical_json(value: Any) -> bytes:
    """``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    allow_nan=False)`` in UTF-8, byte for byte, for a value in pydantic's JSON mode (which
    has no NaN or infinity: it writes them as null; orjson would too, where ``json`` raises).

    Written by orjson (0.5 us for an envelope instead of 10) unless that could differ, then
    by ``json``, which also raises what it raised before (integers beyond 64 bits, which
    orjson refuses, go that way too)."""
    try:
        data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # orjson.JSONEncodeError: too large an integer, a lone surrogate...
        data = None
    if data is None or _python_float_form(data):
        data = json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode()
    return data


def _python_float_form(data: bytes) -> bool:
    """True when ``data`` (JSON) may hold a float that orjson writes otherwise than Python."""
    return bool(_PYTHON_FLOAT_FORM.search(data) or _PYTHON_FLOAT_FORM_FIRST.match(data))


def sign(envelope: Envelope, private_key: Ed25519PrivateKey) -> Envelope:
    """A copy of ``envelope`` carrying its signature.

    Args:
        envelope: The envelope to sign; an existing signature is replaced.
        private_key: The sender's key.

    Returns:
        The signed envelope.
    """
    signature = sign_bytes(canonical_bytes(envelope), private_key)
    return envelope.model_copy(update={"signature": signature})


def verify(envelope: Envelope, public_key: Ed25519PublicKey) -> bool:
    """True when ``envelope`` carries a valid signature by ``public_key``'s owner.

    Never raises on bad input: an unsigned envelope or a garbled signature is simply invalid.
    """
    if not envelope.signature:
        return False
    return verify_bytes(canonical_bytes(envelope), envelope.signature, public_key)


class KeyringVerifier:
    """Checks signatures against the public key registered for each sender.

    Usable as ``ConsumerOptions.verifier``: it returns None for a good envelope and the
    reason for a bad one. Keys can be added and removed while consumers run (agents register
    and leave).

    Args:
        keys: Initial map of sender id to public key (object, base64 text or raw bytes).
    """

    def __init__(self, keys: Mapping[str, str | bytes | Ed25519PublicKey] | None = None) -> None:
        self._keys: dict[str, Ed25519PublicKey] = {}
        for sender, key in (keys or {}).items():
            self.add(sender, key)

    def add(self, sender: str, key: str | bytes | Ed25519PublicKey) -> None:
        """Register (or replace) the public key of ``sender``.

        Raises:
            ValueError: When ``key`` is not an Ed25519 public key.
        """
        self._keys[sender] = load_public_key(key)

    def remove(self, sender: str) -> None:
        """Forget ``sender``'s key; its envelopes are rejected from now on."""
        self._keys.pop(sender, None)

    def __contains__(self, sender: object) -> bool:
        return sender in self._keys

    def __call__(self, envelope: Envelope) -> str | None:
        """None when ``envelope`` is signed by its sender's registered key, else the reason."""
        key = self._keys.get(envelope.sender)
        if key is None:
            return f"unknown sender {envelope.sender!r}"
        if not envelope.signature:
            return "missing signature"
        if not verify(envelope, key):
            return f"bad signature for sender {envelope.sender!r}"
        return None


def _b64decode(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"not base64: {exc}") from None
