"""Gather the facts of a file (the edge that reads media): one ffprobe process (format,
streams, program version), a second for the video packets' timestamps in three windows
(start, middle, end) for the frame-rate mode,
MediaInfo in-process for cross-checks, the MP4 box walk for faststart and truncation,
the H.264 sequence parameter set when the two tools disagree on the scan type (one short
ffmpeg run), and Pillow (+ pillow-heif) for images. Unreadable input raises UnreadableMediaError
with a bilingual message; nothing here returns a half-filled result."""

from __future__ import annotations

import json
import logging
import os
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from service.core.background import Background
from service.core.errors import ToolError, UnreadableMediaError
from service.media import process

if TYPE_CHECKING:  # imported where used, so that start_ffprobe needs no pydantic
    from service.core.facts import MediaFacts
    from service.core.h264 import Sps

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 60.0
"""Longest time one ffprobe run may take before it is killed, and the longest wait for MediaInfo after it."""

VFR_WINDOW_PACKETS = 300
"""Most video packets read per window to decide constant vs variable frame rate (three windows:
the start, the middle and the end of the file; 10 s each at 30 fps)."""

VFR_WINDOW_SHARE = 6
"""A window covers at most 1/6 of the file, so that the three never cover all of it."""

VFR_MIN_WINDOW_PACKETS = 24
"""Fewest packets a window reads (fewer intervals say nothing about the rate)."""

PROBE_MEMORY_LIMIT = (1 << 30) + (os.cpu_count() or 1) * (128 << 20)
"""Address space one ffprobe run may use (RLIMIT_AS): 1 GiB (loading it takes ~300 MB, a probe of
ordinary media far less than the rest) plus 128 MiB per core, for the decoder threads ffprobe starts per
core (each reserves a stack and a malloc arena). A file that makes ffprobe grow past it is refused as too
costly to check (``over_budget``) rather than taking the machine's memory."""


MIN_PROBE_SCORE = 25
"""ffprobe's format guesses below this score (extension-only guesses) are not trusted."""

_UNTRUSTED_FORMATS = {"tty"}  # ffprobe "recognises" any text file as ANSI art by its extension

_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}


@dataclass
class Probe:
    """Facts plus what produced them (tool versions) and how long it took."""

    facts: MediaFacts
    tools: dict[str, str] = field(default_factory=dict)


def _mediainfo_version() -> str | None:
    try:
        from pymediainfo import MediaInfo

        return str(MediaInfo._get_library()[2])
    except Exception:  # noqa: BLE001 - a version string is never worth failing a check
        return None


_NOT_REGULAR = ((stat.S_ISFIFO, "命名管道（FIFO）", "a named pipe (FIFO)"), (stat.S_ISSOCK, "套接字", "a socket"),
                (stat.S_ISCHR, "字符设备", "a character device"), (stat.S_ISBLK, "块设备", "a block device"),
                (stat.S_ISDIR, "文件夹", "a folder"))


def not_regular_error(mode: int) -> UnreadableMediaError | None:
    """Why a file of ``mode`` (``os.stat(path).st_mode``, which follows links and never blocks)
    is refused before it is opened, or None for a regular file. Opening a FIFO waits for a
    writer forever, a device may never end: only regular files are read."""
    if stat.S_ISREG(mode):
        return None
    zh, en = next(((z, e) for test, z, e in _NOT_REGULAR if test(mode)), ("特殊文件", "a special file"))
    return UnreadableMediaError(f"不是普通文件，而是{zh}：只检查普通文件。",
                                f"Not a regular file but {en}: only regular files are checked.",
                                code="not_regular_file")


def looks_like_image(head: bytes) -> bool:
    """Image signatures by content (a PNG named .jpg is still a PNG)."""
    if head.startswith(_IMAGE_MAGIC):
        return True
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return True
    return head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS


def probe(path: str | os.PathLike[str], *, timeout: float = PROBE_TIMEOUT_S,
          ffprobe: process.Started | None = None) -> Probe:
    """Probe ``path``. Raises UnreadableMediaError for input that is not readable media and
    ToolError when a tool is missing or misbehaves. ``ffprobe`` is the run of
    ``start_ffprobe(path)`` when the caller began it earlier."""
    p = Path(path)
    try:
        st = p.stat()
        if (refused := not_regular_error(st.st_mode)) is not None:
            raise refused
        size = st.st_size
        with p.open("rb") as fh:
            head = fh.read(32)
    except OSError as e:
        raise UnreadableMediaError(f"无法读取文件：{e.strerror}", f"cannot read the file: {e.strerror}",
                                   code="io_error") from None
    if size == 0:
        raise UnreadableMediaError("文件为空（0 字节）。", "The file is empty (0 bytes).", code="empty")
    if looks_like_image(head):
        from service.media.images import probe_image  # Pillow only when the file is an image

        return Probe(probe_image(p, size), {"pillow": _pillow_version()})
    return _probe_av(p, size, timeout, ffprobe)


def ffprobe_command(p: Path) -> list[str]:
    """The first ffprobe run of a probe: format, streams and version (no packets: those are
    read by ``packets_command``, for the video stream only, once the duration is known)."""
    return ["ffprobe", "-v", "error", "-hide_banner", "-of", "json", "-show_format", "-show_streams",
            "-show_program_version", "-i", str(p)]


def packet_windows(duration: float | None, fps: float | None) -> str:
    """ffprobe's ``-read_intervals`` for the frame-rate mode: three windows of at most
    VFR_WINDOW_PACKETS packets (and 1/VFR_WINDOW_SHARE of the file) at the start, the middle
    and the end, or the whole file when it has no more packets than that."""
    if not duration or not fps or duration <= 0 or fps <= 0:
        return f"%+#{3 * VFR_WINDOW_PACKETS}"
    total = duration * fps
    n = int(min(VFR_WINDOW_PACKETS, max(VFR_MIN_WINDOW_PACKETS, total / VFR_WINDOW_SHARE)))
    if total <= 3 * n:
        return f"%+#{3 * n}"
    span = n / fps
    middle, end = max(0.0, duration / 2 - span / 2), max(0.0, duration - span)
    return f"%+#{n},{middle:.3f}%+#{n},{end:.3f}%+#{n}"


def packets_command(p: Path, stream_index: int, intervals: str) -> list[str]:
    """The timestamps of one stream's packets in the windows ``intervals``, one per line: only
    that stream and only ``pts`` (a file of a million one-byte audio packets prints nothing more)."""
    return ["ffprobe", "-v", "error", "-hide_banner", "-select_streams", str(stream_index),
            "-show_entries", "packet=pts", "-of", "csv=p=0", "-read_intervals", intervals, "-i", str(p)]


def frame_times(p: Path, data: dict[str, Any], moov: bytes | None, timeout: float) -> list[dict[str, Any]]:
    """The video stream's frame times for the frame-rate mode, as ``{"stream_index", "pts"}``:
    every frame's from an MP4/MOV index (``moov``, read once by the probe: its ``stts`` table; no
    process), else ffprobe's packets in three windows (``read_packets``)."""
    from service.core.facts import main_video_stream
    from service.media.mp4box import video_sample_times

    v = main_video_stream(data)
    if moov is not None and v is not None and isinstance(v.get("index"), int):
        times = video_sample_times(moov)
        tb = str(v.get("time_base") or "")
        if times is not None and tb == f"1/{times.timescale}":
            return [{"stream_index": v["index"], "pts": t} for t in times.times]
    return read_packets(p, data, timeout)


def read_packets(p: Path, data: dict[str, Any], timeout: float) -> list[dict[str, Any]]:
    """The video stream's packet timestamps over the file, as ``{"stream_index", "pts"}`` (what
    core.facts reads); none when there is no video stream or ffprobe fails."""
    from service.core.facts import main_video_stream, stream_fps

    v = main_video_stream(data)
    if v is None or not isinstance(v.get("index"), int):
        return []
    fmt = data.get("format") or {}
    try:
        duration = float(fmt.get("duration") or v.get("duration") or 0)
    except ValueError:
        duration = 0.0
    res = process.run(packets_command(p, v["index"], packet_windows(duration, stream_fps(v))),
                      timeout=timeout, check=False, memory_limit=PROBE_MEMORY_LIMIT)
    return [{"stream_index": v["index"], "pts": int(line)} for line in res.stdout.decode("ascii", "replace").split()
            if line.lstrip("-").isdigit()]


def start_ffprobe(path: str | os.PathLike[str], *, timeout: float = PROBE_TIMEOUT_S) -> process.Started | None:
    """Begin the ffprobe run of ``probe(path)`` now, in the background (the CLI overlaps it
    with its imports); None for what ffprobe would not be asked about (images, empty or
    unreadable files: ``probe`` reports those itself)."""
    p = Path(path)
    try:
        if not_regular_error(p.stat().st_mode) is not None:
            return None
        with p.open("rb") as fh:
            head = fh.read(32)
    except OSError:
        return None
    if not head or looks_like_image(head):
        return None
    return process.start(ffprobe_command(p), timeout=timeout, check=False, memory_limit=PROBE_MEMORY_LIMIT)


def _pillow_version() -> str:
    import PIL

    return str(PIL.__version__)


def _probe_av(p: Path, size: int, timeout: float, started: process.Started | None) -> Probe:
    from service.core.facts import parse_av_facts, parse_mp4_boxes, scan_needs_sps
    from service.media.mp4box import edit_lists_of, read_moov

    if started is None:
        started = process.start(ffprobe_command(p), timeout=timeout, check=False, memory_limit=PROBE_MEMORY_LIMIT)
    # MediaInfo parses in this process (ctypes lets go of the GIL) while ffprobe runs, instead of
    # after it: the re-check of a remuxed 183 MB file, 265 → 236 ms (median of 16, interleaved).
    mediainfo = Background("mediainfo", _mediainfo_tracks, p)
    res = started.result()
    if process.out_of_memory(res, PROBE_MEMORY_LIMIT):
        raise process.over_budget_error("ffprobe", "ffprobe", PROBE_MEMORY_LIMIT)
    data: dict[str, Any] = {}
    if res.stdout.strip():
        try:
            data = json.loads(res.stdout.decode("utf-8", errors="replace"))
        except json.JSONDecodeError:
            data = {}
    fmt = data.get("format") or {}
    if res.returncode != 0 or not fmt or fmt.get("format_name") in _UNTRUSTED_FORMATS \
            or int(fmt.get("probe_score") or 0) < MIN_PROBE_SCORE:
        last = res.stderr.strip().splitlines()[-1] if res.stderr.strip() else "unknown format"
        reason = last.replace(str(p), p.name)  # never show storage paths to a submitter
        if "moov atom not found" in res.stderr and _looks_like_iso_bmff(p):
            raise UnreadableMediaError(
                "MP4/MOV 文件不完整：缺少 moov 索引（可能是上传或拷贝中断、录制未正常结束）。",
                "Incomplete MP4/MOV file: the moov index is missing (an interrupted upload or copy, "
                "or a recording that was not finished).", code="truncated")
        raise UnreadableMediaError(
            f"无法识别为视频、音频或图片文件（{reason}）。",
            f"Not recognised as a video, audio or image file ({reason}).", code="unrecognised")
    if not any(s.get("codec_type") in ("video", "audio") for s in data.get("streams") or ()):
        raise UnreadableMediaError("文件中没有音视频流。", "The file contains no audio or video stream.",
                                   code="no_streams")
    boxes = None
    if str(fmt.get("format_name", "")).startswith("mov,mp4"):
        with p.open("rb") as fh:
            def header_at(offset: int) -> bytes:
                fh.seek(offset)
                return fh.read(16)
            boxes = parse_mp4_boxes(header_at, size)
    moov = read_moov(p, boxes) if boxes else None  # the index, read once: frame times and edit lists
    data["packets"] = frame_times(p, data, moov, timeout)  # while MediaInfo goes on
    # MediaInfo runs in this process and cannot be killed like ffprobe: past the probe's timeout
    # the check goes on with ffprobe's view alone (and says so) rather than hang its worker
    tracks: list[dict[str, Any]] | None
    try:
        tracks = mediainfo.result(timeout)
    except TimeoutError:
        tracks = None
    sps_stream = scan_needs_sps(data, tracks or [])
    sps = read_h264_sps(p, sps_stream, timeout=timeout) if sps_stream is not None else None
    edits = edit_lists_of(moov) if moov is not None else None
    facts = parse_av_facts(data, tracks or [], size_bytes=size, boxes=boxes, edit_list=edits,  # type: ignore[arg-type]
                           sps=sps)
    tools = {"ffprobe": str((data.get("program_version") or {}).get("version", "unknown"))}
    mi = _mediainfo_version()
    if tracks is None:
        log.warning("MediaInfo gave no answer on %s within %.0f s; checked with ffprobe alone", p.name, timeout)
        tools["mediainfo"] = f"{mi or 'MediaInfo'} (no answer within {timeout:.0f} s; not used)"
    elif mi:
        tools["mediainfo"] = mi
    return Probe(facts, tools)


def h264_sps_command(p: Path, stream_index: int) -> list[str]:
    """The first packet of an H.264 stream as Annex B: the SPS comes first (from the avcC box
    of an MP4/MOV or a Matroska file's codec private data, or in-band in a transport stream)."""
    return ["ffmpeg", "-v", "error", "-nostdin", "-i", str(p), "-map", f"0:{stream_index}", "-c:v", "copy",
            "-bsf:v", "h264_mp4toannexb", "-frames:v", "1", "-f", "h264", "pipe:1"]


def read_h264_sps(p: Path, stream_index: int, *, timeout: float = PROBE_TIMEOUT_S) -> Sps | None:
    """The stream's sequence parameter set, or None when it cannot be read (then the scan
    type stays ffprobe's, with the disagreement noted). Run only when ffprobe and MediaInfo
    disagree on the scan type (``scan_needs_sps``)."""
    from service.core.h264 import find_sps

    try:
        res = process.run(h264_sps_command(p, stream_index), timeout=timeout, check=False,
                          memory_limit=PROBE_MEMORY_LIMIT)
    except ToolError as e:
        log.warning("could not read the H.264 SPS of %s: %s", p.name, e)
        return None
    return find_sps(res.stdout)


def _looks_like_iso_bmff(p: Path) -> bool:
    """An MP4/MOV starts with a box such as ftyp, moov, mdat, free, skip or wide."""
    with p.open("rb") as fh:
        head = fh.read(8)
    return head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot")


def _mediainfo_tracks(p: Path) -> list[dict[str, Any]]:
    """MediaInfo's view for cross-checks; missing MediaInfo degrades to ffprobe alone."""
    try:
        from pymediainfo import MediaInfo

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [t.to_data() for t in MediaInfo.parse(p).tracks]
    except (OSError, RuntimeError, ToolError):
        return []
