"""Check one file end to end: probe it (and hash it at the same time), judge the facts
against a profile, build the report. The CLI, the API and the workers all call
``check_file``; a file that cannot be read gives a report with verdict ``error``."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from service.core.analysis import Analysis
from service.core.checks import Check
from service.core.content import judge_content
from service.core.errors import ToolError, ToolTimeoutError, UnreadableMediaError
from service.core.facts import MediaFacts
from service.core.judge import judge
from service.core.profiles import Profile
from service.core.report import FileInfo, Report, ReportError, build_report
from service.media.probe import Probe, not_regular_error, probe
from service.media.process import Started
from service.store.digest import HASH_CHUNK, PendingDigest, sha256_file  # noqa: F401 - HASH_CHUNK kept importable from here


def check_file(path: str | os.PathLike[str], profile: Profile, *, display_name: str | None = None,
               sha256: str | PendingDigest | None = None, ffprobe: Started | None = None,
               deep: bool = False) -> Report:
    """Check ``path`` against ``profile``. ``display_name`` is the name the submitter gave
    (used by the file-name rule); ``sha256`` skips hashing when the caller already has it, or
    is computing it (a pending digest, awaited after the probe so that the two overlap);
    ``ffprobe`` is ``probe.start_ffprobe(path)`` when the caller began it earlier.
    ``deep`` adds the content analysis (one decode of the whole file, service/media/detector.py)
    and the profile's content checks."""
    p = Path(path)
    name = display_name or p.name
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    err: ReportError | None = None
    try:
        st = p.stat()
    except OSError as e:
        err = ReportError(code="io_error", message={"zh-CN": f"无法读取文件：{e.strerror}",
                                                    "en": f"Cannot read the file: {e.strerror}"})
        return _error_report(name, 0, None, profile, err, timings, t0)
    size = st.st_size
    if (refused := not_regular_error(st.st_mode)) is not None:  # a FIFO would hang the hash and the probe
        err = ReportError(code=refused.code, message=refused.message)
        return _error_report(name, 0, None, profile, err, timings, t0)

    def timed_hash() -> str:
        t = time.perf_counter()
        digest = sha256_file(p)
        timings["hash"] = (time.perf_counter() - t) * 1000
        return digest

    with ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(timed_hash) if sha256 is None else None
        t = time.perf_counter()
        result: Probe | None = None
        try:
            result = probe(p, ffprobe=ffprobe)
        except UnreadableMediaError as e:
            err = ReportError(code=e.code, message=e.message)
        except ToolError as e:
            err = ReportError(code="tool_error", message={"zh-CN": f"检查工具出错：{e}", "en": f"Tool error: {e}"})
        timings["probe"] = (time.perf_counter() - t) * 1000
        try:
            digest = future.result() if future else _awaited(sha256)
        except OSError:
            digest = None
    if result is None:
        return _error_report(name, size, digest, profile, err, timings, t0)  # type: ignore[arg-type]
    t = time.perf_counter()
    checks: list[Check] = judge(result.facts, profile, name)
    timings["check"] = (time.perf_counter() - t) * 1000
    analysis = None
    if deep and result.facts.kind in ("video", "audio"):
        t = time.perf_counter()
        analysis, content_checks = deep_checks(p, result.facts, profile)
        checks += content_checks
        timings["analysis"] = (time.perf_counter() - t) * 1000
    timings["total"] = (time.perf_counter() - t0) * 1000
    return build_report(file=FileInfo(name=name, size_bytes=size, sha256=digest), profile=profile,
                        media=result.facts, checks=checks, tools=result.tools, timings_ms=timings,
                        analysis=analysis)


def _awaited(sha256: str | PendingDigest | None) -> str | None:
    """The digest the caller gave, waiting for it when it was still being computed."""
    return sha256 if sha256 is None or isinstance(sha256, str) else sha256.result()


def deep_checks(path: Path, facts: MediaFacts, profile: Profile) -> tuple[Analysis | None, list[Check]]:
    """The content analysis of ``path`` and its checks against the profile's ``content:``
    section. When ffmpeg fails the entry is not failed: one skipped check says why."""
    from service.media.detector import analyze

    spec = profile.kinds.get(facts.kind)  # type: ignore[call-overload, arg-type]
    rules = spec.content if spec is not None else None
    try:
        analysis = analyze(path, facts, rules)
    except ToolError as e:
        why_zh = "超时" if isinstance(e, ToolTimeoutError) else f"ffmpeg 出错，退出码 {e.returncode}"
        why_en = ("it ran out of time" if isinstance(e, ToolTimeoutError)
                  else f"ffmpeg exited with {e.returncode}")
        return None, [Check(rule="content_analysis", status="skip", severity="recommended",
                            expected="content analysed", actual=type(e).__name__,
                            message={"zh-CN": f"内容分析未完成（{why_zh}），请人工查看画面和声音。",
                                     "en": f"The content analysis did not finish ({why_en}); look at the "
                                           "picture and sound yourself."})]
    return analysis, judge_content(analysis, rules, scan_type=facts.scan_type) if rules else []


def _error_report(name: str, size: int, digest: str | None, profile: Profile, err: ReportError,
                  timings: dict[str, float], t0: float) -> Report:
    timings["total"] = (time.perf_counter() - t0) * 1000
    check = Check(rule="readable", status="fail", severity="required", expected="readable media",
                  actual=err.code, message=err.message)
    return build_report(file=FileInfo(name=name, size_bytes=size, sha256=digest), profile=profile, media=None,
                        checks=[check], tools={}, timings_ms=timings, error=err)
