"""Pictures for people: a poster frame, a small thumbnail and a contact sheet (4×4
frames with timecodes) for each video, a thumbnail for each photo. Frames are cut by ffmpeg (one process, one
fast seek per frame, through service/media/process.py) and drawn with Pillow.

Each function writes into a directory it is given (the service keeps them as derived
files) under a fixed name, through a temporary file renamed into place: a half-written
picture never appears under its final name."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from service.core.analysis import Analysis, timecode
from service.core.facts import MediaFacts
from service.media.process import run
from service.store.durable import replace_atomically

SHEET_COLS, SHEET_ROWS = 4, 4
"""Frames across and down a contact sheet."""

TILE_WIDTH = 320
"""Width of one frame on the contact sheet (its height follows the picture's aspect)."""

POSTER_WIDTH = 1280
"""Width of the poster frame (smaller pictures keep their size)."""

THUMB_EDGE = 480
"""Longest edge of a photo thumbnail."""

VIDEO_THUMB_EDGE = 320
"""Longest edge of a video's thumbnail (cut from its poster frame) for tables of entries."""

JPEG_QUALITY = 85
"""Quality of the JPEG files written."""

FLAG_COLOUR = (220, 38, 38)
"""Frame drawn around a contact-sheet tile that lies in a flagged segment."""

EXTRACT_TIMEOUT_S = 120.0
"""ffmpeg's time limit for cutting the frames of one sheet."""

POSTER_NAME, SHEET_NAME, THUMB_NAME = "poster.jpg", "contact-sheet.jpg", "thumbnail.jpg"
"""File names in the output directory."""


@dataclass(frozen=True)
class Pictures:
    poster: Path | None = None
    contact_sheet: Path | None = None
    thumbnail: Path | None = None


# ------------------------------------------------------------------ pure choices


def sheet_times(duration_s: float, count: int = SHEET_COLS * SHEET_ROWS) -> list[float]:
    """``count`` times spread evenly over the file, each in the middle of its share."""
    return [round((i + 0.5) * duration_s / count, 3) for i in range(count)]


def poster_time(duration_s: float, analysis: Analysis | None = None) -> float:
    """A moment that shows the content: 10% in (at most 10 s), but after a black opening
    and outside black or frozen stretches when the analysis knows them."""
    t = min(duration_s * 0.1, 10.0)
    if analysis is not None:
        for seg in sorted(analysis.black_segments, key=lambda s: s.start_s):
            if seg.start_s <= t < seg.end_s:
                t = seg.end_s + 0.5
    return round(max(0.0, min(t, duration_s - 0.1)), 3)


def in_segments(t: float, segments: Sequence[tuple[float, float]]) -> bool:
    return any(a <= t <= b for a, b in segments)


# ------------------------------------------------------------------ ffmpeg + Pillow


def _scale(width: int) -> str:
    # square pixels at the displayed aspect (dar), even height; never enlarge
    return f"scale='min({width},iw*sar)':'trunc(min({width},iw*sar)/dar/2)*2',setsar=1"


def extract_frames(path: str | os.PathLike[str], times: Sequence[float], width: int,
                   directory: Path) -> list[Path]:
    """One PNG per time in ``directory`` (``frame-NN.png``), by one ffmpeg run with an input
    seek per frame. A time past the last frame yields no file: callers check ``exists``."""
    cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y"]
    for t in times:
        cmd += ["-ss", f"{t:.3f}", "-i", str(path)]
    outs = []
    for i in range(len(times)):
        out = directory / f"frame-{i:02d}.png"
        cmd += ["-map", f"{i}:v:0", "-frames:v", "1", "-vf", _scale(width), "-pix_fmt", "rgb24", str(out)]
        outs.append(out)
    run(cmd, timeout=EXTRACT_TIMEOUT_S)
    return outs


def _save(img: Image.Image, directory: Path, name: str) -> Path:
    rgb = img.convert("RGB")
    return replace_atomically(directory / name, lambda tmp: rgb.save(tmp, "JPEG", quality=JPEG_QUALITY, optimize=True))


def poster_frame(path: str | os.PathLike[str], directory: Path, *, at_s: float, width: int = POSTER_WIDTH,
                 name: str = POSTER_NAME) -> Path:
    """The frame at ``at_s`` as a JPEG of at most ``width`` pixels across."""
    with tempfile.TemporaryDirectory(prefix="poster-") as tmp:
        [frame] = extract_frames(path, [at_s], width, Path(tmp))
        if not frame.exists():  # past the end: take the first frame
            [frame] = extract_frames(path, [0.0], width, Path(tmp))
        with Image.open(frame) as img:
            return _save(img, directory, name)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        return ImageFont.load_default()


def contact_sheet(path: str | os.PathLike[str], directory: Path, *, duration_s: float,
                  flagged: Sequence[tuple[float, float]] = (), cols: int = SHEET_COLS, rows: int = SHEET_ROWS,
                  tile_width: int = TILE_WIDTH, name: str = SHEET_NAME) -> Path:
    """A ``cols``×``rows`` grid of frames spread over the file, each with its timecode;
    frames inside a ``flagged`` time range (black, frozen …) get a red frame and label."""
    times = sheet_times(duration_s, cols * rows)
    with tempfile.TemporaryDirectory(prefix="sheet-") as tmp:
        frames = extract_frames(path, times, tile_width, Path(tmp))
        images: list[Image.Image | None] = []
        for f in frames:
            if f.exists():
                with Image.open(f) as img:
                    images.append(img.convert("RGB"))
            else:
                images.append(None)
    present = [im for im in images if im is not None]
    tile_w = present[0].width if present else tile_width
    tile_h = present[0].height if present else tile_width * 9 // 16
    gap, label_h = 6, 24
    sheet = Image.new("RGB", (cols * tile_w + (cols + 1) * gap, rows * (tile_h + label_h) + (rows + 1) * gap),
                      (24, 24, 24))
    draw = ImageDraw.Draw(sheet)
    font = _font(16)
    for i, (t, tile) in enumerate(zip(times, images, strict=True)):
        x = gap + (i % cols) * (tile_w + gap)
        y = gap + (i // cols) * (tile_h + label_h + gap)
        if tile is None:
            draw.rectangle((x, y, x + tile_w - 1, y + tile_h - 1), fill=(60, 60, 60))
        else:
            sheet.paste(tile.resize((tile_w, tile_h)) if tile.size != (tile_w, tile_h) else tile, (x, y))
        hit = in_segments(t, flagged)
        if hit:
            draw.rectangle((x - 3, y - 3, x + tile_w + 2, y + tile_h + 2), outline=FLAG_COLOUR, width=3)
        draw.text((x + 4, y + tile_h + 4), timecode(t) + ("  !" if hit else ""), font=font,
                  fill=FLAG_COLOUR if hit else (235, 235, 235))
    return _save(sheet, directory, name)


def photo_thumbnail(path: str | os.PathLike[str], directory: Path, *, edge: int = THUMB_EDGE,
                    name: str = THUMB_NAME) -> Path:
    """A JPEG of the photo as it is displayed (EXIF orientation applied), longest edge ``edge``;
    decoded with bounded memory (``images.shrunk``: a 12000×12000 PNG is shrunk in a child)."""
    from service.media.images import shrunk

    with shrunk(path, edge) as shown:
        return _save(shown, directory, name)


def flagged_segments(analysis: Analysis | None) -> list[tuple[float, float]]:
    """The time ranges worth a red frame: black and frozen stretches, long silences are not
    visible in a frame and are left out."""
    if analysis is None:
        return []
    return [(s.start_s, s.end_s) for s in [*analysis.black_segments, *analysis.frozen_segments]]


def pictures_for(path: str | os.PathLike[str], facts: MediaFacts, directory: Path,
                 analysis: Analysis | None = None) -> Pictures:
    """Every picture that suits the file: poster, thumbnail and contact sheet for a video,
    a thumbnail for a photo, nothing for audio."""
    if facts.kind == "image":
        return Pictures(thumbnail=photo_thumbnail(path, directory))
    if facts.kind != "video" or not facts.duration_s:
        return Pictures()
    poster = poster_frame(path, directory, at_s=poster_time(facts.duration_s, analysis))
    thumb = photo_thumbnail(poster, directory, edge=VIDEO_THUMB_EDGE)  # for lists: from the poster
    sheet = contact_sheet(path, directory, duration_s=facts.duration_s, flagged=flagged_segments(analysis))
    return Pictures(poster=poster, contact_sheet=sheet, thumbnail=thumb)
