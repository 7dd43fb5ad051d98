"""Embedding throughput through the ``model.embed`` agent, against direct calls of the model.

    python -m bench.embedding [--texts 2048] [--batch 32] [--rounds 5] [--texts-per-task 1]

Both paths use the same loaded int8 MiniLM and the same batch size, in the same process:

- **direct**: ``MiniLMEmbedder.embed`` on consecutive slices of ``--batch`` texts;
- **agent**: one task per ``--texts-per-task`` texts, sent on an in-memory bus to the real
  agent (``agents.models.embed_agent``, served by the SDK's ``TaskRuntime`` exactly as in
  production: envelope, input validation, handler, output validation, result envelope), whose
  model server batches the texts of concurrent tasks up to ``--batch``.

Rounds alternate direct and agent. Reported: each round's throughput ratio agent / direct
(the two run back to back, so they share the machine's load) and its median; the ratio of
process CPU time per text, which other load on a shared machine disturbs much less; the best
round of each path; and the agent's mean batch size. The target is at least 80%.

The orchestrator and the database are not in this path (run bookkeeping has its own
benchmarks). This is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from agents.models.embed_agent import EmbedderResources, EmbedderSettings, build_agent
from agents.models.embedding import MODEL_NAME, MiniLMEmbedder, create_embedding_server
from agents.sdk.testing import AgentTestEnvironment
from bus import streams
from bus.envelope import Envelope, Kind

VOCABULARY = (
    "the court tax income refund payment contract review invoice translate summary meeting "
    "weather route parcel customer agreement liability deduction salary return statute "
    "schedule shift nurse email spam review code database query language speech image"
)


def make_texts(count: int, seed: int = 7) -> list[str]:
    """Sentences of 6 to 30 words, so batches mix lengths as real requests do."""
    rng = random.Random(seed)
    words = VOCABULARY.split()
    return [
        " ".join(rng.choice(words) for _ in range(rng.randint(6, 30))).capitalize() + "."
        for _ in range(count)
    ]


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds and process CPU seconds (every thread) of one measured path."""

    wall: float
    cpu: float

    @classmethod
    def start(cls) -> Timing:
        return cls(time.perf_counter(), time.process_time())

    def since(self) -> Timing:
        return Timing(time.perf_counter() - self.wall, time.process_time() - self.cpu)


def direct(embedder: MiniLMEmbedder, texts: list[str], batch: int) -> Timing:
    """The time to embed ``texts`` in slices of ``batch`` by calling the model."""
    start = Timing.start()
    for i in range(0, len(texts), batch):
        embedder.embed(texts[i : i + batch])
    return start.since()


async def through_agent(
    embedder: MiniLMEmbedder, texts: list[str], batch: int, per_task: int
) -> tuple[Timing, float]:
    """The time to embed ``texts`` through the agent, and the mean batch size it ran."""
    registry = CollectorRegistry()
    settings = EmbedderSettings(max_batch=batch, max_wait_ms=5, tasks=4 * batch)
    resources = EmbedderResources(
        settings,
        server_factory=lambda _: create_embedding_server(
            embedder, max_batch=batch, max_wait_ms=5, registry=registry
        ),
    )
    async with AgentTestEnvironment(build_agent(resources), timeout_s=600) as env:
        await env.execute("model.embed", {"texts": ["warm up the server"]})
        before = _batches(registry)
        tasks = [
            env.task("model.embed", {"texts": texts[i : i + per_task]})
            for i in range(0, len(texts), per_task)
        ]
        # One future per task (env.result scans every answer seen, too slow for thousands).
        loop = asyncio.get_running_loop()
        pending = {task.id: loop.create_future() for task in tasks}

        async def collect(envelope: Envelope) -> None:
            future = pending.get(envelope.causation_id or "")
            if envelope.kind in (Kind.RESULT, Kind.ERROR) and future and not future.done():
                future.set_result(envelope)

        listener = await env.transport.subscribe(streams.RESULTS, "bench", "bench", collect)
        start = Timing.start()
        for task in tasks:
            await env.send(task)
        answers = await asyncio.gather(*pending.values())
        elapsed = start.since()
        await listener.stop(drain=True)
        await resources.close()
    failed = [a.payload for a in answers if a.kind != Kind.RESULT]
    if failed:
        raise RuntimeError(f"{len(failed)} tasks failed, e.g. {failed[0]}")
    count, total = (a - b for a, b in zip(_batches(registry), before, strict=True))
    return elapsed, total / max(count, 1)


def _batches(registry: CollectorRegistry) -> tuple[float, float]:
    labels = {"model": MODEL_NAME}
    count = registry.get_sample_value("modx_model_batch_size_count", labels) or 0.0
    total = registry.get_sample_value("modx_model_batch_size_sum", labels) or 0.0
    return count, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2048)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--texts-per-task", type=int, default=1)
    args = parser.parse_args()

    embedder = MiniLMEmbedder()
    embedder.load()
    texts = make_texts(args.texts)
    direct(embedder, texts[: args.batch * 2], args.batch)  # warm up the ONNX session

    n = len(texts)
    walls: list[float] = []
    cpus: list[float] = []
    best_direct = best_agent = float("inf")
    mean_batch = 0.0
    for round_ in range(1, args.rounds + 1):
        d = direct(embedder, texts, args.batch)
        a, mean = asyncio.run(through_agent(embedder, texts, args.batch, args.texts_per_task))
        walls.append(d.wall / a.wall)
        cpus.append(d.cpu / a.cpu)
        print(
            f"round {round_}: direct {n / d.wall:6.1f} texts/s "
            f"({1000 * d.cpu / n:5.2f} ms CPU/text)   agent {n / a.wall:6.1f} texts/s "
            f"({1000 * a.cpu / n:5.2f} ms CPU/text, "
            f"mean batch {mean:.1f})   ratio {d.wall / a.wall:.1%}"
        )
        best_direct = min(best_direct, d.wall)
        if a.wall < best_agent:
            best_agent, mean_batch = a.wall, mean
    print(
        f"\n{n} texts, batch {args.batch}, {args.texts_per_task} text(s) per task\n"
        f"direct model calls : {n / best_direct:6.1f} texts/s (best round)\n"
        f"through the agent  : {n / best_agent:6.1f} texts/s (best round, mean batch "
        f"{mean_batch:.1f})\n"
        f"ratio agent/direct : {statistics.median(walls):.1%} throughput (median of paired "
        f"rounds), {statistics.median(cpus):.1%} CPU per text; target >= 80%"
    )


if __name__ == "__main__":
    main()
