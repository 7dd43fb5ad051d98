"""``python -m tests.chaos.half_open_probe URL``: waits on the server at ``URL`` (PostgreSQL
through the project's engine, or Redis through the bus's client) one 2 s call after another,
``pg_sleep(2)`` or ``BLPOP`` of a list nobody fills, and prints ``sent`` before each and
``failed <error>`` when one fails (then exits). Run inside a network namespace whose link a
test cuts silently mid-call: the reply never comes, and nothing else tells the client."""

from __future__ import annotations

import asyncio
import sys

from sqlalchemy import text

from bus.redis_streams import RedisStreamsTransport
from services.db.engine import create_engine


async def postgres(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            while True:
                print("sent", flush=True)
                await conn.execute(text("SELECT pg_sleep(2)"))
    finally:
        await engine.dispose(close=False)  # a dead link: no goodbye to wait for


async def redis(url: str) -> None:
    client = RedisStreamsTransport(url).client
    while True:
        print("sent", flush=True)
        await client.blpop(["modx.probe"], timeout=2)


async def main(url: str) -> None:
    try:
        await (redis(url) if url.startswith("redis") else postgres(url))
    except Exception as exc:  # what ended the wait is the probe's answer
        print(f"failed {type(exc).__name__}: {exc}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
