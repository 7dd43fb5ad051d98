"""Where MODX may send requests: the addresses HTTP agents' endpoints may resolve to.

An HTTP agent names its own endpoint, and the orchestrator POSTs tasks there and stores the
reply: without a check, anyone allowed to register an agent could make MODX call its own
loopback, the private network or a cloud metadata service (server-side request forgery).

Only globally routable unicast addresses are allowed by default (``ipaddress``'s ``is_global``,
which leaves out loopback, private, link-local, shared, reserved and documentation ranges,
metadata services included; IPv4 embedded in IPv6 is judged as IPv4). ``MODX_EGRESS_ALLOW``
(CIDRs and host names) opens what a deployment needs.

The check runs at registration and again at every connection: ``GuardedTransport`` resolves the
host once, checks the addresses, and connects to the address it checked (the URL's host stays
in the ``Host`` header and the TLS server name), so a name that resolves elsewhere the second
time (DNS rebinding) gains nothing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import AsyncIterator, Callable, Iterable
from urllib.parse import urlsplit

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64's well-known prefix,
# RFC 6052; IPv4-translated, RFC 2765; IPv4-compatible, deprecated by RFC 4291 but still
# carried to that IPv4 address by a host with an automatic tunnel, Linux's sit0): judged by
# that IPv4 address.
_EMBEDS_IPV4 = (
    ipaddress.ip_network("64:ff9b::/96"),
    ipaddress.ip_network("::ffff:0:0:0/96"),
    ipaddress.ip_network("::/96"),
)
# Not global, though ``is_global`` says so: site-local (deprecated, RFC 3879) and local-use
# NAT64 (RFC 8215), which a network may route to its private addresses.
_LOCAL_V6 = (ipaddress.ip_network("fec0::/10"), ipaddress.ip_network("64:ff9b:1::/48"))


class EgressRefused(ValueError):
    """An endpoint that resolves to no allowed address (or does not resolve)."""


class ResponseTooLarge(httpx.ReadError):
    """A peer's response body went past the transport's ``max_response_bytes``."""


TooLarge = Callable[["ResponseTooLarge"], None]
_BLANK_LINE = re.compile(rb"\n[\r\n]|\r\r")
"""Where an event of a ``text/event-stream`` ends: a line ending (CR, LF or CRLF) and then an
empty line. Each such pair of bytes is one of these (CRLF alone is none)."""


class _Capped(httpx.AsyncByteStream):
    """A response body that raises ``ResponseTooLarge`` once more than ``limit`` bytes came: in
    all, or with ``events`` in one event of a server-sent event stream (such a stream may stay
    open for as long as a session lasts). ``too_large`` is told first: the client reading the
    body may swallow the error (the MCP SDK's does)."""

    def __init__(
        self,
        inner: httpx.AsyncByteStream,
        limit: int,
        request: httpx.Request,
        *,
        events: bool = False,
        too_large: TooLarge | None = None,
    ) -> None:
        self._inner, self._limit, self._request = inner, limit, request
        self._events, self._too_large = events, too_large

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0  # bytes of the body, or of the event so far
        last = b""  # the byte before ``chunk``: an event's end may straddle two chunks
        async for chunk in self._inner:
            if self._events:
                joined, at = last + chunk, len(last)
                for blank in _BLANK_LINE.finditer(joined):  # each event that ends here
                    self._check(seen + max(0, blank.start() - at))
                    seen, at = 0, blank.end()
                seen += len(joined) - at
                last = chunk[-1:]
            else:
                seen += len(chunk)
            self._check(seen)
            yield chunk

    def _check(self, seen: int) -> None:
        if seen <= self._limit:
            return
        what = "an event of the response" if self._events else "the response"
        exc = ResponseTooLarge(f"{what} is larger than {self._limit} bytes", request=self._request)
        if self._too_large is not None:
            self._too_large(exc)
        raise exc

    async def aclose(self) -> None:
        await self._inner.aclose()


class EgressPolicy:
    """Which addresses outbound requests may reach: public ones, and those ``allow`` lists."""

    def __init__(self, allow: Iterable[str] = ()) -> None:
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self.hosts: set[str] = set()
        for entry in allow:
            entry = entry.strip()
            if not entry:
                continue
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.hosts.add(entry.lower().rstrip("."))

    def allows(self, address: IPAddress, host: str | None = None) -> bool:
        """Whether a connection to ``address`` (resolved from ``host``) is allowed."""
        if host is not None and host.lower().rstrip(".") in self.hosts:
            return True
        if any(address in network for network in self.networks):
            return True
        return _public(address)

    async def resolve(self, host: str, port: int) -> str:
        """The first allowed address ``host`` resolves to; raises EgressRefused."""
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError as exc:
            raise EgressRefused(f"{host} does not resolve") from exc
        for _family, _type, _proto, _name, sockaddr in infos:
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if self.allows(address, host):
                return str(address)
        raise EgressRefused(
            f"{host} resolves to no allowed address (loopback, private, link-local and "
            "metadata ranges are refused; MODX_EGRESS_ALLOW opens them)"
        )

    async def check_url(self, url: str) -> None:
        """Raise EgressRefused unless ``url``'s host resolves to an allowed address."""
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        await self.resolve(parts.hostname or "", port)


def _public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if any(address in network for network in _LOCAL_V6):
            return False
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and any(address in network for network in _EMBEDS_IPV4):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return _public(embedded)
    return address.is_global and not address.is_multicast


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that connects only to addresses ``policy`` allows, checked at connect
    time, and to the very address it checked; with ``max_response_bytes``, a body read past it
    raises ``ResponseTooLarge`` (a client that reads whole bodies, as the A2A SDK's does,
    would otherwise hold whatever a hostile peer sends in memory). ``max_message_bytes``
    bounds each message instead: an event of an event stream, or a whole body of any other
    type; ``too_large`` is told of each body cut."""

    def __init__(
        self,
        policy: EgressPolicy,
        max_response_bytes: int | None = None,
        *,
        max_message_bytes: int | None = None,
        too_large: TooLarge | None = None,
        **options: object,
    ) -> None:
        self.policy = policy
        self.max_response_bytes = max_response_bytes
        self.max_message_bytes = max_message_bytes
        self.too_large = too_large
        self._inner = httpx.AsyncHTTPTransport(**options)  # type: ignore[arg-type]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Resolve and check the host, then send ``request`` to the checked address."""
        url = request.url
        port = url.port or (443 if url.scheme == "https" else 80)
        address = await self.policy.resolve(url.host, port)
        extensions = dict(request.extensions)
        if url.scheme == "https":
            extensions["sni_hostname"] = url.host  # certificates are checked against the name
        pinned = httpx.Request(
            request.method,
            url.copy_with(host=address),
            headers=request.headers,  # Host: still the URL's host
            stream=request.stream,
            extensions=extensions,
        )
        response = await self._inner.handle_async_request(pinned)
        if not isinstance(response.stream, httpx.AsyncByteStream):
            return response
        if self.max_message_bytes is not None:
            kind = response.headers.get("content-type", "").lower()
            response.stream = _Capped(
                response.stream,
                self.max_message_bytes,
                request,
                events=kind.startswith("text/event-stream"),
                too_large=self.too_large,
            )
        if self.max_response_bytes is not None:
            response.stream = _Capped(
                response.stream, self.max_response_bytes, request, too_large=self.too_large
            )
        return response

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._inner.aclose()
