"""Bus against raw Redis: the same ~300-byte payloads through redis-py by hand and through
``RedisStreamsTransport``, with one and two consumer processes.

- **Throughput**: the benchmark process publishes ``messages`` entries as fast as it can
  (raw: XADD in pipelines of ``batch``; bus: ``publish_many`` of ``batch`` envelopes), while
  the consumer processes (``bench.bus_consumer``) read them (raw: XREADGROUP COUNT 100, then
  XACK of the batch in a pipeline; bus: a subscription with ``ConsumerOptions(batch_size=256,
  concurrency=1)``). Messages/s = messages / (last handled - first published). When the
  publisher is the slower side this is its rate, so also:
- **Drain**: the same messages published first, then the consumers alone read the backlog:
  messages / (last handled - consumers told to start).
- **Latency**: one entry per millisecond (paced at ``rate``/s, one XADD / ``publish`` each),
  publish-to-handler time from the timestamp in the payload; p50 and p99.

Raw and bus alternate inside each repeat, so each repeat gives a paired ratio bus/raw.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from bench import stack
from bench.harness import Series, latency_summary, log
from bus import Envelope, Kind, RedisStreamsTransport

PAD = "x" * 250  # with the timestamp and sequence number: ~300 bytes of JSON
MODES = ("raw", "bus")


@dataclass(frozen=True)
class BusConfig:
    """Sizes of the bus benchmark."""

    messages: int = 50_000
    batch: int = 100
    latency_s: float = 5.0
    rate: int = 1000
    consumers: tuple[int, ...] = (1, 2)
    repeats: int = 5
    warmup: int = 1

    @classmethod
    def quick(cls) -> BusConfig:
        """Tiny sizes for the CI smoke run."""
        return cls(messages=2000, latency_s=0.3, repeats=2, warmup=1)


def payload(seq: int) -> dict[str, Any]:
    """One message's payload, stamped now."""
    return {"ts": time.time_ns(), "seq": seq, "body": PAD}


class BusBench:
    """The consumer processes and the publishers of both modes."""

    def __init__(self, cfg: BusConfig, logs: Path) -> None:
        self.cfg = cfg
        self.logs = logs
        self.url = stack.REDIS_URL
        self.control = Redis.from_url(self.url, socket_timeout=None)
        self.client = Redis.from_url(self.url)
        self.transport = RedisStreamsTransport(self.url, trim_interval_s=0)
        self.key = f"bench.bus.control.{uuid.uuid4().hex[:6]}"
        self.procs: dict[str, list[Any]] = {}

    async def start(self) -> None:
        """Start ``max(consumers)`` consumer processes per mode; wait until they listen."""
        await stack.flush_redis(self.url)
        count = max(self.cfg.consumers)
        for mode in MODES:
            self.procs[mode] = [
                stack._popen(
                    [
                        "-m",
                        "bench.bus_consumer",
                        "--mode",
                        mode,
                        "--redis",
                        self.url,
                        "--name",
                        f"{mode}{i}",
                        "--control",
                        self.key,
                    ],
                    {},
                    self.logs / f"consumer-{mode}{i}.log",
                )
                for i in range(count)
            ]
        for _ in range(count * len(MODES)):
            if await self.control.blpop([f"{self.key}:ready"], timeout=60) is None:
                raise TimeoutError("bus consumer processes did not start")

    async def stop(self) -> None:
        """Tell the consumers to exit, and close the connections."""
        for mode, procs in self.procs.items():
            for i in range(len(procs)):
                await self.control.rpush(f"{self.key}:{mode}{i}", json.dumps({"op": "exit"}))
        stack.stop_processes([p for procs in self.procs.values() for p in procs], 10)
        await self.transport.close()
        await self.client.aclose()
        await stack.flush_redis(self.url)
        await self.control.aclose()

    async def _publish_batched(self, mode: str, stream: str, messages: int) -> None:
        batch = self.cfg.batch
        for start in range(0, messages, batch):
            seqs = range(start, min(messages, start + batch))
            if mode == "raw":
                pipe = self.client.pipeline(transaction=False)
                for seq in seqs:
                    pipe.xadd(stream, {b"data": json.dumps(payload(seq)).encode()})
                await pipe.execute()
            else:
                await self.transport.publish_many(
                    [
                        (
                            stream,
                            Envelope(
                                kind=Kind.EVENT, topic="bench", sender="bench", payload=payload(seq)
                            ),
                        )
                        for seq in seqs
                    ]
                )

    async def _publish_paced(self, mode: str, stream: str, messages: int) -> float:
        """Publish one entry every 1/rate s; returns the rate achieved."""
        started = time.perf_counter()
        for seq in range(messages):
            delay = started + seq / self.cfg.rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if mode == "raw":
                await self.client.xadd(stream, {b"data": json.dumps(payload(seq)).encode()})
            else:
                await self.transport.publish(
                    stream,
                    Envelope(kind=Kind.EVENT, topic="bench", sender="bench", payload=payload(seq)),
                )
        return messages / (time.perf_counter() - started)

    async def measure(self, mode: str, consumers: int, kind: str) -> dict[str, float]:
        """One run of ``mode`` with ``consumers`` consumers.

        ``kind`` is ``live`` (publish as fast as possible while they consume), ``drain``
        (publish first, then time the consumers alone) or ``paced`` (latency at ``rate``/s).
        """
        stream = f"bench.bus.{mode}.{uuid.uuid4().hex[:8]}"
        reply = f"{stream}:reply"
        paced = kind == "paced"
        messages = int(self.cfg.latency_s * self.cfg.rate) if paced else self.cfg.messages
        await self.control.xgroup_create(stream, "bench", id="$", mkstream=True)
        if kind == "drain":
            await self._publish_batched(mode, stream, messages)
        command = {
            "op": "run",
            "stream": stream,
            "group": "bench",
            "total": messages,
            "counter": f"{stream}:count",
            "reply": reply,
        }
        first_ns = time.time_ns()
        for i in range(consumers):
            await self.control.rpush(f"{self.key}:{mode}{i}", json.dumps(command))
        for _ in range(consumers):
            await self.control.blpop([f"{reply}:started"], timeout=30)
        if kind != "drain":
            first_ns = time.time_ns()
        publishing = time.perf_counter()
        rate = 0.0
        if paced:
            rate = await self._publish_paced(mode, stream, messages)
        elif kind == "live":
            await self._publish_batched(mode, stream, messages)
        publish_s = time.perf_counter() - publishing
        reports = []
        for _ in range(consumers):
            popped = await self.control.blpop([reply], timeout=120)
            if popped is None:
                raise TimeoutError(f"{mode} consumers did not finish {messages} messages")
            reports.append(json.loads(popped[1]))
        await self.control.delete(stream, f"{stream}:count", reply, f"{reply}:started")
        handled = sum(r["count"] for r in reports)
        if paced:
            latencies = [us / 1e6 for r in reports for us in r["latencies_us"]]
            return {**latency_summary(latencies), "achieved_rate": rate}
        elapsed = (max(r["last_ns"] for r in reports) - first_ns) / 1e9
        return {
            "msgs_per_s": handled / elapsed,
            "publish_per_s": messages / publish_s if kind == "live" else 0.0,
            "elapsed_s": elapsed,
        }


async def run(cfg: BusConfig, logs: Path) -> tuple[dict[str, Any], list[str]]:
    """Every mode and consumer count, interleaved, ``repeats`` times after the warm-up."""
    bench = BusBench(cfg, logs)
    await bench.start()
    series = Series()
    try:
        for repeat in range(cfg.warmup + cfg.repeats):
            warm = repeat < cfg.warmup
            label = "warm-up" if warm else f"repeat {repeat - cfg.warmup + 1}/{cfg.repeats}"
            for consumers in cfg.consumers:
                figures = {}
                for mode in MODES:
                    tp = await bench.measure(mode, consumers, "live")
                    drain = await bench.measure(mode, consumers, "drain")
                    lat = await bench.measure(mode, consumers, "paced")
                    tp["drain_per_s"] = drain["msgs_per_s"]
                    figures[mode] = (tp, lat)
                    log(
                        f"bus {label}: {mode}, {consumers} consumer(s): "
                        f"{tp['msgs_per_s']:,.0f} msg/s, draining a backlog "
                        f"{tp['drain_per_s']:,.0f} msg/s; at {lat['achieved_rate']:,.0f}/s "
                        f"p50 {lat['p50_ms']:.3f} ms, p99 {lat['p99_ms']:.3f} ms"
                    )
                if warm:
                    continue
                for mode, (tp, lat) in figures.items():
                    prefix = f"{mode}.c{consumers}."
                    series.add(prefix + "msgs_per_s", tp["msgs_per_s"])
                    series.add(prefix + "publish_per_s", tp["publish_per_s"])
                    series.add(prefix + "drain_per_s", tp["drain_per_s"])
                    series.add_all(
                        {k: lat[k] for k in ("p50_ms", "p99_ms", "achieved_rate")}, prefix
                    )
                bus, raw = figures["bus"][0], figures["raw"][0]
                series.add(f"ratio.c{consumers}.throughput", bus["msgs_per_s"] / raw["msgs_per_s"])
                series.add(f"ratio.c{consumers}.drain", bus["drain_per_s"] / raw["drain_per_s"])
    finally:
        await bench.stop()
    raw_size = len(json.dumps(payload(0)).encode())
    envelope_size = len(
        Envelope(kind=Kind.EVENT, topic="bench", sender="bench", payload=payload(0)).to_json()
    )
    results = {
        "figures": series.summary(),
        "sizes": {"raw_entry_bytes": raw_size, "bus_entry_bytes": envelope_size},
        "config": asdict(cfg),
    }
    notes = [
        f"Raw entries carry the {raw_size}-byte payload; bus entries carry it inside an "
        f"envelope ({envelope_size} bytes of JSON, parsed and validated by pydantic).",
        "The publisher runs in the benchmark process, on the same CPUs as Redis and the consumers.",
    ]
    return results, notes


def p50_ratio(figures: dict[str, Any], consumers: int) -> float | None:
    """Bus p50 latency over raw p50 latency (medians of the repeats)."""
    raw = figures.get(f"raw.c{consumers}.p50_ms", {}).get("median")
    bus = figures.get(f"bus.c{consumers}.p50_ms", {}).get("median")
    return bus / raw if raw and bus else None
