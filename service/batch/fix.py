"""``mediacheck batch --fix``: the per-file step that runs the auto-fixer on an entry that
fails with fixable rules. The fixed copy and both reports go to ``DIR/fixed/<entry key>/``;
the entry's own report (the original's) is returned unchanged, so the summaries keep
judging what was submitted. The original is never touched (service/fix/transcode.py).
With ``--deep`` the fixed copy's re-check runs the deep analysis too (the campaign's own check),
so a copy that fails a required content rule is a failed fix, never a fixed one."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from service.core.report import Report

FIXED_DIR = "fixed"
"""Folder inside the batch's output folder that holds the fixed copies."""


def batch_step(path: Path, report: Report, context: Any) -> Report:
    if report.verdict != "fail" or not report.fixable or report.media is None:
        return report
    from service.fix.planner import plan_fix
    from service.fix.transcode import fix_file, output_suffix
    from service.store.durable import make_dirs

    profile = context.profile
    key = hashlib.sha256(context.entry.id.encode()).hexdigest()[:16]
    out = Path(context.out_dir) / FIXED_DIR / key
    make_dirs(out, durable=context.fsync)  # like the fixed copy it will hold
    name = Path(context.entry.basename)
    suffix = output_suffix(plan_fix(report.media, report.checks, profile))
    result = fix_file(path, profile, out / f"{name.stem}{suffix}", display_name=name.name, before=report,
                      durable=context.fsync, deep=getattr(context, "deep", False))
    (out / "fix.json").write_text(result.model_dump_json(indent=2), encoding="utf-8")
    (out / "source.json").write_text(json.dumps({"entry": context.entry.name}, ensure_ascii=False),
                                     encoding="utf-8")
    return report
