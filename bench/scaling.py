"""Scaling: agents, orchestrator replicas, workflow length, and the size of the registry.

On one distributed stack (``modx serve`` on PostgreSQL + Redis):

1. steps/s of 10-step chains (``runs`` at once) with 1, 2 and 4 ``numbers`` agent processes,
   adding agents between measurements;
2. the end-to-end latency of one run alone of chains of 1, 10 and 100 steps;
3. steps/s with 1 and then 2 ``modx serve`` replicas on the same database and bus (runs are
   submitted to them in turn; both consume results in the ``orchestrator`` group).

On a second stack, with no agent running: discovery latency (``GET /v1/capabilities`` by
``name``, by ``produces`` concept, and ranked by ``q`` when the server has it) with 10, 1,000
and 10,000 capabilities registered through the API, in cards of ``CARD_SIZE`` (10): a
registry of many agents with a few capabilities each.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.harness import Series, latency_summary, log
from bench.stack import REDIS_URL, Stack, Stacks
from bench.workload import Api, chain
from bus.signing import generate_keypair, registration_proof

WORDS = [
    "compute",
    "validate",
    "extract",
    "translate",
    "summarize",
    "classify",
    "rank",
    "explain",
    "parse",
    "score",
]
NOUNS = [
    "tax returns",
    "case facts",
    "invoices",
    "contracts",
    "statutes",
    "payroll records",
    "receipts",
    "filings",
    "claims",
    "ledgers",
]
PRODUCES = [
    "tax:CaseFacts",
    "tax:ValidatedFacts",
    "tax:TaxAnswer",
    "tax:Proof",
    "tax:Explanation",
    "tax:TaxQuestion",
    "tax:SaraCaseFile",
]
QUERIES = {
    "name": {"name": "bench.cap00005"},
    "produces": {"produces": "tax:CaseFacts"},
    "q": {"q": "compute the tax owed from validated case facts"},
}
CARD_SIZE = 10  # capabilities per registered agent card


@dataclass(frozen=True)
class ScalingConfig:
    """Sizes of the scaling benchmark."""

    agents: tuple[int, ...] = (1, 2, 4)
    replicas: tuple[int, ...] = (1, 2)
    runs: int = 60
    steps: int = 10
    lengths: tuple[int, ...] = (1, 10, 100)
    length_samples: tuple[int, ...] = (20, 10, 3)
    capabilities: tuple[int, ...] = (10, 1000, 10_000)
    discovery_samples: int = 20
    discovery_budget_s: float = 20.0
    repeats: int = 5

    @classmethod
    def quick(cls) -> ScalingConfig:
        """Tiny sizes for the CI smoke run."""
        return cls(
            agents=(1, 2),
            runs=6,
            lengths=(1, 5, 20),
            length_samples=(2, 1, 1),
            capabilities=(10, 100),
            discovery_samples=2,
            repeats=2,
        )


async def _throughput(api: Api, cfg: ScalingConfig, series: Series, key: str) -> None:
    for repeat in range(cfg.repeats):
        rate = await api.throughput(chain("bench-scale", cfg.steps), cfg.runs)
        series.add(f"{key}.steps_per_s", rate["steps_per_s"])
        log(f"scaling {key} repeat {repeat + 1}/{cfg.repeats}: {rate['steps_per_s']:,.0f} steps/s")


async def _agents_and_lengths(cfg: ScalingConfig, stack: Stack, series: Series) -> None:
    api = Api(stack.servers)
    try:
        await api.throughput(chain("bench-scale", cfg.steps), max(2, cfg.runs // 4))  # warm-up
        for count in cfg.agents:
            stack.start_agents(count - len(stack.agents))
            await stack.wait_agents(count)
            await _throughput(api, cfg, series, f"agents.{count}")
        for length, samples in zip(cfg.lengths, cfg.length_samples, strict=True):
            name = f"bench-length-{length}"
            await api.register(chain(name, length))
            await api.run_once(name)  # warm-up
            for repeat in range(cfg.repeats):
                latency = latency_summary([await api.run_once(name) for _ in range(samples)])
                series.add(f"length.{length}.p50_ms", latency["p50_ms"])
                series.add(f"length.{length}.per_step_ms", latency["p50_ms"] / length)
                log(
                    f"scaling: {length}-step run alone, repeat {repeat + 1}: "
                    f"p50 {latency['p50_ms']:.1f} ms"
                )
    finally:
        await api.aclose()


async def _replicas(cfg: ScalingConfig, stack: Stack, series: Series) -> None:
    for count in cfg.replicas:
        while len(stack.servers) < count:
            await stack.add_replica()
        api = Api(stack.servers)
        try:
            await _throughput(api, cfg, series, f"replicas.{count}")
        finally:
            await api.aclose()


def card(start: int, count: int) -> dict[str, Any]:
    """An agent card with capabilities ``bench.cap<start>`` .. ``bench.cap<start+count-1>``."""
    capabilities = [
        {
            "name": f"bench.cap{i:05d}",
            "description": f"{WORDS[i % len(WORDS)]} {NOUNS[(i // len(WORDS)) % len(NOUNS)]} "
            f"(variant {i})",
            "produces": [PRODUCES[i % len(PRODUCES)]],
            "consumes": [PRODUCES[(i + 3) % len(PRODUCES)]],
        }
        for i in range(start, start + count)
    ]
    name = f"bench-registry-{start}"
    card = {"name": name, "version": "1.0.0", "capabilities": capabilities}
    return {**card, **registration_proof(name, generate_keypair()[0])}  # bus agents have keys


async def _discovery(cfg: ScalingConfig, stack: Stack, series: Series) -> dict[str, bool]:
    api = Api(stack.servers)
    supported = {kind: True for kind in QUERIES}
    registered = 0
    try:
        for target in cfg.capabilities:
            while registered < target:
                count = min(CARD_SIZE, target - registered)
                response = await api.client.post("/v1/agents", json=card(registered, count))
                response.raise_for_status()
                registered += count
            for kind, params in QUERIES.items():
                first = await api.client.get("/v1/capabilities", params=params)  # warm-up
                if first.status_code != 200 or (kind == "q" and "ranking" not in first.json()):
                    supported[kind] = False
                    continue
                budget = cfg.discovery_budget_s / cfg.repeats  # slow queries get fewer samples
                for _ in range(cfg.repeats):
                    samples: list[float] = []
                    while len(samples) < cfg.discovery_samples and (
                        not samples or sum(samples) < budget
                    ):
                        response = await api.client.get("/v1/capabilities", params=params)
                        response.raise_for_status()
                        samples.append(response.elapsed.total_seconds())
                    summary = latency_summary(samples)
                    series.add(f"discovery.{kind}.{target}.p50_ms", summary["p50_ms"])
                    series.add(f"discovery.{kind}.{target}.p99_ms", summary["p99_ms"])
                log(
                    f"discovery with {target:,} capabilities, by {kind}: p50 "
                    f"{series.values[f'discovery.{kind}.{target}.p50_ms'][-1]:.1f} ms"
                )
    finally:
        await api.aclose()
    return supported


async def run(cfg: ScalingConfig, logs: Path) -> tuple[dict[str, Any], list[str]]:
    """Agents, lengths and replicas on one stack; discovery on another."""
    series = Series()
    async with Stacks(logs) as stacks:
        stack = await stacks.distributed("scale", REDIS_URL, cfg.agents[0])
        await _agents_and_lengths(cfg, stack, series)
        await _replicas(cfg, stack, series)
        agents_during_replicas = len(stack.agents)
    async with Stacks(logs) as stacks:
        stack = await stacks.distributed("discovery", REDIS_URL, 0)
        supported = await _discovery(cfg, stack, series)
    results = {
        "figures": series.summary(),
        "discovery_supported": supported,
        "agents_during_replicas": agents_during_replicas,
        "config": asdict(cfg),
    }
    notes = [
        f"Replicas were measured with {agents_during_replicas} agent processes, runs submitted "
        "to the replicas in turn.",
        "Discovery latency is client-side (httpx on localhost), one request at a time; a "
        f"slow query gets fewer samples (at least 1 per repeat, {cfg.discovery_budget_s:.0f} s "
        "per query and registry size).",
        f"Capabilities are registered in agent cards of {CARD_SIZE}. Concept filters run in "
        "SQL and no agent card is read; q= reads one aggregate over the candidates (the one "
        "cost that still grows with the registry) and, while it is unchanged, reuses their "
        "cached keys and BM25 index.",
        "On a 2-CPU machine, the server, the agents, PostgreSQL, Redis and the client share "
        "the same two CPUs: past 2 busy processes, more processes only share them.",
    ]
    return results, notes
