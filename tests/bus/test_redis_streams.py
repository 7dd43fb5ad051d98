"""The transport contract on Redis Streams, plus what only a real server can show:
a consumer killed mid-handler, and Redis itself going away and coming back.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import pytest
from redis.asyncio import Redis

from bus import ConsumerOptions, Envelope, PublishError, RedisStreamsTransport, ack_of
from tests.bus.contract import FAST, Recorder, TransportContract, envelope
from tests.fixtures.proxy import TcpProxy
from tests.fixtures.services import free_port, missing, wait_until

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]


class RedisConfig:
    """Builds Redis transports on the flushed test database and closes them after the test."""

    @pytest.fixture
    async def make_transport(self, redis_url):
        made: list[RedisStreamsTransport] = []

        def make(**options) -> RedisStreamsTransport:
            made.append(RedisStreamsTransport(redis_url, **options))
            return made[-1]

        yield make
        for transport in made:
            await transport.close()


class TestRedisStreamsTransport(RedisConfig, TransportContract):
    """Every contract test, on Redis."""

    async def test_an_entry_without_data_field_is_dead_lettered(self, transport, stream):
        record = Recorder()
        await transport.subscribe(stream, "g", "c", record)
        await transport.client.xadd(stream, {b"other": b"field"})
        await transport.publish(stream, envelope(1))
        await wait_until(lambda: record.seen == [1])
        await wait_until(lambda: _dead_letter_count(transport, stream, 1))
        [dead] = await transport.dead_letters(stream)
        assert dead.reason == "malformed: entry has no data field"

    async def test_publish_unique_reloads_its_script_after_redis_forgets_it(
        self, transport, stream
    ):
        first = envelope(1)
        assert (await transport.publish_unique([(stream, first)], within_s=60))[0]
        await transport.client.script_flush()  # what a Redis restart does to loaded scripts
        ids = await transport.publish_unique([(stream, first), (stream, envelope(2))], within_s=60)
        assert ids[0] is None and ids[1] is not None
        assert await transport.stream_length(stream) == 2

    async def test_envelopes_published_together_reach_one_blocked_reader_together(
        self, transport, stream, redis_url
    ):
        """Redis serves the readers blocked on a stream after each command: the envelopes one
        ``publish_unique`` puts on a stream go out in one command, so the first blocked
        reader takes them all (a writer's batch of tasks wakes one agent, not one per task)."""
        await transport.client.xgroup_create(stream, "g", id="0", mkstream=True)

        async def read(consumer: str) -> int:
            # A connection of its own, named to be found blocked in CLIENT LIST.
            async with Redis.from_url(redis_url, client_name=f"{stream}-{consumer}") as client:
                reply = await client.xreadgroup(
                    "g", consumer, {stream: ">"}, count=100, block=20000
                )
            entries = cast("list[tuple[bytes, list[Any]]] | None", reply)
            return sum(len(read) for _, read in entries or [])

        reads = [asyncio.create_task(read(name)) for name in ("a", "b")]
        await wait_until(lambda: _blocked(transport, stream, 2))
        ids = await transport.publish_unique([(stream, envelope(i)) for i in range(6)], 60)
        assert all(ids)
        done, waiting = await asyncio.wait(reads, return_when=asyncio.FIRST_COMPLETED)
        assert [task.result() for task in done] == [6]
        await transport.publish_unique([(stream, envelope(6))], 60)  # lets the other one go
        assert [await task for task in waiting] == [1]

    async def test_publish_unique_rides_out_a_lost_connection(self, transport, stream):
        """Publishes have a connection of their own; when Redis drops it, the next publish
        connects again and goes out (once) instead of failing."""
        assert (await transport.publish_unique([(stream, envelope(1))], within_s=60))[0]
        # That connection, by its address (other processes' EVALSHAs may share the server).
        link = transport._publish_link._conn
        host, port = link._writer.get_extra_info("sockname")[:2]
        assert await transport.client.client_kill_filter(addr=f"{host}:{port}") == 1
        ids = await transport.publish_unique([(stream, envelope(2))], within_s=60)
        assert ids[0] is not None
        assert await transport.stream_length(stream) == 2

    async def test_acknowledgements_go_out_with_a_publish_that_redis_refuses(
        self, transport, stream
    ):
        """The XACK of ``publish_unique(acks=)`` runs whatever its envelopes' scripts do: the
        caller acknowledges what it has recorded, not what it publishes."""
        blocked = f"{stream}.out"
        await transport.client.set(blocked, "not a stream")  # XADD to it fails: WRONGTYPE
        seen: list[tuple[bool, int]] = []

        async def publishes(env: Envelope) -> None:
            ack = ack_of(env)
            assert ack is not None
            with pytest.raises(PublishError, match="WRONGTYPE"):
                await transport.publish_unique([(blocked, envelope(2))], 60, acks=[ack])
            seen.append((ack.sent, await transport.pending(stream, "g")))

        await transport.subscribe(stream, "g", "c", publishes, FAST)
        await transport.publish(stream, envelope(1))
        await wait_until(lambda: seen)
        await asyncio.sleep(3 * FAST.visibility_timeout_s)
        assert seen == [(True, 0)]  # acknowledged at once, and never delivered again

    async def test_an_acknowledgement_a_failed_publish_kept_is_the_subscriptions(
        self, transport, stream, redis_url
    ):
        """A publish whose connection is lost sent no acknowledgement: the subscription sends
        it when the handler returns, and the entry is not delivered again."""
        target = urlsplit(redis_url)
        proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 6379, free_port())
        await proxy.restore()
        via = target._replace(netloc=f"127.0.0.1:{proxy.port}").geturl()
        cut = RedisStreamsTransport(via, socket_timeout_s=1)
        await cut.publish_unique([(f"{stream}.out", envelope(0))], 60)  # connected, script loaded
        await proxy.cut()
        seen: list[tuple[bool, int]] = []

        async def publishes(env: Envelope) -> None:
            ack = ack_of(env)
            assert ack is not None
            with pytest.raises(PublishError):
                await cut.publish_unique([(f"{stream}.out", envelope(2))], 60, acks=[ack])
            seen.append((ack.sent, await transport.pending(stream, "g")))

        try:
            await transport.subscribe(stream, "g", "c", publishes, FAST)
            await transport.publish(stream, envelope(1))
            await wait_until(lambda: seen)
            await wait_until(lambda: _pending(transport, stream, "g", 0))
            await asyncio.sleep(3 * FAST.visibility_timeout_s)
            assert seen == [(False, 1)]
        finally:
            await cut.close()

    async def test_a_reply_that_cannot_be_published_fails_the_handler(self, transport, stream):
        blocked = f"{stream}.replies"
        await transport.client.set(blocked, "not a stream")  # XADD to it fails: WRONGTYPE
        calls: list[int] = []

        async def answers(env: Envelope) -> list[tuple[str, Envelope]]:
            calls.append(env.payload["i"])
            return [(blocked, envelope(0))]

        await transport.subscribe(stream, "g", "c", answers, FAST)
        await transport.publish(stream, envelope(1))
        await wait_until(lambda: _dead_letter_count(transport, stream, 1))
        [dead] = await transport.dead_letters(stream)
        assert calls == [1] * FAST.max_deliveries, "each failed commit counts a delivery"
        assert "cannot publish replies" in dead.reason and "WRONGTYPE" in dead.reason
        assert await transport.client.get(blocked) == b"not a stream"
        assert await transport.pending(stream, "g") == 0

    async def test_replies_are_committed_after_redis_forgets_the_script(self, transport, stream):
        replies = f"{stream}.replies"

        async def answers(env: Envelope) -> list[tuple[str, Envelope]]:
            return [(replies, envelope(env.payload["i"]))]

        await transport.subscribe(stream, "g", "c", answers)
        await transport.publish(stream, envelope(1))
        await wait_until(lambda: _length_is(transport, replies, 1))
        await transport.client.script_flush()  # what a Redis restart does to loaded scripts
        await transport.publish(stream, envelope(2))
        await wait_until(lambda: _length_is(transport, replies, 2))
        await wait_until(lambda: _pending(transport, stream, "g", 0))

    # Slow by design (a subprocess, a private server): a limit of its own, above the lower one
    # that mutation runs give every test (bench/mutation/redis_consumer.cfg).
    @pytest.mark.timeout(120)
    async def test_a_killed_consumers_entries_go_to_another_consumer(self, transport, stream):
        await transport.publish_many([(stream, envelope(i)) for i in range(10)])
        victim = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.bus.crash_consumer",
            transport.url,
            stream,
            "workers",
            "victim",
            cwd=ROOT,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        try:
            assert victim.stdout is not None
            started: list[int] = []
            while len(started) < 4:  # four handlers (its concurrency) started, none finished
                line = (await asyncio.wait_for(victim.stdout.readline(), 60)).decode().strip()
                assert line, "the victim exited early"
                if line != "ready":
                    started.append(int(line))
            await wait_until(lambda: _owned_by(transport, stream, "workers", "victim", 10))

            survivor = Recorder()
            options = ConsumerOptions(visibility_timeout_s=1.0)
            await transport.subscribe(stream, "workers", "survivor", survivor, options)
            # The live victim renews what it holds: nothing is taken from it, even after
            # more than twice the visibility timeout.
            await asyncio.sleep(2.5)
            assert survivor.seen == []
            pending = await transport.client.xpending_range(stream, "workers", "-", "+", 100)
            assert {p["consumer"] for p in pending} == {b"victim"}
            assert {p["times_delivered"] for p in pending} == {1}, "renewal counts no delivery"
            victim.send_signal(signal.SIGKILL)
            await victim.wait()
        finally:
            if victim.returncode is None:
                victim.kill()
                await victim.wait()
        await wait_until(lambda: len(survivor.seen) >= 10)
        assert sorted(survivor.seen) == list(range(10))
        assert set(started) <= set(survivor.seen)
        await wait_until(lambda: _pending(transport, stream, "workers", 0))

    # Slow by design (a subprocess, a private server): a limit of its own, above the lower one
    # that mutation runs give every test (bench/mutation/redis_consumer.cfg).
    @pytest.mark.timeout(120)
    async def test_consumer_survives_a_redis_restart(self, stream):
        # A private, non-persistent Redis that the test can kill and start again.
        executable = shutil.which("redis-server")
        if executable is None:
            missing("redis-server")
        port = free_port()
        command = [
            str(executable),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        url = f"redis://127.0.0.1:{port}/0"
        server = await asyncio.create_subprocess_exec(*command, stdout=subprocess.DEVNULL)
        transport = RedisStreamsTransport(url, reconnect_cap_s=0.5)
        try:
            await wait_until(transport.ping)
            record = Recorder()
            await transport.subscribe(stream, "g", "c", record, ConsumerOptions(block_ms=200))
            await transport.publish_many([(stream, envelope(i)) for i in range(50)])
            await wait_until(lambda: len(record.seen) >= 50)

            server.send_signal(signal.SIGKILL)
            await server.wait()
            with pytest.raises(PublishError):
                await transport.publish(stream, envelope(-1))
            await asyncio.sleep(1.0)  # the consumer loops hit the outage and back off

            # Whatever a non-persistent Redis held is lost by definition (the orchestrator's
            # lease re-dispatch covers that); what is published after the restart must arrive.
            server = await asyncio.create_subprocess_exec(*command, stdout=subprocess.DEVNULL)
            await wait_until(transport.ping)
            await transport.publish_many([(stream, envelope(i)) for i in range(100, 150)])
            await wait_until(lambda: set(range(100, 150)) <= set(record.seen))
            counts = Counter(record.seen)
            assert all(counts[i] == 1 for i in range(100, 150))
            await wait_until(lambda: _pending(transport, stream, "g", 0))
        finally:
            await transport.close()
            if server.returncode is None:
                server.kill()
                await server.wait()


async def _dead_letter_count(transport: RedisStreamsTransport, stream: str, count: int) -> bool:
    return len(await transport.dead_letters(stream)) >= count


async def _length_is(transport: RedisStreamsTransport, stream: str, count: int) -> bool:
    return await transport.stream_length(stream) == count


async def _blocked(transport: RedisStreamsTransport, stream: str, count: int) -> bool:
    """Whether ``count`` connections named after ``stream`` are blocked in a read."""
    clients = await transport.client.client_list()
    return sum(c["name"].startswith(stream) and "b" in c["flags"] for c in clients) == count


async def _pending(transport: RedisStreamsTransport, stream: str, group: str, count: int) -> bool:
    return await transport.pending(stream, group) == count


async def _owned_by(
    transport: RedisStreamsTransport, stream: str, group: str, consumer: str, count: int
) -> bool:
    entries = await transport.client.xpending_range(
        stream, group, "-", "+", 100, consumername=consumer
    )
    return len(entries) == count
