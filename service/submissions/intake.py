"""From received bytes to a checked submission: refuse early what can be refused before
reading (unknown or closed campaign, bad name, declared size over the limit), store the
complete file atomically, record the submission, run its quick check as a job and wait for
the verdict. Nothing half-stored is left behind on any error."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy import select, update

from service.core.entry_fields import check_file_name, check_limits, decode_details, parse_details
from service.core.errors import RequestError, UploadTooLargeError
from service.store.database import Database
from service.store.ids import new_id, new_token
from service.store.jobs import JobBackend, create_job, job_timeout
from service.store.models import Campaign, Job, ReportRow, Submission
from service.store.storage import Incoming, Storage
from service.store.summaries import refresh as refresh_summary
from service.submissions.access import digest
from service.submissions.campaigns import CampaignBook, CampaignRules

CHECK_RETRIES = 1
"""A quick check that raised (a tool crashed) is tried once more."""

POLL_S = (0.02, 0.25)
"""First and longest interval between looks at a job the request waits for."""


@dataclass
class Accepted:
    """A stored submission and the receipt token (shown once, to the submitter)."""

    submission: Submission
    token: str | None
    job_id: str


def closed_error(c: CampaignRules) -> RequestError:
    end = min((t for t in (c.deadline, c.closed_at) if t is not None), default=None)
    when = end.isoformat(timespec="minutes") if end else ""
    return RequestError(
        403,
        "campaign_closed",
        f"本活动已于 {when} 截止，不再接受上传。",
        f"This campaign closed at {when}; it no longer accepts uploads.",
        deadline=when,
    )


class Intake:
    def __init__(self, db: Database, storage: Storage, book: CampaignBook, queue: JobBackend) -> None:
        self.db, self.storage, self.book, self.queue = db, storage, book, queue

    def open_campaign(self, campaign_id: str, declared_length: int | None = None) -> CampaignRules:
        """The campaign, if it takes an upload of ``declared_length`` bytes now (else a problem)."""
        with self.db.session() as s:
            campaign = self.book.get(s, campaign_id)
        if campaign.is_closed():
            raise closed_error(campaign)
        if declared_length is not None and declared_length > campaign.max_upload_bytes:
            raise UploadTooLargeError(campaign.max_upload_bytes)
        return campaign

    def check_details(self, campaign: CampaignRules, raw: str | None, file_name: str | None) -> dict[str, str]:
        """The entry details of an upload (JSON text) checked against the campaign's fields, its
        file-name pattern (when the name is known) and its per-field limits: 422 ``invalid_details``
        / ``file_name_mismatch`` or 409 ``entry_limit`` before any byte is stored. Blocking."""
        details = parse_details(campaign.entry, decode_details(raw))
        if file_name is not None:
            check_file_name(campaign.entry, details, file_name)
        if campaign.entry.limits and details:
            with self.db.session() as s:
                check_limits(campaign.entry, details, _earlier_details(s, campaign.id))
        return details

    def accept(
        self,
        campaign: CampaignRules,
        incoming: Incoming,
        *,
        file_name: str,
        content_type: str | None,
        declared_length: int | None = None,
        details: dict[str, str] | None = None,
    ) -> Accepted:
        """Store a completely received file and record it. Blocking: call from a thread."""
        incoming.close()
        try:
            if incoming.size == 0:
                raise RequestError(400, "empty_body", "文件为空（0 字节）。", "The file is empty (0 bytes).")
            if declared_length is not None and incoming.size != declared_length:
                raise RequestError(
                    400,
                    "length_mismatch",
                    f"收到 {incoming.size} 字节，但声明了 {declared_length} 字节。",
                    f"Received {incoming.size} bytes but {declared_length} were declared.",
                )
            return self.record(
                campaign, incoming.path, incoming.size, incoming.sha256, file_name, content_type, details=details
            )
        finally:
            incoming.discard()

    def record(
        self, campaign: CampaignRules, src: Path, size: int, sha256: str, file_name: str, content_type: str | None,
        receipt_hash: str | None = None, details: dict[str, str] | None = None,
    ) -> Accepted:
        """Record a complete file: the row, then the file moved into place, then the row
        commits; if the commit fails the file is taken back out. Then its check is queued.
        ``receipt_hash``: the digest of a token given out earlier (a tus upload gets its token
        when it is created); otherwise a new token is made and returned. ``details``: the entry
        details, checked by ``check_details``; the per-field limits are checked again here, in
        the transaction that records the entry."""
        sub_id = new_id()
        content_type = (content_type or "")[:100] or None  # declared by the client: kept as said, never trusted
        token = None if receipt_hash else new_token()
        profile = self.book.profile_for(campaign, sniff_kind(src))
        moved: str | None = None
        try:
            with self.db.session() as s:
                if details and campaign.entry.limits:
                    # two uploads at once: a no-op write to the campaign's row takes the lock first (PostgreSQL
                    # locks the row, SQLite the database), so the count below sees every entry committed before
                    s.execute(update(Campaign).where(Campaign.id == campaign.id).values(id=Campaign.id))
                    check_limits(campaign.entry, details, _earlier_details(s, campaign.id))
                earlier = s.scalar(
                    select(Submission)
                    .where(Submission.campaign_id == campaign.id, Submission.sha256 == sha256,
                           Submission.status != "refused")
                    .order_by(Submission.created_at)
                    .limit(1)
                )
                key = earlier.storage_key if earlier is not None else self.storage.original_key(campaign.id, sub_id)
                sub = Submission(
                    id=sub_id, campaign_id=campaign.id, profile_id=profile.id, file_name=file_name,
                    content_type=content_type, size_bytes=size, sha256=sha256, storage_key=key,
                    receipt_hash=receipt_hash or digest(token or ""), status="received",
                    duplicate_of=earlier.id if earlier else None, details=details or None,
                    created_at=datetime.now(UTC),
                )
                s.add(sub)
                s.flush()
                if earlier is None:  # before the summary row: its count's row stays locked until the commit
                    self.storage.commit(src, key)
                    moved = key
                refresh_summary(s, sub_id, thumbnail=False)
                job = create_job(s, kind="check", submission_id=sub_id, timeout_s=job_timeout("check", size_bytes=size),
                                 retries=CHECK_RETRIES, backend=self.queue.backend)
        except BaseException:
            if moved is not None:
                self.storage.delete(moved)
            raise
        self.queue.enqueue(job.id, timeout_s=job.timeout_s, retries=job.retries)
        return Accepted(submission=sub, token=token, job_id=job.id)

    async def wait(self, job_id: str, timeout_s: float) -> Job:
        """Wait for a job to finish or fail (or the time to pass); returns its row."""
        deadline = time.monotonic() + timeout_s
        delay = POLL_S[0]
        while True:
            job = await anyio.to_thread.run_sync(self._job, job_id)
            if job.state in ("finished", "failed") or time.monotonic() >= deadline:
                return job
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, POLL_S[1])

    def _job(self, job_id: str) -> Job:
        with self.db.session() as s:
            job = s.get(Job, job_id)
            assert job is not None
            return job

    def raise_if_refused(self, sub_id: str) -> None:
        """The problem (415/422) of a submission its check refused, if it was."""
        with self.db.session() as s:
            sub = s.get(Submission, sub_id)
            report = latest_report(s, sub_id)
            problem = refusal(report.report) if sub is not None and sub.status == "refused" and report else None
        if problem is not None:
            raise problem


def _earlier_details(session: Any, campaign_id: str) -> list[dict[str, Any]]:
    """The details of a campaign's kept entries (refused files do not count against a limit)."""
    rows = session.scalars(select(Submission.details).where(
        Submission.campaign_id == campaign_id, Submission.status != "refused")).all()
    return [d for d in rows if d]


FILE_FAULTS = frozenset({"empty", "unrecognised", "truncated", "no_streams", "decompression_bomb",
                         "not_regular_file"})
"""Error codes that say something about the file itself: such an upload is refused and its
bytes removed. Every other error (``tool_error``, ``io_error``, ``over_budget``: a tool that
failed, a disk, a limit of ours) keeps the upload, with its error report, to be checked again."""


def refusal(report: dict[str, Any]) -> RequestError | None:
    """Why a checked file is refused rather than kept: it is not media we can read (422), or
    not a kind the campaign takes (415). None for every other report, failing or not, and for
    an error of ours rather than the file's (``FILE_FAULTS``): that upload is kept."""
    checks = {c["rule"]: c for c in report.get("checks", [])}
    kind_check, readable = checks.get("media_kind"), checks.get("readable")
    error_code = (report.get("error") or {}).get("code")
    if report.get("verdict") == "error" and error_code is not None and error_code not in FILE_FAULTS:
        return None
    if report.get("verdict") == "error" or (readable and readable["status"] == "fail"):
        err = report.get("error") or {}
        msg = err.get("message") or (readable or {}).get("message") or {}
        return RequestError(422, "unreadable_media", f"无法读取该文件：{msg.get('zh-CN', '')}",
                            f"The file cannot be read: {msg.get('en', '')}")
    if kind_check is not None and kind_check["status"] == "fail":
        return RequestError(415, "wrong_kind", kind_check["message"]["zh-CN"], kind_check["message"]["en"],
                            expected=kind_check.get("expected"), actual=kind_check.get("actual"))
    return None


def refuse(session: Any, storage: Storage, sub: Submission) -> None:
    """Mark a submission refused and remove its bytes (unless an accepted duplicate shares them);
    the row stays for the record."""
    sub.status = "refused"
    shared = session.scalar(select(Submission.id).where(
        Submission.storage_key == sub.storage_key, Submission.id != sub.id, Submission.status != "refused"))
    if shared is None:
        storage.delete(sub.storage_key)


def latest_report(session: Any, submission_id: str, subject: str | None = None) -> ReportRow | None:
    """The newest report of a submission's original (any subject but ``fixed``: the fixed copy's
    report never stands for the original); with ``subject``, the newest of that subject."""
    which = ReportRow.subject == subject if subject else ReportRow.subject != "fixed"
    return session.scalar(
        select(ReportRow)
        .where(ReportRow.submission_id == submission_id, which)
        .order_by(ReportRow.id.desc())
        .limit(1)
    )


_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")


def sniff_kind(path: Path) -> str | None:
    """A cheap first guess of the kind from the first bytes, to pick the campaign's profile
    (the check then says for sure)."""
    with open(path, "rb") as fh:
        head = fh.read(32)
    if head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"avif"):
        return "image"
    return "video" if head else None
