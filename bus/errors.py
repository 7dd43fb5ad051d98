"""Errors raised by the bus. Every one derives from ``BusError``.

Subclasses also derive from the builtin they resemble, so callers that already catch
``ConnectionError`` or ``ValueError`` keep working.
"""

from __future__ import annotations


class BusError(Exception):
    """Root of every error raised by the bus package."""


class PublishError(BusError, ConnectionError):
    """An envelope could not be appended: the store is unreachable or refuses writes."""


class CodecError(BusError, ValueError):
    """Stream entry data that is not a valid envelope."""


class DeadLetterNotFoundError(BusError, KeyError):
    """No dead letter with that id in the stream's dead-letter queue."""


class TransportClosedError(BusError, RuntimeError):
    """The transport was closed; it accepts no more calls."""


class UnsupportedTransportError(BusError, ValueError):
    """A bus URL whose scheme no transport serves."""


class RejectEnvelope(BusError):
    """Raised by a handler: the envelope must not be processed, now or ever (forged, replayed,
    not an answer to anything). It goes to the dead-letter stream at once with ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
