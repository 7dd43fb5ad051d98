"""``python -m tests.chaos.half_open_probe URL``: queries PostgreSQL at ``URL`` through the
project's engine, one ``pg_sleep(2)`` after another, and prints ``sent`` before each and
``failed <error>`` when one fails (then exits). Run inside a network namespace whose link a
test cuts silently mid-query: the reply never comes, and nothing else tells the client."""

from __future__ import annotations

import asyncio
import sys

from sqlalchemy import text

from services.db.engine import create_engine


async def main(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            while True:
                print("sent", flush=True)
                await conn.execute(text("SELECT pg_sleep(2)"))
    except Exception as exc:  # what ended the wait is the probe's answer
        print(f"failed {type(exc).__name__}: {exc}", flush=True)
    finally:
        await engine.dispose(close=False)  # a dead link: no goodbye to wait for


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
