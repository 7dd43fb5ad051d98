"""A consumer process of the bus benchmark: a hand-written redis-py loop, or our transport.

    python -m bench.bus_consumer --mode raw|bus --redis URL --name c0 --control KEY

It announces itself on ``<control>:ready``, then takes commands from ``<control>:<name>``
(a Redis list, one JSON command at a time):

- ``{"op": "run", "stream", "group", "total", "counter", "reply"}``: say so on
  ``<reply>:started`` once reading, then consume ``stream`` in
  ``group`` until all consumers together have handled ``total`` entries (each adds its count
  to ``counter`` every few milliseconds), then push its report to ``reply``: how many it
  handled, when it handled the last one (wall clock, ns), and the publish-to-handler latency
  of every entry (the publisher puts ``time.time_ns()`` in the payload);
- ``{"op": "exit"}``.

Both modes do the same work per entry: parse the JSON, read the timestamp, count it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from bus import ConsumerOptions, Envelope, RedisStreamsTransport

RAW_COUNT = 100
BUS_OPTIONS = ConsumerOptions(batch_size=256, concurrency=1, block_ms=100)
COUNTER_EVERY_S = 0.005


@dataclass
class Tally:
    """What one consumer saw during one command."""

    count: int = 0
    reported: int = 0
    done: bool = False
    last_ns: int = 0
    latencies_us: list[int] = field(default_factory=list)

    def seen(self, sent_ns: int) -> None:
        """One entry handled now."""
        now = time.time_ns()
        self.count += 1
        self.last_ns = now
        self.latencies_us.append((now - sent_ns) // 1000)


async def _until_done(control: Redis, tally: Tally, counter: str, total: int) -> None:
    """Add this consumer's count to the shared counter until it reaches ``total``."""
    while True:
        delta = tally.count - tally.reported
        if delta:
            tally.reported += delta
            reached = int(await control.incrby(counter, delta))
        else:
            reached = int(await control.get(counter) or 0)
        if reached >= total:
            tally.done = True
            return
        await asyncio.sleep(COUNTER_EVERY_S)


async def _raw(client: Redis, name: str, command: dict[str, Any], tally: Tally) -> None:
    stream, group = command["stream"], command["group"]
    while not tally.done:
        reply: Any = await client.xreadgroup(group, name, {stream: ">"}, count=RAW_COUNT, block=50)
        if not reply:
            continue
        ids = []
        for entry_id, fields in reply[0][1]:
            tally.seen(json.loads(fields[b"data"])["ts"])
            ids.append(entry_id)
        pipe = client.pipeline(transaction=False)
        pipe.xack(stream, group, *ids)
        await pipe.execute()


async def _run(args: argparse.Namespace) -> None:
    control = Redis.from_url(args.redis, socket_timeout=None)
    client = Redis.from_url(args.redis)
    transport = RedisStreamsTransport(args.redis, trim_interval_s=0)
    await control.rpush(f"{args.control}:ready", args.name)
    try:
        while True:
            _, raw_command = await control.blpop([f"{args.control}:{args.name}"])  # type: ignore[misc]
            command = json.loads(raw_command)
            if command["op"] == "exit":
                return
            tally = Tally()
            if args.mode == "raw":
                worker = asyncio.create_task(_raw(client, args.name, command, tally))
                await control.rpush(command["reply"] + ":started", args.name)
                await _until_done(control, tally, command["counter"], command["total"])
                await worker  # ends after its current read (BLOCK 50 ms)
            else:

                async def handler(envelope: Envelope, tally: Tally = tally) -> None:
                    tally.seen(envelope.payload["ts"])

                subscription = await transport.subscribe(
                    command["stream"], command["group"], args.name, handler, BUS_OPTIONS
                )
                await control.rpush(command["reply"] + ":started", args.name)
                await _until_done(control, tally, command["counter"], command["total"])
                await subscription.stop(drain=True)
            report = {
                "name": args.name,
                "count": tally.count,
                "last_ns": tally.last_ns,
                "latencies_us": tally.latencies_us,
            }
            await control.rpush(command["reply"], json.dumps(report))
    finally:
        await transport.close()
        await client.aclose()
        await control.aclose()


def main() -> None:
    """Serve commands until told to exit."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=["raw", "bus"], required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--control", required=True)
    asyncio.run(_run(parser.parse_args()))


if __name__ == "__main__":
    main()
