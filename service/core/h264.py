"""The H.264 sequence parameter set, as far as the scan type needs it: ``frame_mbs_only_flag``
(1: every picture is a frame of frame macroblocks, so the stream is progressive whatever a
container says) and ``mb_adaptive_frame_field_flag`` (MBAFF: frames mixing frame and field
macroblock pairs; without it, PAFF: whole pictures coded as fields). Pure: bytes in (an Annex B
stream's start, or one SPS NAL unit), flags out; service/media/probe.py reads the bytes and
service/core/facts.py decides with them when ffprobe and MediaInfo disagree."""

from __future__ import annotations

import re
from dataclasses import dataclass

_HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}
"""profile_idc values whose SPS carries chroma format, bit depths and scaling matrices."""

SPS_NAL_TYPE = 7


@dataclass(frozen=True)
class Sps:
    profile_idc: int
    frame_mbs_only: bool
    mb_adaptive_frame_field: bool

    @property
    def describe(self) -> str:
        if self.frame_mbs_only:
            return "SPS frame_mbs_only_flag=1 (frames only)"
        kind = "MBAFF" if self.mb_adaptive_frame_field else "PAFF"
        return f"SPS frame_mbs_only_flag=0, mb_adaptive_frame_field_flag={int(self.mb_adaptive_frame_field)} ({kind})"


class _Bits:
    """An MSB-first bit reader with Exp-Golomb codes; running off the end raises ValueError."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def u(self, n: int) -> int:
        v = 0
        for _ in range(n):
            byte = self.pos >> 3
            if byte >= len(self.data):
                raise ValueError("SPS ends early")
            v = (v << 1) | ((self.data[byte] >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return v

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("invalid Exp-Golomb code")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k & 1 else -(k // 2)


def without_emulation_prevention(rbsp: bytes) -> bytes:
    """Remove the emulation-prevention bytes (00 00 03 → 00 00)."""
    return re.sub(b"\x00\x00\x03", b"\x00\x00", rbsp)


def _skip_scaling_list(bits: _Bits, size: int) -> None:
    last = nxt = 8
    for _ in range(size):
        if nxt != 0:
            nxt = (last + bits.se() + 256) % 256
        last = nxt if nxt != 0 else last


def parse_sps(nal: bytes) -> Sps:
    """Parse one SPS NAL unit (its header byte first). Raises ValueError when it is not one."""
    if not nal or nal[0] & 0x1F != SPS_NAL_TYPE:
        raise ValueError("not an SPS NAL unit")
    bits = _Bits(without_emulation_prevention(nal[1:]))
    profile_idc = bits.u(8)
    bits.u(16)  # constraint flags, level_idc
    bits.ue()  # seq_parameter_set_id
    if profile_idc in _HIGH_PROFILES:
        chroma = bits.ue()
        if chroma == 3:
            bits.u(1)  # separate_colour_plane_flag
        bits.ue()
        bits.ue()  # bit depths
        bits.u(1)  # qpprime_y_zero_transform_bypass_flag
        if bits.u(1):  # seq_scaling_matrix_present_flag
            for i in range(12 if chroma == 3 else 8):
                if bits.u(1):
                    _skip_scaling_list(bits, 16 if i < 6 else 64)
    bits.ue()  # log2_max_frame_num_minus4
    poc_type = bits.ue()
    if poc_type == 0:
        bits.ue()
    elif poc_type == 1:
        bits.u(1)
        bits.se()
        bits.se()
        for _ in range(bits.ue()):
            bits.se()
    bits.ue()  # max_num_ref_frames
    bits.u(1)  # gaps_in_frame_num_value_allowed_flag
    bits.ue()
    bits.ue()  # picture width and height
    frame_mbs_only = bool(bits.u(1))
    mbaff = False if frame_mbs_only else bool(bits.u(1))
    return Sps(profile_idc, frame_mbs_only, mbaff)


def nal_units(annexb: bytes) -> list[bytes]:
    """The NAL units of an Annex B byte stream (split at 00 00 01 start codes)."""
    return [u.rstrip(b"\x00") for u in re.split(b"\x00\x00\x01", annexb) if u.strip(b"\x00")]


def find_sps(annexb: bytes) -> Sps | None:
    """The first parsable SPS of an Annex B stream, or None."""
    for unit in nal_units(annexb):
        if unit[0] & 0x1F == SPS_NAL_TYPE:
            try:
                return parse_sps(unit)
            except ValueError:
                continue
    return None
