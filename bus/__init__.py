"""The message bus: signed envelopes on streams, consumed in groups, at least once.

``create_transport(url)`` gives a ``Transport``: ``MemoryTransport`` in one process,
``RedisStreamsTransport`` across processes, on one Redis or a Redis Cluster
(``bus.redis_client``). Both follow the rules in ``bus.transport``.
"""

from bus import streams
from bus.codec import decode, encode
from bus.envelope import Envelope, Kind, utcnow
from bus.errors import (
    BusError,
    CodecError,
    DeadLetterNotFoundError,
    PublishError,
    RejectEnvelope,
    TransportClosedError,
    UnsupportedTransportError,
)
from bus.factory import create_transport
from bus.ids import new_id, uuid7
from bus.memory import MemoryTransport
from bus.redis_streams import RedisStreamsTransport
from bus.signing import (
    KeyringVerifier,
    generate_keypair,
    load_private_key,
    load_public_key,
    private_key_to_str,
    public_key_to_str,
    sign,
    verify,
)
from bus.transport import (
    Ack,
    ConsumerOptions,
    DeadLetter,
    Handler,
    Incarnation,
    Reply,
    Subscription,
    Transport,
    Verifier,
    ack_of,
)

__all__ = [
    "Ack",
    "BusError",
    "CodecError",
    "ConsumerOptions",
    "DeadLetter",
    "DeadLetterNotFoundError",
    "Envelope",
    "Handler",
    "Incarnation",
    "KeyringVerifier",
    "Kind",
    "MemoryTransport",
    "PublishError",
    "RedisStreamsTransport",
    "RejectEnvelope",
    "Reply",
    "Subscription",
    "Transport",
    "TransportClosedError",
    "UnsupportedTransportError",
    "Verifier",
    "ack_of",
    "create_transport",
    "decode",
    "encode",
    "generate_keypair",
    "load_private_key",
    "load_public_key",
    "new_id",
    "private_key_to_str",
    "public_key_to_str",
    "sign",
    "streams",
    "utcnow",
    "uuid7",
    "verify",
]
