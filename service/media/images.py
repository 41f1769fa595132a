"""Image facts with Pillow (+ pillow-heif for HEIC/HEIF/AVIF). Decompression bombs are
refused from the header, before any pixel is decoded; the facts come from the header alone.
Truncated files are found by reading all the data with a bounded amount of memory: a JPEG
decoded at 1/8 scale, a large PNG by its chunk checksums (``verify``: no pixels), another
image decoded here when its pixels fit ``DECODE_BUDGET_BYTES``, else in a child process
bounded by ``DECODE_MEMORY_LIMIT`` and ``DECODE_TIMEOUT_S`` (``python -m service.media.images``,
which also shrinks large pictures for thumbnails: ``shrunk``). The limits live here, with
the code that enforces them; ``probe`` calls ``probe_image`` and this module imports nothing
of the probe."""

from __future__ import annotations

import io
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

from service.core.errors import UnreadableMediaError
from service.core.facts import MediaFacts
from service.media import process

MAX_IMAGE_PIXELS = 150_000_000
"""Images with more pixels are refused before decoding (decompression bombs)."""

DECODE_BUDGET_BYTES = 96 << 20
"""Most bytes of pixels decoded in the calling process (a 32 Mpx RGB photo; a JPEG counts at the
reduced scale it is decoded at). A larger picture is checked without its pixels (PNG) or decoded in a
child process: a 560 KB PNG of 12000×12000 would otherwise take 432 MB of the service's memory."""

DECODE_MEMORY_LIMIT = (2 << 30) + (os.cpu_count() or 1) * (128 << 20)
"""Address space of the child process that decodes a picture over the budget (RLIMIT_AS): 2 GiB (the
largest picture allowed, 150 Mpx in RGBA, is 600 MB, plus Python and Pillow) and 128 MiB per core for
the threads of libheif's decoder."""

DECODE_TIMEOUT_S = 60.0
"""Longest time that child may take before it is killed."""

_heif_registered = False

_FORMATS = {"JPEG": "jpeg", "MPO": "jpeg", "PNG": "png", "GIF": "gif", "WEBP": "webp", "HEIF": "heif",
            "AVIF": "avif", "TIFF": "tiff", "BMP": "bmp"}
_ROTATED_EXIF = {5, 6, 7, 8}  # EXIF orientations that swap width and height


def register_heif() -> None:
    """Teach Pillow HEIC/HEIF/AVIF (pillow-heif), once per process."""
    global _heif_registered
    if not _heif_registered:
        try:
            from pillow_heif import register_heif_opener

            register_heif_opener()
        except ImportError:  # pragma: no cover - pillow-heif is a dependency
            pass
        _heif_registered = True


def probe_image(path: Path, size: int) -> MediaFacts:
    register_heif()
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bomb warnings are decided below, by our own limit
        try:
            im = Image.open(path)
        except Image.DecompressionBombError:
            raise _bomb(None) from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
            raise UnreadableMediaError(f"图片无法读取：{e}", f"The image cannot be read: {e}",
                                       code="unrecognised") from None
    with im:
        w, h = im.size
        if w * h > MAX_IMAGE_PIXELS:
            raise _bomb((w, h))
        fmt = (im.format or "").upper()
        frames = int(getattr(im, "n_frames", 1) or 1)
        try:
            exif = _exif(im, fmt)
            orientation = int(exif.get(0x0112) or 1)
        except Exception:  # noqa: BLE001 - broken EXIF is not a broken picture
            exif, orientation = Image.Exif(), 1
        dpi = im.info.get("dpi")
        mode = im.mode
        space, exif_tags = colour_space_and_exif(im, exif)
        try:
            _read_all(im, path, fmt)
        except (OSError, SyntaxError, ValueError) as e:
            raise UnreadableMediaError(f"图片文件不完整或已损坏：{e}",
                                       f"The image is truncated or corrupt: {e}", code="truncated") from None
    dw, dh = (h, w) if orientation in _ROTATED_EXIF else (w, h)
    name = _FORMATS.get(fmt, fmt.lower())
    return MediaFacts(
        kind="image", container=name, format_name=fmt, image_format=name, size_bytes=size,
        width=dw, height=dh, coded_width=w, coded_height=h,
        rotation={3: 180, 6: 90, 8: 270, 5: 90, 7: 270}.get(orientation, 0),
        orientation="landscape" if dw > dh else "portrait" if dh > dw else "square",
        display_aspect_ratio=round(dw / dh, 4) if dh else None,
        color_mode=mode, dpi=(float(dpi[0]), float(dpi[1])) if dpi else None,
        frames=frames, animated=frames > 1, exif_orientation=orientation, color_space=space, exif_tags=exif_tags,
    )


_EXIF_IFD, _GPS_IFD, _INTEROP_IFD, _ORIENTATION = 0x8769, 0x8825, 0xA005, 0x0112
_POINTERS = {_EXIF_IFD, _GPS_IFD, _INTEROP_IFD, _ORIENTATION}
_ICC_NAMES = (("srgb", "srgb"), ("adobe rgb", "adobe-rgb"), ("display p3", "display-p3"), ("p3", "display-p3"),
              ("prophoto", "prophoto-rgb"))


def colour_space_and_exif(im: Image.Image, exif: Image.Exif) -> tuple[str | None, int]:
    """The colour space a photo declares (its ICC profile's description, else EXIF ColorSpace and
    the interoperability index; None when it declares none) and how many EXIF tags it carries
    (pointers and the orientation alone do not count: they are not the camera's record)."""
    space: str | None = None
    icc = im.info.get("icc_profile")
    if icc:
        try:
            desc = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc))).strip().lower()
        except (ImageCms.PyCMSError, OSError, TypeError):
            desc = "unreadable icc profile"
        space = next((name for needle, name in _ICC_NAMES if needle in desc), desc or "unnamed icc profile")
    try:
        sub = exif.get_ifd(_EXIF_IFD)
        interop = sub.get_ifd(_INTEROP_IFD) if hasattr(sub, "get_ifd") else exif.get_ifd(_INTEROP_IFD)
    except Exception:  # noqa: BLE001 - broken EXIF is not a broken picture
        return space, 0
    if space is None:
        index = str(interop.get(0x0001) or "").strip() if interop else ""
        declared = sub.get(0xA001)
        if index == "R03":
            space = "adobe-rgb"
        elif declared == 1:
            space = "srgb"
        elif declared == 0xFFFF:
            space = "uncalibrated"
    tags = sum(1 for k in exif if k not in _POINTERS) + sum(1 for k in sub if k not in _POINTERS)
    return space, tags


def _exif(im: Image.Image, fmt: str) -> Image.Exif:
    """The EXIF data from the header. A PNG's ``getexif`` decodes every pixel to find an eXIf
    chunk after the image data: read only the one before it (where writers put it)."""
    if fmt != "PNG":
        return im.getexif()
    exif = Image.Exif()
    raw = im.info.get("exif")
    if isinstance(raw, bytes):
        exif.load(raw)
    return exif


def decoded_bytes(im: Image.Image) -> int:
    """Bytes of pixels ``im.load()`` would hold (after a ``draft``, at its reduced size)."""
    w, h = im.size
    return w * h * max(1, len(im.getbands()))


def _read_all(im: Image.Image, path: Path, fmt: str) -> None:
    """Read every byte of the picture's data with bounded memory; OSError, SyntaxError or
    ValueError when it is truncated or corrupt."""
    if fmt == "JPEG":
        w, h = im.size
        im.draft("RGB", (max(1, w // 8), max(1, h // 8)))
    if decoded_bytes(im) <= DECODE_BUDGET_BYTES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im.load()
    elif fmt == "PNG":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # bomb warnings: decided by our own limit
            fresh = Image.open(path)  # (verify must come straight after open)
        with fresh:
            fresh.verify()  # every chunk to IEND, checksums included: truncation and corruption, no pixels
    else:
        _in_child("check", path)


def _in_child(action: str, *args: str | os.PathLike[str]) -> None:
    """``python -m service.media.images ACTION ARGS`` under the child's memory and time limits;
    OSError with its message when it fails, UnreadableMediaError when it ran out of memory."""
    res = process.run([sys.executable, "-m", "service.media.images", action, *(os.fspath(a) for a in args)],
                      timeout=DECODE_TIMEOUT_S, check=False, memory_limit=DECODE_MEMORY_LIMIT)
    if process.out_of_memory(res, DECODE_MEMORY_LIMIT):
        raise process.over_budget_error("图片解码", "decoding the picture", DECODE_MEMORY_LIMIT)
    if res.returncode != 0:
        lines = res.stderr.strip().splitlines()
        raise OSError(lines[-1] if lines else f"exit {res.returncode}")


@contextmanager
def shrunk(path: str | os.PathLike[str], edge: int) -> Iterator[Image.Image]:
    """The picture as displayed (EXIF orientation applied), its longest edge at most ``edge``,
    decoded with bounded memory: a JPEG at a reduced scale, a picture whose pixels fit
    ``DECODE_BUDGET_BYTES`` here, a larger one in a child process (which writes a small PNG)."""
    register_heif()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bombs were refused by probe_image, by our own limit
        img = Image.open(path)
    with img:
        img.draft("RGB", (edge, edge))  # JPEG: decode at a reduced scale; a no-op for the others
        if decoded_bytes(img) <= DECODE_BUDGET_BYTES:
            shown = ImageOps.exif_transpose(img) or img
            shown.thumbnail((edge, edge))
            yield shown
            return
    with tempfile.TemporaryDirectory(prefix="shrink-") as tmp:
        small = Path(tmp) / "small.png"
        _in_child("shrink", path, small, str(edge))
        with Image.open(small) as img:
            img.load()
            yield img


def _child(argv: list[str]) -> int:  # pragma: no cover - runs in the child (tests run it for real)
    """The child's side: ``check PATH`` decodes every pixel; ``shrink SRC DST EDGE`` writes the
    displayed picture, longest edge EDGE, as a PNG."""
    register_heif()
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with Image.open(argv[1]) as im:
                if argv[0] == "check":
                    im.load()
                    return 0
                edge = int(argv[3])
                im.load()
                factor = max(1, max(im.size) // (2 * edge))  # reduce first: the copies below are small
                if im.mode not in ("L", "LA", "RGB", "RGBA", "CMYK"):  # (reduce takes no palette, no 16 bits:
                    # every factor-th pixel, then colours)
                    small = im.resize((max(1, im.width // factor), max(1, im.height // factor)),
                                      Image.Resampling.NEAREST).convert("RGBA")
                else:
                    small = im.reduce(factor) if factor > 1 else im.copy()
                im.close()
                if isinstance(exif := im.info.get("exif"), bytes):  # the orientation, for exif_transpose
                    small.info["exif"] = exif
                shown = ImageOps.exif_transpose(small) or small
                shown.thumbnail((edge, edge))
                shown.save(argv[2], "PNG")
                return 0
        except MemoryError:
            sys.stderr.write("MemoryError\n")
            return 3
        except Exception as e:  # noqa: BLE001 - its message is the parent's error
            sys.stderr.write(f"{e}\n")
            return 1


def _bomb(size: tuple[int, int] | None) -> UnreadableMediaError:
    dims = f"{size[0]}×{size[1]}" if size else "过大"
    dims_en = f"{size[0]}×{size[1]}" if size else "too large"
    return UnreadableMediaError(
        f"图片像素过多（{dims}，上限 {MAX_IMAGE_PIXELS // 1_000_000} 百万像素），疑似解压炸弹，未解码。",
        f"The image has too many pixels ({dims_en}, limit {MAX_IMAGE_PIXELS // 1_000_000} megapixels); "
        "refused before decoding as a possible decompression bomb.", code="decompression_bomb")


if __name__ == "__main__":  # pragma: no cover - the child of _in_child
    raise SystemExit(_child(sys.argv[1:]))
