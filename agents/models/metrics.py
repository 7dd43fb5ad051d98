"""Prometheus metrics of model servers, labelled by model name.

One :class:`ServingMetrics` exists per ``CollectorRegistry`` (prometheus-client refuses to
register the same metric name twice), and every server that uses that registry shares it
through the ``model`` label. Tests pass their own registry to stay isolated.
"""

from __future__ import annotations

import threading
import weakref

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram

BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
# Queue waits are bounded by max_wait_ms plus time spent behind busy batches.
WAIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
INFERENCE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_lock = threading.Lock()
_by_registry: weakref.WeakKeyDictionary[CollectorRegistry, ServingMetrics] = (
    weakref.WeakKeyDictionary()
)


class ServingMetrics:
    """The metric families of model serving, registered in one registry.

    Use :meth:`for_registry` rather than the constructor so that each registry gets its
    families once.

    Attributes:
        requests: Items accepted into a queue (``modx_model_requests_total``).
        rejections: Items refused, by ``reason`` (``modx_model_rejections_total``).
        errors: Batches whose inference raised (``modx_model_batch_errors_total``).
        batch_size: Items per batch run (``modx_model_batch_size``).
        queue_wait: Seconds an item waited before its batch started
            (``modx_model_queue_wait_seconds``).
        inference: Seconds one batch spent in the backend (``modx_model_inference_seconds``).
        queue_depth: Items waiting now (``modx_model_queue_depth``).
        in_flight: Batches running now (``modx_model_batches_in_flight``).
        ready: 1 when the model is loaded and serving (``modx_model_ready``).
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        """Register the families in ``registry``.

        Args:
            registry: Where the families are registered.
        """
        self.registry = registry
        labels = ("model",)
        self.requests = Counter(
            "modx_model_requests", "Items accepted by a model server.", labels, registry=registry
        )
        self.rejections = Counter(
            "modx_model_rejections",
            "Items refused by a model server.",
            (*labels, "reason"),
            registry=registry,
        )
        self.errors = Counter(
            "modx_model_batch_errors", "Batches whose inference raised.", labels, registry=registry
        )
        self.batch_size = Histogram(
            "modx_model_batch_size",
            "Items per inference batch.",
            labels,
            buckets=BATCH_SIZE_BUCKETS,
            registry=registry,
        )
        self.queue_wait = Histogram(
            "modx_model_queue_wait_seconds",
            "Time an item waited in the queue before its batch started.",
            labels,
            buckets=WAIT_BUCKETS,
            registry=registry,
        )
        self.inference = Histogram(
            "modx_model_inference_seconds",
            "Time one batch spent in the backend.",
            labels,
            buckets=INFERENCE_BUCKETS,
            registry=registry,
        )
        self.queue_depth = Gauge(
            "modx_model_queue_depth", "Items waiting in the queue.", labels, registry=registry
        )
        self.in_flight = Gauge(
            "modx_model_batches_in_flight", "Batches running now.", labels, registry=registry
        )
        self.ready = Gauge(
            "modx_model_ready", "1 when the model is loaded and serving.", labels, registry=registry
        )

    @classmethod
    def for_registry(cls, registry: CollectorRegistry | None = None) -> ServingMetrics:
        """The metrics registered in ``registry`` (the global default when None), made once.

        Args:
            registry: A prometheus-client registry; tests pass their own.

        Returns:
            The shared :class:`ServingMetrics` of that registry.
        """
        registry = REGISTRY if registry is None else registry
        with _lock:
            metrics = _by_registry.get(registry)
            if metrics is None:
                metrics = cls(registry)
                _by_registry[registry] = metrics
            return metrics
