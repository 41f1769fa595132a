"""Prometheus metrics of one application (its own registry, so several apps can live in
one test process): uploads, verdicts, job durations, queue depth."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

JOB_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
"""Histogram buckets (seconds) for job durations: from a quick check to a long transcode."""


class Metrics:
    def __init__(self, queue: Any) -> None:
        self.registry = CollectorRegistry()
        self.uploads = Counter(
            "mediacheck_uploads_total", "Uploads by outcome", ["campaign", "outcome"], registry=self.registry
        )
        self.upload_bytes = Counter(
            "mediacheck_upload_bytes_total", "Bytes stored from uploads", registry=self.registry
        )
        self.verdicts = Counter(
            "mediacheck_verdicts_total", "Quick-check verdicts", ["verdict"], registry=self.registry
        )
        self.job_seconds = Histogram(
            "mediacheck_job_duration_seconds",
            "Job run time",
            ["kind"],
            buckets=JOB_BUCKETS,
            registry=self.registry,
        )
        depth = Gauge("mediacheck_queue_depth", "Jobs waiting to run", registry=self.registry)
        depth.set_function(lambda: _safe_depth(queue))

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _safe_depth(queue: Any) -> float:
    try:
        return float(queue.depth())
    except Exception:  # noqa: BLE001 - a scrape must not fail because Redis is away
        return float("nan")
