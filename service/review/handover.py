"""The hand-over to the jury: a campaign's accepted entries (by the reviewers' decision, or
every entry that passes) as one zip, streamed as it is written — no temporary copy of the
media: ``zipfile`` writes into a small pipe whose bytes the response sends on (members are
stored, not compressed: media does not compress; ZIP64 for large ones). Each file is named
from its entry details by a pattern (``{序号}-{作品名称}-{作者}``), made safe for Windows and
GBK; the fixed copy goes in where one exists; ``manifest.xlsx`` (the export's columns plus
the name in the zip) comes first."""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from service.core.entry_fields import SEQUENCE, render_pattern
from service.core.safe_names import safe_name, unique_names
from service.review import board
from service.review.export import ExportEntry, write_xlsx
from service.store.database import Database
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
class Member:
    """One file of the hand-over: where it is, its name in the zip, and its entry."""

    path: Path
    name: str
    fixed: bool
    entry: ExportEntry | None


def default_pattern(campaign: CampaignRules) -> str:
    """``{序号}-`` and the campaign's file-name pattern, else ``{序号}-`` and the submitted name."""
    return f"{{{SEQUENCE}}}-" + (campaign.entry.file_name_pattern or "{文件名}")


def _chosen(e: board.BoardEntry, decision: str) -> bool:
    if decision == "accept":
        d = e.state.decision
        return d is not None and d.decision == "accept"
    return e.verdict in ("pass", "warn") or e.fixed_verdict in ("pass", "warn")


def members(entries: list[board.BoardEntry], storage: Storage, campaign: CampaignRules, *, decision: str,
            pattern: str | None = None) -> list[Member]:
    """The files to hand over, in entry order, with their names."""
    chosen = [e for e in entries if _chosen(e, decision)]
    pat = pattern or default_pattern(campaign)
    width = max(3, len(str(len(chosen))))
    names, picked = [], []
    for i, e in enumerate(chosen, start=1):
        fixed = e.fixed is not None and e.fixed_verdict in ("pass", "warn")
        path = e.fixed if fixed and e.fixed is not None else storage.path(e.sub.storage_key)
        ext = path.suffix.lower() if fixed else ("." + e.sub.file_name.rsplit(".", 1)[1].lower()
                                                 if "." in e.sub.file_name else path.suffix.lower())
        stem = e.sub.file_name.rsplit(".", 1)[0]
        rendered = render_pattern(campaign.entry, pat, e.sub.details or {},
                                  {SEQUENCE: str(i).zfill(width), "文件名": stem, "file_name": stem})
        names.append(safe_name(rendered + ext))
        picked.append((e, path, fixed))
    return [Member(path=p, name=n, fixed=f, entry=e.export_entry())
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


def _manifest(members: list[Member], campaign: CampaignRules, lang: str, tmp_dir: Path) -> bytes:
    rows = [m.entry for m in members if m.entry is not None]
    with tempfile.TemporaryDirectory(dir=tmp_dir) as d:
        path = Path(d) / MANIFEST
        write_xlsx(rows, path, lang=lang, title=campaign.id, fields=campaign.entry.fields,
                   extra=[("交付文件名" if lang != "en" else "File in zip",
                           [m.name for m in members if m.entry is not None]),
                          ("交付版本" if lang != "en" else "Copy",
                           [("fixed" if lang == "en" else "修复版") if m.fixed else
                            ("original" if lang == "en" else "原件") for m in members if m.entry is not None])])
        return path.read_bytes()


def stream_handover(db: Database, storage: Storage, campaign: CampaignRules, *, decision: str = "accept",
                    pattern: str | None = None, lang: str = "zh-CN") -> Iterator[bytes]:
    """The zip's bytes, as they are written (a synchronous iterator: the server runs it in a
    thread). The entries are read when the download starts."""
    with db.session() as s:
        entries = board.campaign_entries(s, storage, campaign.id)
        chosen = members(entries, storage, campaign, decision=decision, pattern=pattern)
    manifest = _manifest(chosen, campaign, lang, storage.root / "tmp")
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.writestr(MANIFEST, manifest)
        yield pipe.take()
        for m in chosen:
            info = zipfile.ZipInfo(m.name, date_time=datetime.now(UTC).timetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED
            with open(m.path, "rb") as src, zf.open(info, "w", force_zip64=True) as dst:
                while block := src.read(CHUNK):
                    dst.write(block)
                    yield pipe.take()
        yield pipe.take()
    yield pipe.take()


def handover_name(campaign_id: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d")
    name = f"{campaign_id}-handover-{stamp}.zip"
    return f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name, safe='')}"
