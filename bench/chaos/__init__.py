"""Chaos scenarios: MODX under load while its agents, replicas, Redis and PostgreSQL are killed.

``python -m bench.chaos [--runs N] [SCENARIO ...]`` starts a stack of its own (a private Redis
and a private PostgreSQL cluster on free ports, so that it can kill them), runs each scenario
with default workflow settings, and prints a table: runs, succeeded, failed, stuck,
re-executions, duplicate completions, requests left without an HTTP answer, recovery time.
"""
