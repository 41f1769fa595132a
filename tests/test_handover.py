"""The hand-over's members and stream, without a server: which entries go (by decision, or all
passing), the fixed copy where one passes, names from the details (safe, unique), and a zip
written as it is sent — no chunk much larger than a read, readable at the end."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from service.core.entry_fields import EntryRules
from service.review.export import ExportDecision, ExportRow
from service.review.handover import CHUNK, Candidate, members
from service.store.storage import Storage
from service.submissions.campaigns import CampaignRules

RULES = EntryRules.model_validate({"fields": [{"key": "title", "label": {"zh-CN": "作品名称"}},
                                              {"key": "author", "label": {"zh-CN": "作者"}}],
                                   "file_name_pattern": "{作品名称}-{作者}"})
CAMPAIGN = CampaignRules(id="c1", title={"zh-CN": "活动", "en": "C"}, profiles=("p",), max_upload_bytes=1,
                         entry=RULES)


def entry(storage: Storage, sub_id: str, details: dict, decision: str | None, *, fixed: Path | None = None,
          fixed_verdict: str | None = None) -> Candidate:
    key = f"originals/c1/{sub_id}"
    path = storage.path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(sub_id.encode() * 1000)
    d = ExportDecision(decision=decision, by="r", at=datetime(2026, 1, 2, tzinfo=UTC)) if decision else None  # type: ignore[arg-type]
    row = ExportRow(entry_id=sub_id, file_name=f"{sub_id}.MOV", size_bytes=1, size_unit="binary", duration_s=None,
                    width=None, height=None, report_verdict="fail", checks=[], decision=d, details=details)
    return Candidate(row=row, storage_key=key, verdict="fail", fixed_verdict=fixed_verdict, fixed=fixed)


def test_members_by_decision_with_fixed_copies_and_safe_unique_names(tmp_path):
    storage = Storage(tmp_path / "s")
    fixed = tmp_path / "fixed-1.mp4"
    fixed.write_bytes(b"fixed")
    broken_fix = tmp_path / "fixed-2.mp4"
    broken_fix.write_bytes(b"bad")
    entries = [
        entry(storage, "a", {"title": "星空", "author": "张三"}, "accept", fixed=fixed, fixed_verdict="pass"),
        entry(storage, "b", {"title": "月亮", "author": "李四"}, "reject"),
        entry(storage, "c", {"title": "星空", "author": "张三"}, "accept"),
        entry(storage, "d", {"title": 'a/b:c*?"<>|', "author": "CON"}, "accept", fixed=broken_fix,
              fixed_verdict="fail"),
    ]
    got = members(entries, storage, CAMPAIGN, decision="accept")
    assert [(m.name, m.fixed) for m in got] == [("001-星空-张三.mp4", True), ("002-星空-张三.mov", False),
                                                ("003-a_b_c______-CON.mov", False)]
    assert got[0].path == fixed and got[2].path == storage.path("originals/c1/d")  # a failing fix is not handed over
    names = [m.name for m in members(entries, storage, CAMPAIGN, decision="accept", pattern="{作者}")]
    assert names == ["张三.mp4", "张三.mov", "_CON.mov"]


def test_the_zip_is_streamed_in_small_pieces(tmp_path, monkeypatch):
    from service.review import handover

    storage = Storage(tmp_path / "s")
    big = entry(storage, "big", {"title": "大", "author": "王"}, "accept")
    storage.path(big.storage_key).write_bytes(b"\0" * (3 * CHUNK + 5))
    monkeypatch.setattr(handover, "candidates", lambda s, st, cid, decision: [big])
    monkeypatch.setattr(handover, "_manifest", lambda *a: iter([b"xlsx"]))

    class NoDb:
        def session(self):
            import contextlib
            return contextlib.nullcontext(None)

    pieces = list(handover.stream_handover(NoDb(), storage, CAMPAIGN))  # type: ignore[arg-type]
    assert max(len(p) for p in pieces) <= CHUNK + 1024  # never the whole file at once
    zf = zipfile.ZipFile(io.BytesIO(b"".join(pieces)))
    assert zf.namelist() == ["manifest.xlsx", "001-大-王.mov"]
    assert zf.read("001-大-王.mov") == b"\0" * (3 * CHUNK + 5)
    assert zf.testzip() is None
