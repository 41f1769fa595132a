"""The hand-over to the jury: a campaign's accepted entries (by the reviewers' decision, or
every entry that passes) as one zip, streamed as it is written — no temporary copy of the
media: ``zipfile`` writes into a small pipe whose bytes the response sends on (members are
stored, not compressed: media does not compress; ZIP64 for large ones). Each file is named
from its entry details by a pattern (``{序号}-{作品名称}-{作者}``), made safe for Windows and
GBK; the fixed copy goes in where one exists; ``manifest.xlsx`` (the export's columns plus
the name in the zip, streamed too) comes first. The entries are chosen from their summary
rows (``candidates``: one SQL query, no report read); only the chosen files are read."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service.core.entry_fields import SEQUENCE, render_pattern
from service.core.safe_names import safe_name, unique_names
from service.review import board
from service.review.export import EXPORT_COLUMNS, ExportRow, of_summary, rule_order, xlsx_stream
from service.store.database import Database
from service.store.models import Submission
from service.store.models import SubmissionSummary as S
from service.store.storage import Storage
from service.submissions.campaigns import CampaignRules

HANDOVER_DECISIONS = ("accept", "pass")
"""``accept``: entries a reviewer accepted; ``pass``: every entry whose verdict (after waivers),
or whose fixed copy's, passes or only warns."""

MANIFEST = "manifest.xlsx"
"""The spreadsheet inside the zip."""

CHUNK = 1024 * 1024
"""Bytes read from a media file at a time."""


@dataclass(frozen=True)
class Candidate:
    """An entry that may be handed over, as its summary row tells (no report read)."""

    row: ExportRow
    """Its manifest row (with the entry details)."""
    storage_key: str
    verdict: str
    """After waivers."""
    fixed_verdict: str | None
    fixed: Path | None
    """The fixed copy, when one exists and passes."""

    @property
    def decision(self) -> str | None:
        return self.row.decision.decision if self.row.decision else None


@dataclass(frozen=True)
class Member:
    """One file of the hand-over: where it is, its name in the zip, and its manifest row."""

    path: Path
    name: str
    fixed: bool
    row: ExportRow


def default_pattern(campaign: CampaignRules) -> str:
    """``{序号}-`` and the campaign's file-name pattern, else ``{序号}-`` and the submitted name."""
    return f"{{{SEQUENCE}}}-" + (campaign.entry.file_name_pattern or "{文件名}")


def _passing(verdict: str | None) -> bool:
    return verdict in ("pass", "warn")


def _chosen(c: Candidate, decision: str) -> bool:
    if decision == "accept":
        return c.decision == "accept"
    return _passing(c.verdict) or _passing(c.fixed_verdict)


def candidates(session: Session, storage: Storage, campaign_id: str, decision: str) -> list[Candidate]:
    """The campaign's entries ``decision`` selects (``accept``: accepted by a reviewer; ``pass``:
    passing, or with a passing fixed copy), oldest first, read from their summary rows by SQL."""
    passing = ("pass", "warn")
    chosen = (S.decision == "accept" if decision == "accept"
              else or_(S.verdict.in_(passing), S.fixed_verdict.in_(passing)))
    rows = session.execute(select(*EXPORT_COLUMNS, S.verdict, S.fixed_verdict, Submission.storage_key)
                           .join_from(S, Submission, Submission.id == S.submission_id)
                           .where(S.campaign_id == campaign_id, S.status != "refused",
                                  chosen)
                           .order_by(S.created_at, S.submission_id))
    return [Candidate(row=of_summary(r), storage_key=r.storage_key, verdict=r.verdict, fixed_verdict=r.fixed_verdict,
                      fixed=board.fixed_copy(storage, r.entry_id) if _passing(r.fixed_verdict) else None)
            for r in rows]


def members(entries: list[Candidate], storage: Storage, campaign: CampaignRules, *, decision: str,
            pattern: str | None = None) -> list[Member]:
    """The files to hand over, in entry order, with their names."""
    chosen = [e for e in entries if _chosen(e, decision)]
    pat = pattern or default_pattern(campaign)
    width = max(3, len(str(len(chosen))))
    names, picked = [], []
    for i, e in enumerate(chosen, start=1):
        fixed = e.fixed is not None and _passing(e.fixed_verdict)
        path = e.fixed if fixed and e.fixed is not None else storage.path(e.storage_key)
        file_name = e.row.file_name
        ext = path.suffix.lower() if fixed else ("." + file_name.rsplit(".", 1)[1].lower()
                                                 if "." in file_name else path.suffix.lower())
        stem = file_name.rsplit(".", 1)[0]
        rendered = render_pattern(campaign.entry, pat, dict(e.row.details or {}),
                                  {SEQUENCE: str(i).zfill(width), "文件名": stem, "file_name": stem})
        names.append(safe_name(rendered + ext))
        picked.append((e, path, fixed))
    return [Member(path=p, name=n, fixed=f, row=e.row)
            for (e, p, f), n in zip(picked, unique_names(names), strict=True)]


class _Pipe:
    """A write-only stream that keeps what zipfile writes until the response takes it."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.pos = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self.pos

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        out, self.parts = b"".join(self.parts), []
        return out


def _manifest(members: list[Member], campaign: CampaignRules, lang: str) -> Iterator[bytes]:
    """The manifest's bytes as they are made: the export's columns (entry details included), then
    the name in the zip and which copy it is."""
    en = lang == "en"
    rows = [replace(m.row, extra=(m.name, ("fixed" if en else "修复版") if m.fixed else ("original" if en else "原件")))
            for m in members]
    rules = rule_order(c["rule"] for r in rows for c in r.checks)
    return xlsx_stream(rows, rules, lang=lang, title=campaign.id, fields=campaign.entry.fields,
                       extra=["File in zip" if en else "交付文件名", "Copy" if en else "交付版本"])


def _member_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=datetime.now(UTC).timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED
    return info


def stream_handover(db: Database, storage: Storage, campaign: CampaignRules, *, decision: str = "accept",
                    pattern: str | None = None, lang: str = "zh-CN") -> Iterator[bytes]:
    """The zip's bytes, as they are written (a synchronous iterator: the server runs it in a
    thread). The entries are read from their summary rows when the download starts."""
    with db.session() as s:
        chosen = members(candidates(s, storage, campaign.id, decision), storage, campaign, decision=decision,
                         pattern=pattern)
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        with zf.open(_member_info(MANIFEST), "w", force_zip64=True) as dst:
            for part in _manifest(chosen, campaign, lang):
                dst.write(part)
                yield pipe.take()
        for m in chosen:
            with open(m.path, "rb") as src, zf.open(_member_info(m.name), "w", force_zip64=True) as dst:
                while block := src.read(CHUNK):
                    dst.write(block)
                    yield pipe.take()
        yield pipe.take()
    yield pipe.take()


def handover_name(campaign_id: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    name = f"{campaign_id}-handover-{stamp}.zip"
    return f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name, safe='')}"
