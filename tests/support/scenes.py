"""The six problem media a reviewer would see — good, pillarboxed, frozen slide, black opening,
silent, interlaced — made by ffmpeg's lavfi sources and cached like every test medium
(tests/support/media.py), at two sizes:

- ``SMALL``: 640×360, 3–5 s, index first: the reviewer campaign (tests/support/review_setup.py)
  and the golden reports, small enough for a page test to upload and analyse quickly;
- ``LARGE``: 1280×720, 5–12 s: the content analysis (test_analyze.py, test_export.py …).

Each size keeps the ffmpeg arguments, hence the cache keys, its media always had. The moving
pattern is softened (``gblur``) as a camera's optics would: testsrc2's pixel-sharp aliased
edges make idet see combs in progressive frames (docs/pitfalls)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.support.media import ffmpeg_media

X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]


def _tone(seconds: int) -> list[str]:
    return ["-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:d={seconds}"]


@dataclass(frozen=True)
class Scenes:
    """The six media at one size; each method makes (or finds in the cache) one file."""

    width: int
    height: int
    prefix: str
    """Before each file name in the cache."""
    blur: int
    """gblur sigma: 2 at 640×360, where testsrc2's edges are relatively sharper."""
    audio_bitrate: str
    faststart: bool
    seconds: int
    """Length of the good, pillarboxed, silent and interlaced files."""
    black_s: int
    """Black at the start of the black opening (3 s of picture follow)."""
    motion_s: int
    """Motion before the frozen slide (0: the slide from the start)."""
    slide_s: int
    muted_pillarbox: bool
    """The pillarboxed file's tone is silent from 2 s to 4 s."""

    def _soft(self) -> str:
        return f"gblur=sigma={self.blur}"

    def _size(self) -> str:
        return f"{self.width}x{self.height}"

    def _aac(self) -> list[str]:
        """The audio encoder, then the MP4 index first where this size asks for it."""
        return ["-c:a", "aac", "-b:a", self.audio_bitrate, *(["-movflags", "+faststart"] if self.faststart else [])]

    def good(self) -> Path:
        """Moving pattern with a tone: nothing to flag."""
        s = self.seconds
        return ffmpeg_media(f"{self.prefix}good.mp4", [
            "-f", "lavfi", "-i", f"testsrc2=s={self._size()}:r=25:d={s}", *_tone(s),
            "-vf", self._soft(), *X264, *self._aac(), "-shortest"])

    def pillarboxed(self) -> Path:
        """A 4:3 picture centred between black bars (80 px at 640×360, 160 px at 1280×720):
        fails ``borders``; at the large size the tone is also silent from 2 s to 4 s."""
        s, inner = self.seconds, self.height * 4 // 3
        mute = ["-af", "volume=enable='between(t,2,4)':volume=0"] if self.muted_pillarbox else []
        return ffmpeg_media(f"{self.prefix}pillarboxed.mp4", [
            "-f", "lavfi", "-i", f"testsrc2=s={inner}x{self.height}:r=25:d={s}", *_tone(s),
            "-vf", f"{self._soft()},pad={self.width}:{self.height}:{(self.width - inner) // 2}:0:black", *mute,
            *X264, *self._aac(), "-shortest"])

    def frozen_slide(self) -> Path:
        """One still slide (a PPT export). Small: 1 s of motion, then the slide for 4 s, frozen
        from 00:00:01 (``frozen_segments``) and still 80% of the time (``static_content``).
        Large: the slide for 12 s, frozen from start to end."""
        size, loop = self._size(), self.slide_s * 25 - 1
        slide = ["-f", "lavfi", "-i", f"testsrc=s={size}:r=25:d=0.04"]
        if not self.motion_s:
            return ffmpeg_media(f"{self.prefix}frozen-slide.mp4", [
                *slide, *_tone(self.slide_s), "-vf", f"loop=loop={loop}:size=1:start=0,setpts=N/25/TB",
                *X264, *self._aac(), "-shortest"])
        return ffmpeg_media(f"{self.prefix}frozen-slide.mp4", [
            "-f", "lavfi", "-i", f"testsrc2=s={size}:r=25:d={self.motion_s}", *slide,
            *_tone(self.motion_s + self.slide_s), "-filter_complex",
            f"[0:v]{self._soft()}[a];[1:v]loop=loop={loop}:size=1:start=0,setpts=N/25/TB[b];"
            "[a][b]concat=n=2:v=1:a=0[v]",
            "-map", "[v]", "-map", "2:a", *X264, *self._aac(), "-shortest"])

    def black_opening(self) -> Path:
        """Black (2 s small, 4 s large), then 3 s of picture: ``black_segments`` at 00:00:00."""
        size = self._size()
        return ffmpeg_media(f"{self.prefix}black-opening.mp4", [
            "-f", "lavfi", "-i", f"color=black:s={size}:r=25:d={self.black_s}", "-f", "lavfi", "-i",
            f"testsrc2=s={size}:r=25:d=3", *_tone(self.black_s + 3),
            "-filter_complex", f"[1:v]{self._soft()}[p];[0:v][p]concat=n=2:v=1:a=0[v]", "-map", "[v]",
            "-map", "2:a", *X264, *self._aac(), "-shortest"])

    def silent(self) -> Path:
        """Picture with a silent stereo track (anullsrc): ``silence`` from start to end."""
        return ffmpeg_media(f"{self.prefix}silent.mp4", [
            "-f", "lavfi", "-i", f"testsrc2=s={self._size()}:r=25:d={self.seconds}",
            "-f", "lavfi", "-i", "anullsrc=channel_layout=stereo:sample_rate=48000", "-vf", self._soft(),
            *X264, *self._aac(), "-t", str(self.seconds)])

    def interlaced(self) -> Path:
        """50 fps motion woven into 25 fps interlaced frames, flagged top field first."""
        s = self.seconds
        return ffmpeg_media(f"{self.prefix}interlaced.mp4", [
            "-f", "lavfi", "-i", f"testsrc2=s={self._size()}:r=50:d={s}", *_tone(s),
            "-vf", f"{self._soft()},tinterlace=mode=interleave_top,setfield=tff", *X264, "-flags", "+ildct+ilme",
            "-x264opts", "tff=1", *self._aac(), "-shortest"])

    def makers(self) -> dict[str, Callable[[], Path]]:
        """Entry name → maker; the name says what a reviewer should see flagged."""
        return {"good": self.good, "pillarboxed": self.pillarboxed, "frozen-slide": self.frozen_slide,
                "black-opening": self.black_opening, "silent": self.silent, "interlaced": self.interlaced}


SMALL = Scenes(width=640, height=360, prefix="e-", blur=2, audio_bitrate="64k", faststart=True, seconds=4,
               black_s=2, motion_s=1, slide_s=4, muted_pillarbox=False)
LARGE = Scenes(width=1280, height=720, prefix="", blur=1, audio_bitrate="96k", faststart=False, seconds=5,
               black_s=4, motion_s=0, slide_s=12, muted_pillarbox=True)
