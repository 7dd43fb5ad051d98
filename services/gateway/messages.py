"""The frames an agent sends on a gateway connection (docs/protocol.md, "Gateway").

Each frame is one JSON object with an ``op``. Frames that expect an answer carry a ``ref``,
which the server's ``ok`` or ``error`` frame repeats.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

MAX_CONCURRENCY = 256
"""The most tasks one subscription may hold at once."""


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Subscribe(_Frame):
    """Start receiving the tasks of ``stream`` as a consumer of ``group``."""

    op: Literal["subscribe"]
    ref: int
    sub: int
    stream: str
    group: str
    concurrency: int = Field(default=1, ge=1, le=MAX_CONCURRENCY)
    batch_size: int = Field(default=1, ge=1, le=MAX_CONCURRENCY)


class Unsubscribe(_Frame):
    """Stop a subscription; ``drain`` waits for its tasks' answers, else they are released."""

    op: Literal["unsubscribe"]
    ref: int
    sub: int
    drain: bool = True


class Flow(_Frame):
    """Pause or resume a subscription (backpressure)."""

    op: Literal["pause", "resume"]
    sub: int


class Reply(_Frame):
    """An envelope to publish: always to ``modx.results``."""

    stream: str
    envelope: dict[str, Any]


class Ack(_Frame):
    """The task of ``delivery`` is done: publish ``replies``, then acknowledge it."""

    op: Literal["ack"]
    delivery: int
    replies: list[Reply] = Field(default_factory=list, max_length=16)


class Nack(_Frame):
    """The task of ``delivery`` failed without an answer: leave it for redelivery."""

    op: Literal["nack"]
    delivery: int
    reason: str = Field(default="", max_length=2000)


class Ping(_Frame):
    """Answered with ``ok``: the connection is open and authenticated."""

    op: Literal["ping"]
    ref: int


class Publish(_Frame):
    """Publish one envelope now (``task.started``) about a task this connection holds."""

    op: Literal["publish"]
    ref: int
    stream: str
    envelope: dict[str, Any]


AnyFrame = Subscribe | Unsubscribe | Flow | Ack | Nack | Ping | Publish
FRAME: TypeAdapter[AnyFrame] = TypeAdapter(Annotated[AnyFrame, Field(discriminator="op")])
