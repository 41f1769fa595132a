"""A profile's ``content:`` section: the thresholds of the deep analysis
(``mediacheck check --deep``, docs/content-analysis.md) under their stable rule ids, with
the defaults a key gets when it is given without values. Judged by service/core/content.py."""

from __future__ import annotations

from pydantic import Field

from service.core.profile_values import Frozen, Seconds
from service.core.rules import Rule


class BlackSegmentsRule(Rule):
    """Black picture: at the start (opening), at the end (closing) and in between. Each
    bound is the longest stretch allowed, in seconds (``None``: not judged)."""

    max_opening: Seconds | None = 3.0
    max_closing: Seconds | None = 5.0
    max_inner: Seconds | None = 3.0


class FrozenSegmentsRule(Rule):
    """A picture that does not change (black excluded) for ``max_duration`` or longer."""

    max_duration: Seconds = 10.0


class StaticContentRule(Rule):
    """Slideshow-like video: the share of the running time in frozen stretches."""

    max_ratio: float = Field(0.5, gt=0, le=1)


class SilenceRule(Rule):
    """Silent stretches longer than ``max_duration``; ``noise`` is the level (dBFS) below
    which the sound counts as silence."""

    max_duration: Seconds = 10.0
    noise: float = Field(-50.0, le=0, ge=-120, description="dBFS")


class LoudnessRule(Rule):
    """EBU R128: integrated loudness window (LUFS) and the highest true peak (dBTP)."""

    integrated_min: float | None = Field(-30.0, description="LUFS")
    integrated_max: float | None = Field(-10.0, description="LUFS")
    true_peak_max: float | None = Field(-1.0, description="dBTP")


class BordersRule(Rule):
    """Black bars (letterbox / pillarbox): ``full_frame`` (全画幅) asks for none; bars
    narrower than ``tolerance`` of the edge are ignored."""

    full_frame: bool = True
    tolerance: float = Field(0.03, ge=0, lt=0.5, description="share of the edge, 0.03 = 3%")


class InterlaceRule(Rule):
    """Interlacing seen in the picture (combing), not only in the stream's flags."""

    allowed: bool = False


class ContentRules(Frozen):
    """Thresholds for the deep analysis (``mediacheck check --deep``). Every key is a
    stable rule id; a missing key is not judged (its findings are still reported)."""

    black_segments: BlackSegmentsRule | None = None
    frozen_segments: FrozenSegmentsRule | None = None
    static_content: StaticContentRule | None = None
    silence: SilenceRule | None = None
    loudness: LoudnessRule | None = None
    borders: BordersRule | None = None
    interlace_detected: InterlaceRule | None = None

    def items(self) -> list[tuple[str, Rule]]:
        """(rule id, rule) for the rules that are set, in declaration order."""
        return [(n, r) for n in ContentRules.model_fields if (r := getattr(self, n)) is not None]
