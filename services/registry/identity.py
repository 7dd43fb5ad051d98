"""Who may register under a name: a bus agent has a key, and a live name belongs to its key.

- A bus agent's card carries a ``public_key``: its results are checked against it. Without
  one it is refused, unless ``MODX_INSECURE_AGENTS=1`` (development only).
- A card with a ``proof`` must prove the key: a signature over the name, the key and a
  ``signed_at`` within the clock-skew window (``bus.signing.registration_bytes``).
- A name that an online agent holds is taken only by a card with the same key and a valid
  proof: a restart, or another instance of the same agent. Anyone else gets a 409.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from bus.signing import load_public_key, registration_bytes, verify_bytes
from services.db.models import AgentRow
from services.registry.schemas import AgentCard


class RegistrationRefused(ValueError):
    """A card the registry refuses: ``status``, ``code`` and the field at fault."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


REMOTE_TRANSPORTS = ("a2a", "mcp")  # agents MODX calls, registered by a card URL or a command


def check_card(
    card: AgentCard,
    holders: Sequence[AgentRow],
    *,
    now: datetime,
    insecure: bool,
    clock_skew_s: float,
) -> None:
    """Refuse ``card`` unless it may register now; ``holders`` are the online agents with its name.

    Raises:
        RegistrationRefused: Why not.
    """
    if card.public_key is not None:
        try:
            public_key = load_public_key(card.public_key)
        except ValueError as exc:
            raise RegistrationRefused(
                422, "invalid_request", f"not an Ed25519 public key: {exc}", "public_key"
            ) from None
    elif card.transport == "bus" and not insecure:
        raise RegistrationRefused(
            422,
            "invalid_request",
            "a bus agent needs a public_key (its results are signed); the SDK makes one. "
            "MODX_INSECURE_AGENTS=1 lifts this for development only",
            "public_key",
        )
    proven = False
    if card.proof is not None:
        if card.public_key is None:
            raise RegistrationRefused(422, "invalid_request", "a proof needs a public_key", "proof")
        try:
            signed_at = datetime.fromisoformat(card.proof.signed_at)
        except ValueError:
            raise RegistrationRefused(
                422, "invalid_request", "not an ISO 8601 time", "proof.signed_at"
            ) from None
        if signed_at.tzinfo is None:
            signed_at = signed_at.replace(tzinfo=UTC)
        skew = abs((now - signed_at).total_seconds())
        if skew > clock_skew_s:
            raise RegistrationRefused(
                422,
                "invalid_request",
                f"proof signed {skew:.0f}s from the server's clock (at most {clock_skew_s:.0f}s)",
                "proof.signed_at",
            )
        signed = registration_bytes(card.name, card.public_key, card.proof.signed_at)
        if not verify_bytes(signed, card.proof.signature, public_key):
            raise RegistrationRefused(
                401, "unauthorized", "the proof is not signed with the card's key", "proof"
            )
        proven = True
    if not holders:
        return
    keys = {holder.public_key for holder in holders}
    if proven and keys == {card.public_key}:
        return  # the same agent again: a restart, or one more instance
    if insecure and keys == {None} and card.public_key is None:
        return  # development only: names of keyless agents are not protected
    if card.transport in REMOTE_TRANSPORTS:  # no key to prove: say how to register it again
        message = (
            f"agent name {card.name!r} is held by a live agent; to register it again (its "
            f"card or tools changed), remove it first: `modx agent remove {card.name}` "
            "(DELETE /v1/agents/{id}), or give this one another name"
        )
    else:
        message = (
            f"agent name {card.name!r} is held by a live agent; only the holder of its key "
            "can register under it again (with a proof)"
        )
    raise RegistrationRefused(409, "name_taken", message, "name")
