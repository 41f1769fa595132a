"""Small media that fails a small test profile in one way each, for the fixer's tests
(transcode, CLI, workers). Generated with ffmpeg lavfi / Pillow and cached."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.support.media import CACHE, av, ffmpeg_media

KiB = 1024

TINY_PROFILE = """\
id: {id}
version: "1"
title: {{zh-CN: 修复测试, en: fix test}}
size_unit: binary
kinds:
  video:
    container: {{allowed: [mp4]}}
    video_codec: {{allowed: [h264]}}
    audio_codec: {{allowed: [aac]}}
    pixel_format: {{allowed: [yuv420p]}}
    audio_present: {{required: true}}
    resolution: {{min: 180p}}
    aspect_ratio: {{allowed: ["16:9"], tolerance: 0.01}}
    orientation: {{allowed: [landscape]}}
    scan_type: {{allowed: [progressive]}}
    frame_rate_mode: {{allowed: [constant]}}
    faststart: {{required: true}}
    duration: {{min: 1s, max: 10s}}
    file_size: {{min: 150KiB, max: 400KiB}}
{video_fix}
  image:
    image_format: {{allowed: [jpeg]}}
    color_mode: {{allowed: [RGB, L]}}
    resolution: {{max: 1600x1600}}
    file_size: {{max: 2MiB}}
"""
"""A profile whose window a 2-second 320×180 clip at ~800 kbps lands in (150–400 KiB)."""

WINDOW = (150 * KiB, 400 * KiB)
"""TINY_PROFILE's size window in bytes."""


def write_profile(directory: Path, profile_id: str = "fix-test", fix: str = "") -> Path:
    """Write TINY_PROFILE (with an optional ``fix:`` block for the video kind) and return its path."""
    block = "\n".join("      " + line for line in fix.strip().splitlines()) if fix.strip() else ""
    path = directory / f"{profile_id}.yaml"
    path.write_text(TINY_PROFILE.format(id=profile_id, video_fix=("    fix:\n" + block) if block else ""),
                    encoding="utf-8")
    return path


CBR = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-b:v", "800k", "-minrate", "800k",
       "-maxrate", "800k", "-bufsize", "800k", "-x264-params", "nal-hrd=cbr"]


def clip(name: str, size: str = "320x180", seconds: float = 2, *, audio: bool = True,
         vcodec: list[str] | None = None, extra_v: list[str] | None = None,
         then: list[list[str]] | None = None) -> Path:
    return ffmpeg_media(name, av(size, "25", seconds, audio=audio, vcodec=vcodec or CBR, extra_v=extra_v), then=then)


def mov() -> Path:
    return clip("fix-quicktime.mov", extra_v=["-f", "mov"])


def mkv() -> Path:
    return clip("fix-matroska.mkv", extra_v=["-f", "matroska"])


def rotated() -> Path:
    """Coded 320×180 with a rotation flag: a portrait picture when played."""
    return clip("fix-rotated.mp4", extra_v=["-movflags", "+faststart"],
                then=[["-i", "{in}", "-c", "copy", "-metadata:s:v:0", "rotate=90", "-movflags", "+faststart"]])


def too_small() -> Path:
    return clip("fix-small.mp4", vcodec=["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                                         "-b:v", "60k", "-maxrate", "60k", "-bufsize", "120k"],
                extra_v=["-movflags", "+faststart"])


def too_large() -> Path:
    big = [a.replace("800k", "3M") for a in CBR]
    return clip("fix-large.mp4", vcodec=big, extra_v=["-movflags", "+faststart"])


def interlaced() -> Path:
    return clip("fix-interlaced.mp4",
                extra_v=["-flags", "+ildct+ilme", "-field_order", "tt", "-movflags", "+faststart"])


def four_by_three() -> Path:
    return clip("fix-4x3.mp4", size="240x180", extra_v=["-movflags", "+faststart"])


def vfr() -> Path:
    return clip("fix-vfr.mp4", extra_v=["-vf", "select='not(eq(mod(n\\,5)\\,2))'", "-fps_mode", "vfr",
                                        "-movflags", "+faststart"])


def too_short() -> Path:
    return clip("fix-short.mp4", seconds=0.5, extra_v=["-movflags", "+faststart"])


def silent() -> Path:
    return clip("fix-silent.mp4", audio=False, extra_v=["-movflags", "+faststart"])


def low_res() -> Path:
    return clip("fix-lowres.mp4", size="160x90", extra_v=["-movflags", "+faststart"])


def heic_photo() -> Path:
    """A 640×480 HEIC whose EXIF says "rotate 90° clockwise" (orientation 6): upright it is 480×640."""
    out = CACHE / "fix-photo-orient6.heic"
    if not out.exists():
        import pillow_heif
        from PIL import Image

        pillow_heif.register_heif_opener()
        CACHE.mkdir(parents=True, exist_ok=True)
        im = Image.radial_gradient("L").resize((640, 480)).convert("RGB")
        exif = Image.Exif()
        exif[0x0112] = 6
        tmp = out.with_name(".tmp-" + out.name)
        im.save(tmp, format="HEIF", exif=exif.tobytes(), quality=80)
        tmp.rename(out)
    return out


def webp_photo() -> Path:
    out = CACHE / "fix-photo.webp"
    if not out.exists():
        from PIL import Image

        CACHE.mkdir(parents=True, exist_ok=True)
        im = Image.radial_gradient("L").resize((500, 300)).convert("RGB")
        tmp = out.with_name(".tmp-" + out.name)
        im.save(tmp, "WEBP", quality=80)
        tmp.rename(out)
    return out


def cmyk_photo() -> Path:
    out = CACHE / "fix-photo-cmyk.jpg"
    if not out.exists():
        from PIL import Image

        CACHE.mkdir(parents=True, exist_ok=True)
        im = Image.linear_gradient("L").resize((400, 300)).convert("RGB").convert("CMYK")
        tmp = out.with_name(".tmp-" + out.name)
        im.save(tmp, "JPEG", quality=90)
        tmp.rename(out)
    return out


def big_png_with_alpha() -> Path:
    """2400×1800 RGBA PNG: above TINY_PROFILE's 1600×1600, transparent, not JPEG."""
    out = CACHE / "fix-photo-rgba-2400.png"
    if not out.exists():
        from PIL import Image

        CACHE.mkdir(parents=True, exist_ok=True)
        im = Image.linear_gradient("L").resize((2400, 1800)).convert("RGBA")
        im.putalpha(Image.radial_gradient("L").resize((2400, 1800)))
        tmp = out.with_name(".tmp-" + out.name)
        im.save(tmp, "PNG")
        tmp.rename(out)
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
