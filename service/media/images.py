"""Image facts with Pillow (+ pillow-heif for HEIC/HEIF/AVIF). Decompression bombs are
refused from the header, before any pixel is decoded; truncated files are found by a
decode (JPEG at 1/8 scale, which reads all the data with a small buffer). The limit
(``MAX_IMAGE_PIXELS``) lives here, with the code that enforces it; ``probe`` calls
``probe_image`` and this module imports nothing of the probe."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from PIL import Image, ImageCms, ImageFile, UnidentifiedImageError

from service.core.errors import UnreadableMediaError
from service.core.facts import MediaFacts

MAX_IMAGE_PIXELS = 150_000_000
"""Images with more pixels are refused before decoding (decompression bombs)."""

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
            orientation = int(im.getexif().get(0x0112) or 1)
        except Exception:  # noqa: BLE001 - broken EXIF is not a broken picture
            orientation = 1
        dpi = im.info.get("dpi")
        mode = im.mode
        space, exif_tags = colour_space_and_exif(im)
        try:
            if fmt == "JPEG":
                im.draft("RGB", (max(1, w // 8), max(1, h // 8)))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                im.load()
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


def colour_space_and_exif(im: Image.Image) -> tuple[str | None, int]:
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
        exif = im.getexif()
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


def _bomb(size: tuple[int, int] | None) -> UnreadableMediaError:
    dims = f"{size[0]}×{size[1]}" if size else "过大"
    dims_en = f"{size[0]}×{size[1]}" if size else "too large"
    return UnreadableMediaError(
        f"图片像素过多（{dims}，上限 {MAX_IMAGE_PIXELS // 1_000_000} 百万像素），疑似解压炸弹，未解码。",
        f"The image has too many pixels ({dims_en}, limit {MAX_IMAGE_PIXELS // 1_000_000} megapixels); "
        "refused before decoding as a possible decompression bomb.", code="decompression_bomb")
