"""A small RGB display ICC profile (v2, matrix and gamma curves) with the Adobe RGB (1998)
primaries, written byte by byte: Pillow can create only sRGB, and no ICC files are installed.
For the colour-space rule's tests (a photo tagged with a wide-gamut profile)."""

from __future__ import annotations

import struct

_D50 = (0.9642, 1.0, 0.8249)
_ADOBE = {"rXYZ": (0.6097, 0.3111, 0.0195), "gXYZ": (0.2053, 0.6257, 0.0609), "bXYZ": (0.1492, 0.0632, 0.7446)}


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _xyz(v: tuple[float, float, float]) -> bytes:
    return b"XYZ " + b"\0" * 4 + b"".join(_s15(x) for x in v)


def _desc(text: str) -> bytes:
    ascii_ = text.encode("ascii") + b"\0"
    return (b"desc" + b"\0" * 4 + struct.pack(">I", len(ascii_)) + ascii_ + struct.pack(">II", 0, 0)
            + struct.pack(">HB", 0, 0) + b"\0" * 67)


def _curve(gamma: float) -> bytes:
    return b"curv" + b"\0" * 4 + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"


def adobe_rgb_icc(description: str = "Adobe RGB (1998) test") -> bytes:
    """The profile's bytes."""
    tags = [("desc", _desc(description)), ("cprt", b"text" + b"\0" * 4 + b"none\0\0\0\0"), ("wtpt", _xyz(_D50)),
            *((k, _xyz(v)) for k, v in _ADOBE.items()), ("rTRC", _curve(2.2)), ("gTRC", _curve(2.2)),
            ("bTRC", _curve(2.2))]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for sig, body in tags:
        body += b"\0" * (-len(body) % 4)
        table += sig.encode() + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = (struct.pack(">I", size) + b"lcms" + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
              + struct.pack(">6H", 2023, 1, 1, 0, 0, 0) + b"acsp" + b"APPL" + b"\0" * 4 + b"\0" * 8 + b"\0" * 8
              + struct.pack(">I", 0) + b"".join(_s15(x) for x in _D50) + b"lcms" + b"\0" * 16 + b"\0" * 28)
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data
