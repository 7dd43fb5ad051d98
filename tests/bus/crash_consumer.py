"""A consumer that takes entries and never finishes them, until it is killed.

Run as ``python -m tests.bus.crash_consumer URL STREAM GROUP CONSUMER``. It prints ``ready``
once subscribed, then the ``i`` of each envelope its handlers start. The handlers never
return, so nothing is acknowledged: the test kills the process with SIGKILL and checks that
another consumer gets the entries (XAUTOCLAIM).
"""

from __future__ import annotations

import asyncio
import sys

from bus import ConsumerOptions, Envelope, RedisStreamsTransport


async def main(url: str, stream: str, group: str, consumer: str) -> None:
    transport = RedisStreamsTransport(url)

    async def never_finishes(envelope: Envelope) -> None:
        print(envelope.payload["i"], flush=True)
        await asyncio.Event().wait()

    options = ConsumerOptions(visibility_timeout_s=1.0, concurrency=4, batch_size=8)
    await transport.subscribe(stream, group, consumer, never_finishes, options)
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
