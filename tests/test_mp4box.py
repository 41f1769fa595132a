"""The box-level remux: offsets patched (pure), decoded streams identical (real files), and
anything unusual left to ffmpeg."""

from __future__ import annotations

import hashlib
import struct
import subprocess
import threading
from pathlib import Path

import pytest

from service.core.facts import parse_mp4_boxes
from service.media import mp4box
from service.media.probe import probe
from tests.support import fixcases as fc


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def moov_with(offsets: list[int], table: bytes = b"stco") -> bytes:
    fmt = ">I" if table == b"stco" else ">Q"
    entries = b"".join(struct.pack(fmt, o) for o in offsets)
    stco = box(table, b"\0\0\0\0" + struct.pack(">I", len(offsets)) + entries)
    return box(b"moov", box(b"trak", box(b"mdia", box(b"minf", box(b"stbl", stco)))))


def offsets_in(moov: bytes, table: bytes = b"stco") -> list[int]:
    at = moov.index(table) + 4
    count = struct.unpack_from(">I", moov, at + 4)[0]
    width, fmt = (4, ">I") if table == b"stco" else (8, ">Q")
    return [struct.unpack_from(fmt, moov, at + 8 + i * width)[0] for i in range(count)]


def test_chunk_offsets_follow_the_mdat_to_its_new_place() -> None:
    moov = moov_with([28, 1000, 5000])
    # old: ftyp(20) wide(8) mdat(10000) moov
    boxes = [("ftyp", 0, 20), ("wide", 20, 8), ("mdat", 28, 10000), ("moov", 10028, len(moov))]
    layout = mp4box.plan_layout(boxes, moov)
    assert layout is not None
    base = len(mp4box.MP4_FTYP) + len(moov)
    new_mdat = len(layout.header)  # the mdat is copied right after the header
    assert base + 8 <= new_mdat < base + 8 + 4096 and new_mdat % 4096 == 28  # same place within a page
    assert layout.header[base:base + 8] == struct.pack(">I4s", new_mdat - base, b"free")
    assert offsets_in(layout.header[len(mp4box.MP4_FTYP):]) == [new_mdat, new_mdat + 972, new_mdat + 4972]
    assert layout.copies == ((28, 10000),)  # ftyp, wide and the old moov are not copied
    assert layout.header.startswith(struct.pack(">I4s4s", 32, b"ftyp", b"isom"))


def test_the_padding_keeps_the_copied_data_at_its_place_within_a_page() -> None:
    assert mp4box.free_box_to_align(4096 + 28, 28) == b""  # already in place: nothing added
    assert mp4box.free_box_to_align(100, 200) == struct.pack(">I4s", 100, b"free") + bytes(92)
    for gap in range(1, 8):  # too small for a box header: one page more
        pad = mp4box.free_box_to_align(1000, 1000 + gap)
        assert len(pad) == 4096 + gap and pad[:8] == struct.pack(">I4s", 4096 + gap, b"free")
    for at, old in [(0, 0), (123, 45), (5000, 1), (77, 4096 * 9 + 13)]:
        assert (at + len(mp4box.free_box_to_align(at, old)) - old) % 4096 == 0


def test_64_bit_tables_are_patched_and_32_bit_overflow_is_refused() -> None:
    moov = moov_with([16, 2**32 + 100], b"co64")
    boxes = [("ftyp", 0, 16), ("mdat", 16, 2**32 + 200), ("moov", 2**32 + 216, len(moov))]
    layout = mp4box.plan_layout(boxes, moov)
    assert layout is not None
    shift = len(layout.header) - 16
    assert shift % 4096 == 0
    assert offsets_in(layout.header[len(mp4box.MP4_FTYP):], b"co64") == [16 + shift, 2**32 + 100 + shift]
    small = moov_with([16, 2**32 - 10])
    assert mp4box.plan_layout([("mdat", 16, 2**32), ("moov", 2**32 + 16, len(small))], small) is None


def test_an_offset_outside_every_box_is_refused() -> None:
    moov = moov_with([999_999])
    assert mp4box.plan_layout([("mdat", 0, 100), ("moov", 100, len(moov))], moov) is None


def _framemd5(path: Path) -> list[str]:
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-map", "0", "-f", "framemd5", "-"],
                         capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if not line.startswith("#")]


def _header_reader(path: Path):  # type: ignore[no-untyped-def]
    data = path.read_bytes()
    return lambda offset: data[offset:offset + 16]


def test_a_quicktime_file_becomes_an_mp4_with_its_index_first_and_identical_streams(tmp_path: Path) -> None:
    src = fc.mov()
    before = probe(src).facts
    assert before.container == "mov" and before.faststart is False
    dest = tmp_path / "out.mp4"
    digest = mp4box.rewrite(src, dest)
    assert digest == hashlib.sha256(dest.read_bytes()).hexdigest()
    after = probe(dest).facts
    assert after.container == "mp4" and after.faststart is True
    old_boxes = parse_mp4_boxes(_header_reader(src), src.stat().st_size)
    new_boxes = parse_mp4_boxes(_header_reader(dest), dest.stat().st_size)
    assert [b[0] for b in new_boxes][:2] == ["ftyp", "moov"]
    old_mdat = next(b for b in old_boxes if b[0] == "mdat")
    new_mdat = next(b for b in new_boxes if b[0] == "mdat")
    assert new_mdat[2] == old_mdat[2] and (new_mdat[1] - old_mdat[1]) % 4096 == 0
    assert (after.duration_s, after.video_codec, after.audio_codec) == (before.duration_s, "h264", "aac")
    assert _framemd5(dest) == _framemd5(src)  # every decoded video and audio frame, with its timestamps


def test_the_digest_comes_back_still_running_and_is_the_outputs(tmp_path: Path, monkeypatch) -> None:
    gate = threading.Event()
    real = mp4box._hash

    def held(*args):  # type: ignore[no-untyped-def]
        gate.wait(10)
        return real(*args)

    monkeypatch.setattr(mp4box, "_hash", held)
    dest = tmp_path / "out.mp4"
    pending = mp4box.start_rewrite(fc.mov(), dest)
    assert pending is not None and not pending.done()  # the copy is finished, its hash is not
    assert probe(dest).facts.faststart is True
    gate.set()
    assert pending.result(timeout=10) == hashlib.sha256(dest.read_bytes()).hexdigest()


def test_a_matroska_file_is_left_to_ffmpeg(tmp_path: Path) -> None:
    src = fc.mkv()
    assert mp4box.rewrite(src, tmp_path / "out.mp4") is None
    assert not (tmp_path / "out.mp4").exists()


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _moov_with_edits(*tracks: list[int]) -> bytes:
    """A moov whose tracks carry edit lists with these media times (-1: an empty edit)."""
    traks = b""
    for times in tracks:
        entries = b"".join(struct.pack(">IiI", 1000, t, 0x10000) for t in times)
        elst = _box(b"elst", b"\0\0\0\0" + struct.pack(">I", len(times)) + entries)
        traks += _box(b"trak", _box(b"edts", elst))
    return _box(b"moov", _box(b"mvhd", b"\0" * 100) + traks)


@pytest.mark.parametrize(("tracks", "word"), [
    ([], "none"), ([[0]], "none"), ([[1024]], "offset"), ([[-1, 0]], "offset"), ([[0], [2048]], "offset"),
    ([[0, 5000]], "complex"), ([[1024], [-1, 0, 9000]], "complex")])
def test_edit_lists_are_named_by_their_worst_track(tracks, word):
    assert mp4box.edit_list_kind(_moov_with_edits(*tracks)) == word
