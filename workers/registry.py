"""The task registry: the function each job kind runs (``TASKS``), filled by ``@task(kind)`` in
the task modules (workers/check.py, deep.py, fix_task.py, export.py). workers/tasks.py, which runs the jobs,
imports every task module (its ``TASK_MODULES``), so whoever runs a job finds every kind
registered; no task module imports it back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from service.store.jobs import JobProgress
from service.store.models import Job
from service.store.runtime import Context

TaskFn = Callable[[Context, Job, JobProgress], dict[str, Any]]
"""A task: the process's context, the job's row (detached) and its progress → the job's result."""

TASKS: dict[str, TaskFn] = {}
"""Task functions by job kind."""


def task(kind: str) -> Callable[[TaskFn], TaskFn]:
    """Register the decorated function as the task of jobs of ``kind``."""

    def register(fn: TaskFn) -> TaskFn:
        TASKS[kind] = fn
        return fn

    return register
