"""What signatures cost per step: the four Ed25519 operations a bus step adds, timed alone.

A step's task is signed by the orchestrator and checked by the agent; its answer is signed by
the agent and checked by the orchestrator (``services/orchestrator/authenticity.py``, with the
sender's key cached as in production). Each operation runs on envelopes shaped like the
benchmark workload's (a small input, a small output, every header set), ``--samples`` times;
the per-step figure adds the four medians. Run: ``python -m bench.signing [--samples N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from bench.harness import RESULTS_DIR, log, percentile
from bus.envelope import Envelope, Kind, utcnow
from bus.ids import new_id
from bus.signing import generate_keypair, sign, verify
from services.orchestrator.authenticity import Authenticator, Identity


def _task() -> Envelope:
    run_id = new_id()
    return Envelope(
        kind=Kind.TASK,
        topic="test.noop",
        sender="orchestrator",
        recipient=None,
        run_id=run_id,
        step_id="s3",
        attempt=1,
        correlation_id=run_id,
        causation_id=run_id,
        deadline=utcnow(),
        payload={"n": 3, "values": [1, 2, 3]},
    )


def _answer(task: Envelope, agent_id: str) -> Envelope:
    return Envelope(
        kind=Kind.RESULT,
        topic=task.topic,
        sender=agent_id,
        run_id=task.run_id,
        step_id=task.step_id,
        attempt=task.attempt,
        correlation_id=task.correlation_id,
        causation_id=task.id,
        payload={"output": {"ok": True, "total": 6}},
    )


def _time(operation: Callable[[], object], samples: int) -> list[float]:
    took: list[float] = []
    for _ in range(samples):
        start = time.perf_counter_ns()
        operation()
        took.append((time.perf_counter_ns() - start) / 1000)
    return took


async def measure(samples: int) -> dict[str, Any]:
    """Microseconds per operation (p50, p90) and per step (the sum of the p50s)."""
    orchestrator_key, orchestrator_public = generate_keypair()
    agent_key, agent_public = generate_keypair()
    agent_id = new_id()
    authenticator = Authenticator(None, orchestrator_key)  # type: ignore[arg-type]
    # The sender's identity as the registry cache holds it after the first answer.
    identity = Identity(agent_id, "bus", agent_public, frozenset({"test.noop"}))
    authenticator._identities[agent_id] = (time.monotonic() + 10**9, identity)
    task = authenticator.stamp(_task())
    answer = sign(_answer(task, agent_id), agent_key)

    operations: dict[str, Callable[[], object]] = {
        "orchestrator signs the task": lambda: authenticator.stamp(_task()),
        "agent verifies the task": lambda: verify(task, orchestrator_public),
        "agent signs the answer": lambda: sign(_answer(task, agent_id), agent_key),
    }
    results: dict[str, dict[str, float]] = {}
    for name, operation in operations.items():
        took = _time(operation, samples)
        results[name] = {"p50_us": percentile(took, 0.5), "p90_us": percentile(took, 0.9)}
        log(f"{name}: p50 {results[name]['p50_us']:.1f} us")
    # The orchestrator's whole check (freshness, replay guard, cached key, signature), awaited.
    took = []
    for _ in range(samples):
        authenticator._seen.clear()  # the replay guard would refuse the same id again
        start = time.perf_counter_ns()
        await authenticator.check(answer)
        took.append((time.perf_counter_ns() - start) / 1000)
    name = "orchestrator checks the answer"
    results[name] = {"p50_us": percentile(took, 0.5), "p90_us": percentile(took, 0.9)}
    log(f"{name}: p50 {results[name]['p50_us']:.1f} us")
    # Building the envelopes is timed with them in the two signing rows: subtract its cost.
    build = _time(lambda: (_task(), _answer(task, agent_id)), samples)
    per_step = sum(r["p50_us"] for r in results.values()) - percentile(build, 0.5)
    return {
        "samples": samples,
        "operations": results,
        "building_both_envelopes_p50_us": percentile(build, 0.5),
        "per_step_p50_us": per_step,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=5000)
    args = parser.parse_args()
    results = asyncio.run(measure(args.samples))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / "signing.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    log(f"per step: {results['per_step_p50_us']:.1f} us (p50 sum); written to {path}")


if __name__ == "__main__":
    main()
