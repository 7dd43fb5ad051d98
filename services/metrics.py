"""Prometheus metrics of the service, defined once per process."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter, Gauge, Histogram

from bus.audit import Audit

REQUESTS = Counter("modx_http_requests_total", "HTTP requests", ["method", "route", "status"])
REQUEST_SECONDS = Histogram(
    "modx_http_request_seconds", "HTTP request latency", ["method", "route"]
)
RUNS_STARTED = Counter("modx_runs_started_total", "Runs created", ["workflow"])
RUNS_FINISHED = Counter(
    "modx_runs_finished_total", "Runs that reached a terminal state", ["status"]
)
DUPLICATE_RESULTS = Counter("modx_duplicate_results_total", "Late or duplicate results ignored")
REJECTED_MESSAGES = Counter(
    "modx_rejected_messages_total",
    "Agents' envelopes refused and dead-lettered (forged, replayed, stale, not an answer)",
    ["reason"],
)
BUS_TAMPERING = Counter(
    "modx_bus_tampering_total",
    "Entries agents' own Redis users forged (an id ahead of the clock), removed (trimmed) or "
    "made too large (MODX_BUS_MAX_ENTRY_BYTES) in streams they may only append to, found by "
    "the audit (bus/audit.py)",
    ["streams", "kind"],
)
RUN_CONFLICTS = Counter(
    "modx_run_conflicts_total",
    "Changes redone because another replica had changed the run since this one kept it",
)
RESULTS_FORWARDED = Counter(
    "modx_results_forwarded_total", "Results sent on to the replica that owns their run"
)
WRITER_BATCHES = Counter(
    "modx_writer_batches_total",
    "Batches of changes to runs the orchestrator's writer applied together, each in one "
    "transaction when it writes anything (group commit)",
)
WRITER_CHANGES = Counter(
    "modx_writer_changes_total",
    "Changes to runs those batches applied (per batch: how many changes share a commit)",
)
PARTITIONS_OWNED = Gauge("modx_partitions_owned", "Run partitions this replica owns now")
AGENTS_REGISTERED = Counter("modx_agents_registered_total", "Agent registrations")
GATEWAY_CONNECTIONS = Gauge("modx_gateway_connections", "Agents connected to the gateway now")
GATEWAY_TASKS = Counter("modx_gateway_tasks_total", "Tasks handed to agents over the gateway")


def count_tampering(kind_of_streams: str, found: Iterable[Audit]) -> None:
    """Count what audits of ``kind_of_streams`` ("results", "dead_letters") found."""
    for audit in found:
        BUS_TAMPERING.labels(kind_of_streams, "forged").inc(audit.forged)
        BUS_TAMPERING.labels(kind_of_streams, "removed").inc(audit.lost + audit.lost_pending)
        BUS_TAMPERING.labels(kind_of_streams, "oversized").inc(audit.oversized)
