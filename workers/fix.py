"""The fix task: thin (load the profile → ``transcode.fix_file`` → hand back the result).

``run_fix`` takes paths, a profile, a progress callback and a cancel check, so the RQ path
and the in-process executor run the very same function. ``rq_fix`` is the RQ entry point
(JSON-able arguments and result; progress and ETA in ``job.meta``, throttled; a
cooperative cancel through ``request_cancel``). RQ's own stop command kills the work horse's
process group, which includes ffmpeg (it is never started in a new session).

Wiring into the service's job table (``workers/tasks.py`` on the service branch)::

    @task("transcode")
    def transcode_task(ctx, job, progress):
        with ctx.db.session() as s:
            sub = s.get(Submission, job.submission_id)
            src, name, profile_id = ctx.storage.path(sub.storage_key), sub.file_name, sub.profile_id
        dest = ctx.storage.path(fixed_key(sub))                  # beside the original
        result = run_fix(src, ctx.store.get(profile_id), dest, job_id=job.id, display_name=name,
                         progress=lambda p: progress(p.percent / 100),
                         cancelled=lambda: job_state(ctx, job.id) == "cancelling")
        # store result.after as ReportRow(subject="fixed") when result.after is not None,
        # link dest only when result.status == "fixed"; return result.model_dump(mode="json")

``fix.auto`` in a profile's kind says whether a failing upload is fixed without being asked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from service.core.profiles import Profile, ProfileStore, load_profile
from service.fix.transcode import FixProgress, FixResult, fix_file, job_timeout
from service.settings import Settings

CANCEL_POLL_S = 1.0
"""The cancel check (a database or Redis read) runs at most once per this many seconds."""

META_INTERVAL_S = 1.0
"""Progress is written to the RQ job meta at most once per this many seconds (save_meta rewrites it all)."""

CANCEL_KEY = "mediacheck:fix:cancel:{}"
"""Redis key a client sets (``request_cancel``) to stop a fix cooperatively. A key of its own:
the job meta is rewritten whole by every progress update, which would lose the flag."""

CANCEL_KEY_TTL_S = 24 * 3600
"""How long a cancel request is kept."""


def throttled(check: Callable[[], bool], interval: float = CANCEL_POLL_S) -> Callable[[], bool]:
    """``check`` called at most once per ``interval``; once true, true for good."""
    state = {"last": 0.0, "value": False}

    def poll() -> bool:
        now = time.monotonic()
        if not state["value"] and now - state["last"] >= interval:
            state["last"] = now
            state["value"] = bool(check())
        return bool(state["value"])

    return poll


def run_fix(src: str | Path, profile: Profile, dest: str | Path, *, job_id: str | None = None,
            progress: Callable[[FixProgress], None] | None = None, cancelled: Callable[[], bool] | None = None,
            display_name: str | None = None, durable: bool = True) -> FixResult:
    """Fix ``src`` against ``profile`` into ``dest`` (written only when the result passes; with
    ``durable``, on the disk before it appears under its name)."""
    return fix_file(src, profile, dest, job_id=job_id, progress=progress,
                    cancelled=throttled(cancelled) if cancelled else None, display_name=display_name,
                    durable=durable)


def _profile(ref: str, profiles_dir: str | None) -> Profile:
    store = ProfileStore(profiles_dir or Settings.from_env().profiles_dir)
    if ref.endswith((".yaml", ".yml")) or "/" in ref:
        return load_profile(ref, store)
    return store.get(ref)


def rq_fix(src: str, profile_ref: str, dest: str, profiles_dir: str | None = None) -> dict[str, Any]:
    """RQ task: fix ``src`` into ``dest``; progress (percent, ETA, stage) goes to ``job.meta``."""
    from rq import get_current_job

    job = get_current_job()
    last = {"t": 0.0}

    def report(p: FixProgress) -> None:
        now = time.monotonic()
        if job is None or (now - last["t"] < META_INTERVAL_S and p.percent < 100):
            return
        last["t"] = now
        job.meta["progress"] = {"percent": p.percent, "eta_s": p.eta_s, "stage": p.stage}
        job.save_meta()

    def cancel_requested() -> bool:
        return bool(job is not None and job.connection.exists(CANCEL_KEY.format(job.id)))

    result = run_fix(src, _profile(profile_ref, profiles_dir), dest, job_id=job.id if job else None,
                     progress=report, cancelled=cancel_requested if job else None,
                     durable=Settings.from_env().fsync)
    return result.model_dump(mode="json")


def request_cancel(connection: Any, job_id: str) -> None:
    """Ask a running ``rq_fix`` to stop: it kills ffmpeg and ends with status ``cancelled``."""
    connection.set(CANCEL_KEY.format(job_id), 1, ex=CANCEL_KEY_TTL_S)


def enqueue_fix(queue: Any, src: str, profile: Profile, dest: str, *, profile_ref: str | None = None,
                profiles_dir: str | None = None, retries: int = 1, duration_s: float | None = None) -> Any:
    """Enqueue ``rq_fix`` with a timeout derived from the media (RQ's 180 s default would kill a
    transcode) and ``retries`` retries (an abandoned job, e.g. a killed worker, is retried)."""
    from rq import Retry

    from service.fix.plan import FixPlan, VideoTarget

    est = FixPlan(kind="video", mode="reencode", video=VideoTarget(rate_control="two_pass"), duration_s=duration_s)
    return queue.enqueue(rq_fix, src, profile_ref or profile.id, dest, profiles_dir,
                         job_timeout=int(job_timeout(est)), retry=Retry(max=retries) if retries else None,
                         description=f"mediacheck fix {Path(src).name}")
