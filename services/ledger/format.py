"""The ledger's byte formats: what is hashed and what is signed (docs/ledger.md says the same).

Everything here is pure and has no database in sight, so that the offline verifier (``modx
ledger verify --offline``) and an outsider's own code compute exactly what the server did.

- Canonical JSON: keys sorted, no whitespace, non-ASCII as ``\\uXXXX`` (Python's
  ``json.dumps(v, sort_keys=True, separators=(",", ":"))``), UTF-8.
- Entry hash: SHA-256 hex of the canonical JSON of ``[prev_hash, run_id, seq, kind, data]``;
  the first entry's ``prev_hash`` is ``""``.
- Entry signature: Ed25519 over ``b"modx.ledger.entry.v1:" + hash`` (the hex, as ASCII),
  base64 in the ``signature`` column.
- Checkpoint: the canonical JSON of its body (``CHECKPOINT_FIELDS``); its signature is over
  those bytes, its hash (the next checkpoint's ``prev``) is their SHA-256.
- Merkle leaves (``services.ledger.merkle``): the canonical JSON of ``[run_id, seq, head]``.
- Archive record of a run (``modx db archive``): Ed25519 over the canonical JSON of
  ``["modx.ledger.archived.v1", run_id, seq, head, archive]``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from bus.signing import sign_bytes, verify_bytes

ENTRY_DOMAIN = b"modx.ledger.entry.v1:"
CHECKPOINT_VERSION = "modx.ledger.checkpoint.v1"
EXPORT_FORMAT = "modx.ledger.export.v1"
ARCHIVED_DOMAIN = "modx.ledger.archived.v1"
# The signed body of a checkpoint: exactly these keys.
CHECKPOINT_FIELDS = ("created_at", "key_id", "prev", "root", "seq", "tree_size", "version")


def canonical(value: Any) -> bytes:
    """The canonical JSON bytes of ``value`` (a JSON value: no dates, no NaN)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def input_digest(value: Any) -> str:
    """What a run's outcome entry records of its input (``input_sha256``): SHA-256 hex of the
    input's canonical JSON, so the question an answer answers is bound to the chain."""
    return hashlib.sha256(canonical(value)).hexdigest()


def chain_hash(prev_hash: str, run_id: str, seq: int, kind: str, data: Any) -> str:
    """The hash of one entry: SHA-256 over the previous hash and the canonical entry."""
    return hashlib.sha256(canonical([prev_hash, run_id, seq, kind, data])).hexdigest()


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short name of a public key: the first 16 hex digits of SHA-256 of its raw bytes."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def sign_entry(key: Ed25519PrivateKey, entry_hash: str) -> str:
    """The base64 signature of an entry, given its hash."""
    return sign_bytes(ENTRY_DOMAIN + entry_hash.encode(), key)


def entry_signed(public_key: Ed25519PublicKey, entry_hash: str, signature: str | None) -> bool:
    """True when ``signature`` is the ledger key's signature of the entry ``entry_hash``."""
    return _valid(public_key, signature, ENTRY_DOMAIN + entry_hash.encode())


def checkpoint_body(checkpoint: dict[str, Any]) -> bytes:
    """The signed bytes of a checkpoint (its fields in ``CHECKPOINT_FIELDS``)."""
    return canonical({name: checkpoint[name] for name in CHECKPOINT_FIELDS})


def checkpoint_hash(checkpoint: dict[str, Any]) -> str:
    """What the next checkpoint's ``prev`` holds: SHA-256 hex of this one's body."""
    return hashlib.sha256(checkpoint_body(checkpoint)).hexdigest()


def sign_checkpoint(key: Ed25519PrivateKey, checkpoint: dict[str, Any]) -> str:
    """The base64 signature of a checkpoint's body."""
    return sign_bytes(checkpoint_body(checkpoint), key)


def checkpoint_signed(public_key: Ed25519PublicKey, checkpoint: dict[str, Any]) -> bool:
    """True when the checkpoint's ``signature`` is the ledger key's, over its body."""
    try:
        body = checkpoint_body(checkpoint)
    except (KeyError, TypeError, ValueError):
        return False
    return _valid(public_key, checkpoint.get("signature"), body)


def archived_body(run_id: str, seq: int, head: str, archive: str) -> bytes:
    """The signed bytes of a run's archive record: its chain's length and head, and where."""
    return canonical([ARCHIVED_DOMAIN, run_id, seq, head, archive])


def sign_archived(key: Ed25519PrivateKey, run_id: str, seq: int, head: str, archive: str) -> str:
    """The base64 signature of a run's archive record (``archived_runs``)."""
    return sign_bytes(archived_body(run_id, seq, head, archive), key)


def archived_signed(
    public_key: Ed25519PublicKey, run_id: str, seq: int, head: str, archive: str, signature: str
) -> bool:
    """True when ``signature`` is the ledger key's over that archive record."""
    return _valid(public_key, signature, archived_body(run_id, seq, head, archive))


def _valid(public_key: Ed25519PublicKey, signature: object, message: bytes) -> bool:
    if not isinstance(signature, str) or not signature:
        return False
    return verify_bytes(message, signature, public_key)
