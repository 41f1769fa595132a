"""Test media for the content analysis: one file per problem a reviewer would see, made by
ffmpeg's lavfi sources (cached like every test medium, see tests/support/media.py). 1280×720 at
25 fps, a few seconds each; the expected findings are in the names' docstrings.

The moving pattern is softened (``gblur``) as a camera's optics would: testsrc2's
pixel-sharp aliased edges make idet see combs in progressive frames (docs/pitfalls)."""

from __future__ import annotations

from pathlib import Path

from tests.support.media import ffmpeg_media

W, H = 1280, 720
SOFT = "gblur=sigma=1"
X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
AAC = ["-c:a", "aac", "-b:a", "96k"]


def _tone(seconds: float) -> list[str]:
    return ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:d={seconds}"]


def good() -> Path:
    """5 s of moving test pattern with a tone: nothing to flag."""
    return ffmpeg_media("good.mp4", ["-f", "lavfi", "-i", f"testsrc2=s={W}x{H}:r=25:d=5", *_tone(5),
                                     "-vf", SOFT, *X264, *AAC, "-shortest"])


def pillarboxed() -> Path:
    """A 4:3 picture (960×720) centred in 1280×720: bars of 160 px left and right; the tone
    is silent from 2 s to 4 s."""
    return ffmpeg_media("pillarboxed.mp4", [
        "-f", "lavfi", "-i", "testsrc2=s=960x720:r=25:d=5", *_tone(5),
        "-vf", f"{SOFT},pad={W}:{H}:160:0:black", "-af", "volume=enable='between(t,2,4)':volume=0",
        *X264, *AAC, "-shortest"])


def frozen_slide() -> Path:
    """One still slide for 12 s (a PPT export): frozen from start to end."""
    return ffmpeg_media("frozen-slide.mp4", [
        "-f", "lavfi", "-i", f"testsrc=s={W}x{H}:r=25:d=0.04", *_tone(12),
        "-vf", "loop=loop=299:size=1:start=0,setpts=N/25/TB", *X264, *AAC, "-shortest"])


def black_opening() -> Path:
    """4 s of black, then 3 s of picture: a black opening of 4 s."""
    return ffmpeg_media("black-opening.mp4", [
        "-f", "lavfi", "-i", f"color=black:s={W}x{H}:r=25:d=4", "-f", "lavfi", "-i",
        f"testsrc2=s={W}x{H}:r=25:d=3", *_tone(7),
        "-filter_complex", f"[1:v]{SOFT}[p];[0:v][p]concat=n=2:v=1:a=0[v]", "-map", "[v]", "-map", "2:a",
        *X264, *AAC, "-shortest"])


def silent() -> Path:
    """5 s of picture with a silent stereo track (anullsrc)."""
    return ffmpeg_media("silent.mp4", [
        "-f", "lavfi", "-i", f"testsrc2=s={W}x{H}:r=25:d=5",
        "-f", "lavfi", "-i", "anullsrc=channel_layout=stereo:sample_rate=48000", "-vf", SOFT,
        *X264, *AAC, "-t", "5"])


def interlaced() -> Path:
    """5 s of 50 fps motion woven into 25 fps interlaced frames (top field first), flagged tt."""
    return ffmpeg_media("interlaced.mp4", [
        "-f", "lavfi", "-i", f"testsrc2=s={W}x{H}:r=50:d=5", *_tone(5),
        "-vf", f"{SOFT},tinterlace=mode=interleave_top,setfield=tff", *X264, "-flags", "+ildct+ilme",
        "-x264opts", "tff=1", *AAC, "-shortest"])
