"""Carry out a photo fix with Pillow (+ pillow-heif): apply the EXIF orientation, convert
CMYK (through its ICC profile when it has one) or transparency to sRGB, scale to the
planned size, write JPEG/PNG, and bring the file under a size limit by lowering the JPEG
quality, then the size. Writes only the path it is given."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageCms, ImageOps

from service.fix.plan import ImageTarget
from service.media.images import register_heif

QUALITY_STEPS = (90, 82, 75, 68, 60)
"""JPEG qualities tried, in order, to bring a photo under a size limit."""
SHRINK_STEP = 0.85
"""Factor applied to both edges per step when quality alone cannot meet the size limit."""

MAX_SHRINK_STEPS = 6
"""How many times a photo may be shrunk to meet a size limit."""

_EXIF_ORIENTATION = 0x0112


def _to_rgb(im: Image.Image) -> Image.Image:
    if im.mode == "CMYK":
        icc = im.info.get("icc_profile")
        if icc:
            try:
                src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
                out = ImageCms.profileToProfile(im, src, ImageCms.createProfile("sRGB"), outputMode="RGB")
                if out is not None:
                    return out
            except (ImageCms.PyCMSError, OSError):
                pass
        return im.convert("RGB")
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    if im.mode not in ("RGB", "L"):
        return im.convert("RGB")
    return im


def _save(im: Image.Image, out: Path, target: ImageTarget, quality: int, exif: bytes | None) -> int:
    kwargs: dict[str, object] = {}
    if target.to_srgb and im.info.get("icc_profile"):  # the sRGB profile put there by _to_srgb
        kwargs["icc_profile"] = im.info["icc_profile"]
    if target.dpi:
        kwargs["dpi"] = (target.dpi, target.dpi)
    if exif:
        kwargs["exif"] = exif
    if target.format == "jpeg":
        im.save(out, "JPEG", quality=quality, optimize=True, **kwargs)
    else:
        im.save(out, "PNG", optimize=True, **kwargs)
    return out.stat().st_size


def fix_photo(src: Path, out: Path, target: ImageTarget) -> None:
    """Write the fixed photo to ``out``."""
    register_heif()
    with Image.open(src) as opened:
        edge = max(target.width, target.height)
        opened.draft(None, (edge, edge))  # JPEG: decode at the smallest scale still >= the target
        opened.load()
        exif = opened.getexif()
        im = ImageOps.exif_transpose(opened) if target.exif_transpose else opened.copy()
    exif.pop(_EXIF_ORIENTATION, None)
    if target.to_srgb:
        _exif_says_srgb(exif)
    exif_bytes = exif.tobytes() if len(exif) else None
    icc = None
    if target.to_srgb:
        im, icc = _to_srgb(im)
    if target.to_rgb or target.format == "jpeg":
        im = _to_rgb(im)
    if im.size != (target.width, target.height):
        im = im.resize((target.width, target.height), Image.Resampling.LANCZOS)
    if icc is not None:
        im.info["icc_profile"] = icc
    quality = target.quality
    size = _save(im, out, target, quality, exif_bytes)
    if target.max_bytes is None or size <= target.max_bytes:
        return
    for q in (q for q in QUALITY_STEPS if q < quality):
        if target.format == "jpeg" and _save(im, out, target, q, exif_bytes) <= target.max_bytes:
            return
        quality = q
    for _ in range(MAX_SHRINK_STEPS):
        im = im.resize((max(1, round(im.width * SHRINK_STEP)), max(1, round(im.height * SHRINK_STEP))),
                       Image.Resampling.LANCZOS)
        if _save(im, out, target, quality, exif_bytes) <= target.max_bytes:
            return


_EXIF_IFD, _INTEROP_IFD, _COLOR_SPACE = 0x8769, 0xA005, 0xA001


def _to_srgb(im: Image.Image) -> tuple[Image.Image, bytes]:
    """The pixels converted to sRGB through the photo's own ICC profile (untagged pixels are
    taken as sRGB already), and the sRGB profile to embed."""
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    icc = im.info.get("icc_profile")
    mode = "RGB" if im.mode not in ("RGB", "CMYK") else im.mode
    if icc:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            out = ImageCms.profileToProfile(im if im.mode == mode else im.convert(mode), src, srgb, outputMode="RGB")
            if out is not None:
                return out, srgb.tobytes()
        except (ImageCms.PyCMSError, OSError):
            pass
    return (im if im.mode == "RGB" else im.convert("RGB")), srgb.tobytes()


def _exif_says_srgb(exif: Image.Exif) -> None:
    """EXIF ColorSpace 1 (sRGB) and no Adobe RGB interoperability index, after a conversion."""
    try:
        sub = exif.get_ifd(_EXIF_IFD)
        sub[_COLOR_SPACE] = 1
        sub.get_ifd(_INTEROP_IFD).pop(0x0001, None) if hasattr(sub, "get_ifd") else None
    except Exception:  # noqa: BLE001 - a tag we cannot rewrite is left as it was
        pass
