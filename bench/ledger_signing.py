"""What the ledger adds to a step, measured alone: ``python -m bench.ledger_signing``.

A succeeded step appends one entry: its hash (canonical JSON + SHA-256) and now its Ed25519
signature (``RunContext.ledger``). This times both, and the verifier's side (hash + signature
check), for a small output and for a legal answer's proof-sized one, and prints p50/p90 in µs.
The writer's statement is unchanged: the signature is one more column of the row it inserts.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.ledger.format import chain_hash, entry_signed, sign_entry

REPEATS = 3000


def _times(work: Callable[[], object]) -> dict[str, float]:
    samples = []
    for _ in range(REPEATS):
        start = time.perf_counter_ns()
        work()
        samples.append((time.perf_counter_ns() - start) / 1000)
    samples.sort()
    return {
        "p50_us": round(statistics.median(samples), 1),
        "p90_us": round(samples[int(len(samples) * 0.9)], 1),
    }


def measure() -> dict[str, Any]:
    """p50/p90 per entry, for two output sizes."""
    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    outputs = {
        "small": {"total": 14},
        "proof (~8 KB)": {
            "answer": 1234,
            "proof": [
                {"rule": f"s63_c_{i}", "cites": "§63(c)(2)(A)", "args": [i, i * 2]}
                for i in range(100)
            ],
        },
    }
    results: dict[str, Any] = {}
    run_id, prev, kind = "r" * 36, "0" * 64, "step.succeeded"
    for name, output in outputs.items():
        data = {"step_id": "infer", "attempt": 1, "agent_id": "a" * 36, "output": output}
        digest = chain_hash(prev, run_id, 3, kind, data)
        signature = sign_entry(key, digest)

        def hashed(data: dict[str, Any] = data) -> str:
            return chain_hash(prev, run_id, 3, kind, data)

        def signed(digest: str = digest) -> str:
            return sign_entry(key, digest)

        def written(data: dict[str, Any] = data) -> str:
            return sign_entry(key, chain_hash(prev, run_id, 3, kind, data))

        def checked(data: dict[str, Any] = data, signature: str = signature) -> bool:
            return entry_signed(public, chain_hash(prev, run_id, 3, kind, data), signature)

        results[name] = {
            "bytes": len(json.dumps(data)),
            "hash": _times(hashed),
            "sign": _times(signed),
            "hash + sign (writer)": _times(written),
            "hash + check signature (verify)": _times(checked),
        }
    return results


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
