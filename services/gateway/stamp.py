"""What the server publishes for an agent on the gateway: its envelope, sent by that agent.

This is the one place where the gateway turns an agent's envelope into one the server vouches
for: ``sender`` comes from the connection's token, never from the agent's message, and the
agent's own signature (if any) is dropped, since the server re-issues the envelope. When the
orchestrator has a signing key, the envelope is signed with it, and the results verifier
accepts such envelopes from agents whose transport is ``gateway``.
"""

from __future__ import annotations

from bus.envelope import Envelope
from bus.signing import Ed25519PrivateKey, sign


def on_behalf_of(
    envelope: Envelope, agent_id: str, key: Ed25519PrivateKey | None = None
) -> Envelope:
    """``envelope`` as the server publishes it for agent ``agent_id``.

    Args:
        envelope: What the agent sent.
        agent_id: The agent the connection authenticated.
        key: The orchestrator's signing key, when it has one.

    Returns:
        A copy with ``sender`` set to ``agent_id``, signed with ``key`` (unsigned without one).
    """
    stamped = envelope.model_copy(update={"sender": agent_id, "signature": None})
    return stamped if key is None else sign(stamped, key)
