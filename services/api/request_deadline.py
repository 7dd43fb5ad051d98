"""HTTP connections must deliver each request (head and body) within a deadline.

uvicorn bounds only the idle time between requests (``timeout_keep_alive``): a connection that
sends nothing, or a request head or body a byte at a time, is held for as long as the client
likes, before any token is checked. Enough of them (slowloris) use up the process's file
descriptors and no one else connects. Here each request must arrive whole within
``MODX_HTTP_REQUEST_READ_TIMEOUT_S`` of its first byte (of the connection's opening, for the
first), or the connection is closed. Answers (streams, waits) and WebSockets are not bounded:
the deadline ends once the request has been read, or the connection upgraded.
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

# Still reading the request: its head (IDLE) or its body (SEND_BODY).
_READING = (h11.IDLE, h11.SEND_BODY)


class _DeadlineProtocol(H11Protocol):
    read_timeout_s: float = 30.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and self.conn.their_state is h11.IDLE:
            self._arm()  # the first byte of the next request on a kept-alive connection
        super().data_received(data)
        if self.conn.their_state not in _READING or self.transport.is_closing():
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # A pipelined request already buffered, and not whole: no data_received will arm it.
        waiting = self._deadline is None and self.conn.their_state in _READING
        if waiting and self.conn.trailing_data[0] and not self.transport.is_closing():
            self._arm()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._disarm()  # the WebSocket protocol reads from here on (h11 still says SEND_BODY)
        super().handle_websocket_upgrade(event)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.read_timeout_s, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.conn.their_state in _READING and not self.transport.is_closing():
            self.transport.close()


def http_protocol(read_timeout_s: float) -> type[H11Protocol]:
    """uvicorn's HTTP/1.1 protocol (h11), closing a connection whose request is not read
    whole within ``read_timeout_s`` seconds of its first byte."""
    return type("RequestDeadlineH11", (_DeadlineProtocol,), {"read_timeout_s": read_timeout_s})
