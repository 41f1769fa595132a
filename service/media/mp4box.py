"""Fast lossless remux of a QuickTime/MP4 file at the box level: an MP4 ``ftyp``, then the
``moov`` index (its chunk offsets shifted), a ``free`` box that keeps the copied data at its
offset within a page, then every other top-level box copied byte for byte in its original
order. No decode, no second pass over the file (ffmpeg's faststart
rewrites the whole file once more); the SHA-256 of the output is computed while writing.

``plan_layout`` is pure (box list + moov bytes in, new header + offset map out);
``start_rewrite`` does the I/O and hands back the digest still being computed, so that the
caller's next step (the fixer's re-check) overlaps its end; ``rewrite`` waits for it.
Anything unusual (no moov, several moovs, 32-bit offsets that would overflow, an index larger
than MAX_MOOV_BYTES, external data references) returns None, and the caller falls back to
ffmpeg."""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from service.core.background import Background
from service.core.facts import parse_mp4_boxes

MAX_MOOV_BYTES = 256 << 20
"""Largest index read into memory; bigger ones go through ffmpeg."""

COPY_CHUNK = 8 << 20
"""Bytes read, hashed and written at a time."""

PAGE = 4096
"""The page size the copied data is kept aligned to (``free_box_to_align``)."""

MP4_FTYP = struct.pack(">I4s", 32, b"ftyp") + b"isom" + struct.pack(">I", 0x200) + b"isomiso2avc1mp41"
"""The file-type box written: major brand isom (an MP4, not QuickTime), minor 0x200."""

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}
_DROPPED = {"ftyp", "moov", "wide", "free", "skip"}


@dataclass(frozen=True)
class BoxLayout:
    header: bytes
    """ftyp + the patched moov."""
    copies: tuple[tuple[int, int], ...]
    """(offset, size) of each source box copied after the header, in order."""


def _children(data: bytes | bytearray, start: int, end: int) -> list[tuple[bytes, int, int, int]]:
    """(type, box start, payload start, box end) of the boxes in data[start:end]."""
    out = []
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        head = 8
        if size == 1:
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            head = 16
        elif size == 0:
            size = end - pos
        if size < head or pos + size > end:
            raise ValueError(f"bad box {kind!r} at {pos}")
        out.append((kind, pos, pos + head, pos + size))
        pos += size
    return out


def _patch_offsets(moov: bytearray, shift: object) -> bool:
    """Rewrite every stco/co64 entry through ``shift`` (old offset → new offset). False when
    a 32-bit table would overflow or a track references external data."""
    assert callable(shift)

    def walk(start: int, end: int) -> bool:
        for kind, _box, payload, box_end in _children(moov, start, end):
            if kind in _CONTAINERS:
                if not walk(payload, box_end):
                    return False
            elif kind == b"dinf":
                if b"alis" in moov[payload:box_end] and b"url " not in moov[payload:box_end]:
                    return False
            elif kind in (b"stco", b"co64"):
                count = struct.unpack_from(">I", moov, payload + 4)[0]
                width, fmt = (4, ">I") if kind == b"stco" else (8, ">Q")
                pos = payload + 8
                if pos + count * width > box_end:
                    raise ValueError("chunk offset table runs past its box")
                for i in range(count):
                    old = struct.unpack_from(fmt, moov, pos + i * width)[0]
                    new = shift(old)
                    if new is None or (width == 4 and new > 0xFFFFFFFF):
                        return False
                    struct.pack_into(fmt, moov, pos + i * width, new)
        return True

    top = _children(moov, 0, len(moov))
    if len(top) != 1 or top[0][0] != b"moov":
        return False
    return walk(top[0][2], top[0][3])


def plan_layout(boxes: list[tuple[str, int, int]], moov: bytes) -> BoxLayout | None:
    """The new file: MP4 ftyp + patched moov + the other boxes (ftyp, wide, free, skip dropped)."""
    moovs = [b for b in boxes if b[0] == "moov"]
    if len(moovs) != 1 or not any(b[0] == "mdat" for b in boxes):
        return None
    kept = [b for b in boxes if b[0] not in _DROPPED]
    pad = free_box_to_align(len(MP4_FTYP) + len(moov), kept[0][1])
    pos = len(MP4_FTYP) + len(moov) + len(pad)
    moved: list[tuple[int, int, int]] = []  # old start, old end, new start
    for _, off, size in kept:
        moved.append((off, off + size, pos))
        pos += size

    def shift(old: int) -> int | None:
        for start, end, new in moved:
            if start <= old < end:
                return new + (old - start)
        return None

    patched = bytearray(moov)
    try:
        if not _patch_offsets(patched, shift):
            return None
    except (ValueError, struct.error):
        return None
    return BoxLayout(header=MP4_FTYP + bytes(patched) + pad, copies=tuple((off, size) for _, off, size in kept))


def free_box_to_align(at: int, old_offset: int) -> bytes:
    """A ``free`` box to write at ``at`` so that what follows it starts at the same offset
    within a page as it did in the source (``old_offset``): the kernel then copies whole
    pages (183 MB: ~60 ms instead of ~82 ms here, the speed of ``cp``). Empty when the two
    already agree; a box is at least 8 bytes, so a gap of 1–7 grows by a page."""
    gap = (old_offset - at) % PAGE
    if 0 < gap < 8:
        gap += PAGE
    return struct.pack(">I4s", gap, b"free") + bytes(gap - 8) if gap else b""


def _hash(src: Path, header: bytes, copies: tuple[tuple[int, int], ...]) -> str:
    """SHA-256 of the output, from the source ranges it is made of (read from the page cache)."""
    h = hashlib.sha256(header)
    buf = bytearray(COPY_CHUNK)
    view = memoryview(buf)
    with src.open("rb", buffering=0) as fh:
        for off, length in copies:
            fh.seek(off)
            left = length
            while left:
                n = fh.readinto(view[:min(left, COPY_CHUNK)])
                if not n:
                    raise OSError(f"{src} ended early")
                h.update(view[:n])
                left -= n
    return h.hexdigest()


def _copy(src_fd: int, out_fd: int, copies: tuple[tuple[int, int], ...], pos: int) -> None:
    """Copy the source ranges in the kernel (copy_file_range), falling back to read/write."""
    for off, length in copies:
        left, o = length, off
        while left:
            try:
                n = os.copy_file_range(src_fd, out_fd, min(left, 1 << 30), o, pos)
            except OSError:
                n = os.pwrite(out_fd, os.pread(src_fd, min(left, COPY_CHUNK), o), pos)
            if n <= 0:
                raise OSError("the source ended early")
            left, o, pos = left - n, o + n, pos + n


def rewrite(src: Path, dest: Path, *, digest: bool = True) -> str | None:
    """Write the remuxed file to ``dest`` and return its SHA-256 ("" without ``digest``), or None
    when this file needs ffmpeg instead (nothing is written then)."""
    pending = start_rewrite(src, dest, digest=digest)
    return None if pending is None else pending.result()


def start_rewrite(src: Path, dest: Path, *, digest: bool = True) -> Background[str] | None:
    """Write the remuxed file to ``dest``; None when this file needs ffmpeg instead (nothing is
    written then). The copy runs in the kernel while a thread hashes the same bytes from the
    source ranges (page cache); the hash is slower than the copy, so it is returned still
    running — a future of the output's SHA-256 ("" without ``digest``) — and the caller overlaps
    its remainder with what it does next with the output."""
    size = src.stat().st_size
    with src.open("rb") as fh:
        def header_at(offset: int) -> bytes:
            fh.seek(offset)
            return fh.read(16)

        boxes = parse_mp4_boxes(header_at, size)
        if not boxes or boxes[-1][1] + boxes[-1][2] != size:
            return None  # trailing garbage or truncation: let ffmpeg judge
        if any(header_at(off)[:4] == b"\x00\x00\x00\x00" for _, off, _ in boxes):
            return None  # an open-ended box ("to the end of the file"): rare, leave it to ffmpeg
        moov = next((b for b in boxes if b[0] == "moov"), None)
        if moov is None or moov[2] > MAX_MOOV_BYTES:
            return None
        fh.seek(moov[1])
        data = fh.read(moov[2])
        if data[:4] == b"\x00\x00\x00\x01":
            return None  # 64-bit moov header: rare, leave it to ffmpeg
        layout = plan_layout(boxes, data)
        if layout is None:
            return None
        hashed = (Background("mp4box-sha256", _hash, src, layout.header, layout.copies) if digest
                  else Background.finished(""))
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, layout.header)
            _copy(fh.fileno(), fd, layout.copies, len(layout.header))
        finally:
            os.close(fd)
        return hashed


def edit_list_kind(moov: bytes) -> str:
    """The edit lists of an MP4/MOV index, as one word: ``none`` (no track has one, or only an
    identity edit), ``offset`` (each track at most shifts its start: an empty edit before one
    segment, or one segment that skips encoder delay, as ffmpeg writes), ``complex`` (a track
    plays several segments: cuts made in an editor that some players and editors ignore)."""
    worst = "none"
    top = _children(moov, 0, len(moov))
    if len(top) != 1 or top[0][0] != b"moov":
        return worst
    for kind, _b, payload, end in _children(moov, top[0][2], top[0][3]):
        if kind != b"trak":
            continue
        for k2, _b2, p2, e2 in _children(moov, payload, end):
            if k2 != b"edts":
                continue
            for k3, _b3, p3, _e3 in _children(moov, p2, e2):
                if k3 == b"elst":
                    worst = max(worst, _elst_word(moov, p3), key=("none", "offset", "complex").index)
    return worst


def _elst_word(data: bytes, payload: int) -> str:
    version = data[payload]
    count = struct.unpack_from(">I", data, payload + 4)[0]
    fmt, width = (">QqI", 20) if version == 1 else (">IiI", 12)
    times = [struct.unpack_from(fmt, data, payload + 8 + i * width)[1] for i in range(min(count, 1000))]
    segments = [t for t in times if t != -1]
    if len(segments) > 1:
        return "complex"
    if len(times) > len(segments) or (segments and segments[0] > 0):
        return "offset"
    return "none"

MAX_TIMING_SAMPLES = 500_000
"""Most sample times expanded from a ``stts`` table (5.5 hours at 25 fps); past it, ffprobe's windows."""


@dataclass(frozen=True)
class SampleTimes:
    """The first video track's sample (decode) times from its ``stts`` table, in ``timescale``
    units per second: every frame of the file, read from the index without a process."""

    timescale: int
    times: tuple[int, ...]


def video_sample_times(moov: bytes) -> SampleTimes | None:
    """The sample times of the first video track (``hdlr`` ``vide``) of a ``moov`` box's bytes,
    or None (no such track, no samples in the index as in a fragmented MP4, a damaged box)."""
    try:
        for kind, _, start, end in _children(moov, 8, len(moov)):
            if kind != b"trak":
                continue
            mdia = next((c for c in _children(moov, start, end) if c[0] == b"mdia"), None)
            if mdia is None:
                continue
            inside = {c[0]: c for c in _children(moov, mdia[2], mdia[3])}
            if b"hdlr" not in inside or moov[inside[b"hdlr"][2] + 8:inside[b"hdlr"][2] + 12] != b"vide":
                continue
            return _stts_times(moov, inside)
    except (ValueError, IndexError, struct.error):
        return None
    return None


def _stts_times(moov: bytes, mdia: dict[bytes, tuple[bytes, int, int, int]]) -> SampleTimes | None:
    mdhd = mdia.get(b"mdhd")
    minf = mdia.get(b"minf")
    if mdhd is None or minf is None:
        return None
    version = moov[mdhd[2]]
    timescale = struct.unpack_from(">I", moov, mdhd[2] + (20 if version == 1 else 12))[0]
    stbl = next((c for c in _children(moov, minf[2], minf[3]) if c[0] == b"stbl"), None)
    stts = next((c for c in _children(moov, stbl[2], stbl[3]) if c[0] == b"stts"), None) if stbl else None
    if stts is None or not timescale:
        return None
    (entries,) = struct.unpack_from(">I", moov, stts[2] + 4)
    runs = [struct.unpack_from(">II", moov, stts[2] + 8 + 8 * i)
            for i in range(min(entries, (stts[3] - stts[2] - 8) // 8))]
    if sum(count for count, _ in runs) > MAX_TIMING_SAMPLES:
        return None
    times, t = [], 0
    for count, delta in runs:
        for _ in range(count):
            times.append(t)
            t += delta
    return SampleTimes(timescale, tuple(times)) if len(times) > 1 else None

PROBE_MOOV_BYTES = 64 << 20
"""Largest index (``moov``) the probe reads for edit lists and the video track's sample times
(a bigger one is left unread: edit lists unknown, frame times through ffprobe's windows)."""


def read_moov(path: Path, boxes: list[tuple[str, int, int]]) -> bytes | None:
    """The bytes of the file's one ``moov`` box (found by the top-level box walk), or None (none,
    several, too large, a 64-bit size header, a short read)."""
    moovs = [b for b in boxes if b[0] == "moov"]
    if len(moovs) != 1 or moovs[0][2] > PROBE_MOOV_BYTES:
        return None
    with path.open("rb") as fh:
        fh.seek(moovs[0][1])
        data = fh.read(moovs[0][2])
    if len(data) != moovs[0][2] or data[:4] == b"\x00\x00\x00\x01":
        return None
    return data


def edit_lists_of(moov: bytes) -> str | None:
    """``edit_list_kind`` of an index read by ``read_moov``; None when it is damaged."""
    try:
        return edit_list_kind(moov)
    except (ValueError, struct.error):
        return None


def read_video_sample_times(path: Path, boxes: list[tuple[str, int, int]]) -> SampleTimes | None:
    """``video_sample_times`` of the file's one ``moov``."""
    data = read_moov(path, boxes)
    return video_sample_times(data) if data is not None else None
