"""uvicorn's HTTP/1.1 protocol, with bounds on how a request may arrive: in time and in size.

uvicorn bounds only the idle time between requests (``timeout_keep_alive``). Before a route
or a token check sees anything:

- **Time.** A connection that sends nothing, or a request head or body a byte at a time, was
  held for as long as the client liked; enough of them (slowloris) use up the process's file
  descriptors and no one else connects. Each request must now arrive whole within
  ``MODX_HTTP_REQUEST_READ_TIMEOUT_S`` of its first byte (of the connection's opening, for the
  first), or the connection is closed. Answers (streams, waits) and WebSockets are not bounded:
  the deadline ends once the request has been read, or the connection upgraded.
- **Head size.** httptools puts no bound on a request head, and joins a header's value piece
  by piece (``bytes +=``, quadratic): one connection sending 200 MB of headers was read whole,
  and one long value held the event loop (every request of the process) while it grew. A head
  over ``MODX_HTTP_MAX_HEAD_BYTES`` now gets a ``431`` and the connection is closed; the bytes
  are counted (up to the blank line that ends a head) before any parser reads them.

- **Connection count.** The deadline bounds how long a connection is held, not how many: with
  the file-descriptor limit of 1024 that many services start with, 5000 connections each
  holding an unfinished head (one client, 6 s to open) used every descriptor of ``modx serve``,
  and every other client was disconnected unanswered until the deadline freed them, when the
  client opened them again. A process now holds at most ``MODX_HTTP_MAX_CONNECTIONS`` (and
  never more than its descriptor limit leaves, 256 kept for its database, Redis and files),
  one client address at most ``MODX_HTTP_MAX_CONNECTIONS_PER_ADDRESS`` (an IPv6 client is
  its /64: ``client_key``; 0: no bound, for a server behind a proxy, where every client has
  the proxy's address); the next gets a ``503``
  naming the setting, and is closed at once. The soft descriptor limit is raised to the hard
  one first, as Go's runtime does: the bound, not the limit, decides.

The parser is the one uvicorn picks by itself ("auto"): httptools when it is installed (it is,
with ``uvicorn[standard]``), else h11; each gets the same bounds at its own hooks.

It lives in the SDK because both sides serve HTTP with it: ``modx serve`` and ``modx up``
(services import the SDK, never the reverse) and SDK HTTP agents (``run_http``).
"""

from __future__ import annotations

import asyncio
import importlib.util
import ipaddress
import logging
import resource
from typing import Any, Protocol

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

# h11's states of the client still sending its request: the head (IDLE) or the body.
_READING = (h11.IDLE, h11.SEND_BODY)

_HEAD_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8"
    b"\r\nconnection: close\r\ncontent-length: %d\r\n\r\n%s"
)


_UNAVAILABLE = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\nretry-after: 1\r\ncontent-length: %d\r\n\r\n%s"
)
FD_RESERVE = 256
"""File descriptors a connection bound leaves the process: its database and Redis pools, its
files, its own HTTP clients."""

logger = logging.getLogger(__name__)


class _Admission:
    """The connections one server holds, in all and per client address."""

    def __init__(self, total: int, per_address: int) -> None:
        self.total = total
        self.per_address = per_address
        self.by_address: dict[str, int] = {}

    def refuses(self, transport: asyncio.Transport, open_now: int, address: str) -> bool:
        """Count a new connection (``open_now`` includes it); True (and the connection answered
        503 and closed, not counted) when it passes a bound."""
        held = self.by_address.get(address, 0)
        if open_now > self.total:
            setting = "MODX_HTTP_MAX_CONNECTIONS"
        elif self.per_address and held >= self.per_address:
            setting = "MODX_HTTP_MAX_CONNECTIONS_PER_ADDRESS"
        else:
            self.by_address[address] = held + 1
            return False
        message = f"too many open connections ({setting})".encode()
        transport.write(_UNAVAILABLE % (len(message), message))
        transport.close()
        return True

    def release(self, address: str) -> None:
        held = self.by_address.pop(address, 0) - 1
        if held > 0:
            self.by_address[address] = held


class _Bounds:
    """A connection's bounds: a timer armed while a request is read, and the head's size."""

    def __init__(self, transport: asyncio.Transport, seconds: float, max_head: int) -> None:
        self.transport = transport
        self.seconds = seconds
        self.max_head = max_head
        self.head_bytes = 0  # of the head being read, before the last ``tail``
        self.tail = b""  # the last bytes seen: a head's end may straddle two reads
        self.timer: asyncio.TimerHandle | None = None

    @property
    def armed(self) -> bool:
        return self.timer is not None

    def arm(self) -> None:
        self.disarm()
        self.timer = asyncio.get_running_loop().call_later(self.seconds, self._expired)

    def disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _expired(self) -> None:
        self.timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def head_refused(self, data: bytes) -> bool:
        """Given the next bytes of a head, before any parser reads them: True (and the
        connection answered 431 and closed) when the head passes the bound."""
        window = self.tail + data
        ends = [i + len(end) for end in (b"\r\n\r\n", b"\n\n") if (i := window.find(end)) >= 0]
        size = self.head_bytes + (min(ends) if ends else len(window))
        if size > self.max_head and not self.transport.is_closing():
            message = f"request head over {self.max_head} bytes (MODX_HTTP_MAX_HEAD_BYTES)"
            self.transport.write(_HEAD_TOO_LARGE % (len(message), message.encode()))
            self.transport.close()
            self.disarm()
            return True
        if ends:  # this head is whole: the next is counted from its first byte
            self.head_bytes, self.tail = 0, b""
        else:
            self.head_bytes += len(window) - len(window[-3:])
            self.tail = window[-3:]
        return False


def _address(client: tuple[str, int] | None) -> str:
    return client_key(client[0]) if client else ""


def client_key(address: str) -> str:
    """What one client is, for the per-address bound: an IPv4 address (an IPv4-mapped IPv6
    one is its IPv4 address), or an IPv6 address's /64. One IPv6 host is commonly given a
    whole /64 (SLAAC, privacy addresses): per address, it could open its connections from
    as many addresses as it liked, and the bound would hold no one."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # without a link-local's zone
    except ValueError:
        return address  # not an IP address (a Unix socket's path): itself
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class _H11Bounded(H11Protocol):
    read_timeout_s: float = 30.0
    max_head_bytes: int = 64 * 1024
    admission: _Admission
    bounds: _Bounds
    admitted: bool = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.bounds = _Bounds(transport, self.read_timeout_s, self.max_head_bytes)
        address = _address(self.client)
        if self.admission.refuses(transport, len(self.connections), address):
            return
        self.admitted = True
        self.bounds.arm()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            if not self.bounds.armed:
                self.bounds.arm()  # the first byte of the next request on a kept-alive connection
            if self.bounds.head_refused(data):
                return
        super().data_received(data)
        if self.conn.their_state not in _READING or self.transport.is_closing():
            self.bounds.disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # A pipelined request already buffered, and not whole: no data_received will arm it.
        waiting = not self.bounds.armed and self.conn.their_state in _READING
        if waiting and self.conn.trailing_data[0] and not self.transport.is_closing():
            self.bounds.arm()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self.bounds.disarm()  # the WebSocket protocol reads from here on (h11 says SEND_BODY)
        self._release()  # its connection_lost is the WebSocket protocol's, not this one's
        super().handle_websocket_upgrade(event)

    def connection_lost(self, exc: Exception | None) -> None:
        self.bounds.disarm()
        self._release()
        super().connection_lost(exc)

    def _release(self) -> None:
        if self.admitted:
            self.admitted = False
            self.admission.release(_address(self.client))


def _httptools_bounded() -> type[Any]:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class _HttpToolsBounded(HttpToolsProtocol):
        read_timeout_s: float = 30.0
        max_head_bytes: int = 64 * 1024
        admission: _Admission
        bounds: _Bounds
        in_head: bool = True
        admitted: bool = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self.bounds = _Bounds(transport, self.read_timeout_s, self.max_head_bytes)
            self.in_head = True
            address = _address(self.client)
            if self.admission.refuses(transport, len(self.connections), address):
                return
            self.admitted = True
            self.bounds.arm()

        def data_received(self, data: bytes) -> None:
            if self.in_head and self.bounds.head_refused(data):
                return
            super().data_received(data)

        def on_message_begin(self) -> None:
            if not self.bounds.armed:
                self.bounds.arm()  # a request's first byte, on a kept-alive connection
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            self.in_head = False
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self.bounds.disarm()
            self.in_head = True  # what comes next is the next request's head
            super().on_message_complete()

        def handle_websocket_upgrade(self) -> None:
            self.bounds.disarm()
            self._release()  # its connection_lost is the WebSocket protocol's, not this one's
            super().handle_websocket_upgrade()

        def connection_lost(self, exc: Exception | None) -> None:
            self.bounds.disarm()
            self._release()
            super().connection_lost(exc)

        def _release(self) -> None:
            if self.admitted:
                self.admitted = False
                self.admission.release(_address(self.client))

    return _HttpToolsBounded


def http_protocol(
    read_timeout_s: float,
    max_head_bytes: int,
    parser: str = "auto",
    *,
    max_connections: int = 8192,
    max_connections_per_address: int = 512,
) -> type[asyncio.Protocol]:
    """uvicorn's HTTP/1.1 protocol (``parser``: auto, httptools or h11), closing a connection
    whose request is not read whole within ``read_timeout_s`` seconds of its first byte, or
    whose request head passes ``max_head_bytes``, and answering ``503`` to a connection past
    ``max_connections`` open (or past what the descriptor limit leaves) or past
    ``max_connections_per_address`` from its client's address (0: no bound).

    Raises the process's soft file-descriptor limit to its hard limit. Make one per server:
    the protocol class counts that server's connections."""
    if parser == "auto":
        parser = "httptools" if importlib.util.find_spec("httptools") else "h11"
    base = _httptools_bounded() if parser == "httptools" else _H11Bounded
    total = min(max_connections, _descriptors() - FD_RESERVE)
    if total < max_connections:
        logger.warning(
            "at most %d open HTTP connections (MODX_HTTP_MAX_CONNECTIONS is %d): the process may "
            "open %d files (ulimit -n)",
            total,
            max_connections,
            total + FD_RESERVE,
        )
    attributes = {
        "read_timeout_s": read_timeout_s,
        "max_head_bytes": max_head_bytes,
        "admission": _Admission(max(total, 1), max_connections_per_address),
    }
    protocol: type[asyncio.Protocol] = type(f"Bounded{base.__name__}", (base,), attributes)
    return protocol


class HttpBounds(Protocol):
    """The settings a bounded server reads (the server's ``Settings``, ``AgentSettings``)."""

    http_request_read_timeout_s: float
    http_max_head_bytes: int
    http_max_connections: int
    http_max_connections_per_address: int


def http_protocol_of(settings: HttpBounds) -> type[asyncio.Protocol]:
    """``http_protocol`` with the bounds ``settings`` give (``MODX_HTTP_*``)."""
    return http_protocol(
        settings.http_request_read_timeout_s,
        settings.http_max_head_bytes,
        max_connections=settings.http_max_connections,
        max_connections_per_address=settings.http_max_connections_per_address,
    )


def _descriptors() -> int:
    """The soft file-descriptor limit, raised to the hard one first (when allowed)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft if soft != resource.RLIM_INFINITY else 1 << 20
