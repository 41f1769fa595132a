"""The answer to an upload, the same for a direct upload (routes/submissions.py) and the
last PATCH of a tus upload (routes/tus.py): wait (bounded) for the quick check, refuse a
file of the wrong kind, count it in the metrics, answer with the submission and its verdict
(201 checked, 202 still queued or running, 500 when the check failed)."""

from __future__ import annotations

import anyio
from fastapi.responses import JSONResponse

from service.store.models import Submission
from service.submissions.intake import latest_report
from service.submissions.views import links, submission_view
from service.web.deps import Services


async def respond_with_verdict(svc: Services, sub_id: str, job_id: str, token: str | None) -> JSONResponse:
    """Wait (bounded) for the quick check; refuse a file of the wrong kind; answer."""
    job = await svc.intake.wait(job_id, svc.settings.check_wait_s)
    if job.started_at and job.finished_at:
        svc.metrics.job_seconds.labels(kind=job.kind).observe(
            (job.finished_at - job.started_at).total_seconds()
        )
    if job.state == "finished":
        await anyio.to_thread.run_sync(svc.intake.raise_if_refused, sub_id)
    with svc.db.session() as s:
        sub = s.get(Submission, sub_id)
        assert sub is not None
        report = latest_report(s, sub_id)
        body = submission_view(sub, report.report if report else None)
    if sub.verdict:
        svc.metrics.verdicts.labels(verdict=sub.verdict).inc()
    body |= {
        "receipt_token": token,
        "links": links(sub_id, token, job_id),
        "report_url": links(sub_id, token)["report"],
        "job": {"id": job_id, "state": job.state},
    }
    if sub.duplicate_of:
        body["duplicate"] = {
            "of": sub.duplicate_of,
            "message": {
                "zh-CN": "本活动已收到内容完全相同的文件（sha256 相同）。",
                "en": "This campaign already has a file with the same content (same sha256).",
            },
        }
    status = 201 if job.state == "finished" else 202 if job.state in ("queued", "started") else 500
    if job.state == "failed":
        body["error"] = job.error and {k: job.error.get(k) for k in ("type", "message")}
    return JSONResponse(body, status_code=status, headers={"Location": body["links"]["self"]})
