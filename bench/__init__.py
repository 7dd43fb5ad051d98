"""Benchmarks of MODX against its physical limits and against Celery (see bench/README.md).

``modx bench [bus|orchestrator|scaling|legal|all]`` runs them (``bench.runner``).
"""
