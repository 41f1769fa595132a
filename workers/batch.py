"""The RQ task of ``mediacheck batch --queue``: check one entry of a batch on a worker
that shares the batch's storage (the same paths), and hand the record back as JSON.
Thin: the work is ``service.batch.task.check_entry``, the same function the local pool
runs. Start workers with ``rq worker --url redis://… mediacheck-batch``."""

from __future__ import annotations

from service.batch.entries import BatchEntry
from service.batch.task import TaskOptions, check_entry


def check_entry_job(entry_json: str, options: TaskOptions, sha256: str | None = None) -> str:
    """Check the entry (given as JSON) and return its record as JSON."""
    entry = BatchEntry.model_validate_json(entry_json)
    return check_entry(entry, options, sha256=sha256).model_dump_json()
