"""Reading Server-Sent Events (``text/event-stream``) line by line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SseEvent:
    """One dispatched event: its ``id`` (None when the server sent none), name and data."""

    id: str | None
    event: str
    data: str


class SseParser:
    """Feed it the stream's lines (without their line ending); it returns each complete event.

    Follows the WHATWG event-stream rules the API relies on: ``field: value`` lines, comments
    starting with ``:``, multi-line ``data``, and a blank line dispatching the event.
    """

    def __init__(self) -> None:
        self._id: str | None = None
        self._event = ""
        self._data: list[str] = []

    def feed(self, line: str) -> SseEvent | None:
        """The event this line completes, if any."""
        if line == "":
            if not self._data:
                self._event = ""
                return None
            event = SseEvent(self._id, self._event or "message", "\n".join(self._data))
            self._event, self._data = "", []
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value  # the last id persists across events, as for a browser
        return None
