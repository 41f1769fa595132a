"""The rules of one kind of media, as a profile states them: one model per rule id
(``container``, ``resolution``, ``aspect_ratio``, ``duration``, ``file_size`` …), each
required (fail) or recommended (warn) with an optional note, gathered in ``Rules``, plus
``Alternative`` (pass when any one option passes entirely). Validation only: whether a file
meets a rule is decided by the judges (codec_checks.py, picture_checks.py, size_checks.py),
which judge.py runs."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from service.core import units
from service.core.profile_values import (
    Bitrate,
    FrameRate,
    Frozen,
    Ratio,
    ResolutionBound,
    Seconds,
    SizeValue,
    Text,
)

Severity = Literal["required", "recommended"]


class Quote(Frozen):
    """Where a rule comes from: the notice's own words (``mediacheck profile draft`` writes them)."""

    quote: str


class Rule(Frozen):
    """Common to every rule: required (fail) or recommended (warn), why it is there, and the
    notice's words it comes from (optional)."""

    severity: Severity = "required"
    note: Text | None = None
    source: Quote | None = None


class ChoiceRule(Rule):
    allowed: tuple[str, ...] = Field(min_length=1)

    @field_validator("allowed", mode="before")
    @classmethod
    def _lower(cls, v: Any) -> Any:
        if isinstance(v, str):
            v = [v]
        return [str(x).strip().lower() for x in v] if isinstance(v, list | tuple) else v


class CaseChoiceRule(Rule):
    """Like ChoiceRule but case is kept (colour modes: RGB, CMYK, L, P)."""

    allowed: tuple[str, ...] = Field(min_length=1)


class PresenceRule(Rule):
    required: bool = True


def _check_bounds(lo: Any, hi: Any, key: Any = lambda x: x) -> None:
    if lo is not None and hi is not None and key(lo) > key(hi):
        raise ValueError("min is greater than max")


class DurationRule(Rule):
    """``min``/``max`` inclusive (以上/以内 include the bound); ``about`` ± ``tolerance``."""

    min: Seconds | None = None
    max: Seconds | None = None
    about: Seconds | None = None
    tolerance: str | float | None = None
    inclusive: bool = True

    @model_validator(mode="after")
    def _consistent(self) -> DurationRule:
        _check_bounds(self.min, self.max)
        if self.about is not None and self.tolerance is None:
            raise ValueError("'about' (左右) needs a 'tolerance', e.g. 10% or 15s")
        if self.min is None and self.max is None and self.about is None:
            raise ValueError("give min, max or about")
        return self

    def window(self) -> tuple[float | None, float | None]:
        lo, hi = self.min, self.max
        if self.about is not None:
            tol = units.parse_tolerance(self.tolerance or 0, self.about, units.parse_duration)
            lo, hi = self.about - tol, self.about + tol
        return lo, hi


class SizeRule(Rule):
    min: SizeValue | None = None
    max: SizeValue | None = None
    about: SizeValue | None = None
    tolerance: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> SizeRule:
        _check_bounds(self.min, self.max, key=lambda s: s.bytes)
        if self.about is not None and self.tolerance is None:
            raise ValueError("'about' (左右) needs a 'tolerance', e.g. 10%")
        if self.min is None and self.max is None and self.about is None:
            raise ValueError("give min, max or about")
        if self.tolerance is not None and not re.fullmatch(r"\d+(\.\d+)?%", self.tolerance.strip()):
            raise ValueError("size tolerance is a percentage, e.g. 10%")
        return self


class ResolutionRule(Rule):
    """Bounds on the displayed picture. ``1080p`` bounds the short edge; ``1920x1080`` both
    edges, orientation-free (long with long). ``upscale_allowed`` is for the fixer."""

    min: ResolutionBound | None = None
    max: ResolutionBound | None = None
    exact: ResolutionBound | None = None
    min_long_edge: int | None = Field(None, gt=0)
    min_short_edge: int | None = Field(None, gt=0)
    upscale_allowed: bool = False

    @model_validator(mode="after")
    def _some(self) -> ResolutionRule:
        if not any((self.min, self.max, self.exact, self.min_long_edge, self.min_short_edge)):
            raise ValueError("give min, max, exact, min_long_edge or min_short_edge")
        return self


class AspectRule(Rule):
    allowed: tuple[Ratio, ...] = Field(min_length=1)
    tolerance: float = Field(0.02, ge=0, lt=0.5, description="relative, 0.02 = 2%")

    @field_validator("allowed", mode="before")
    @classmethod
    def _listify(cls, v: Any) -> Any:
        return [v] if isinstance(v, str | int | float) else v


class OrientationRule(Rule):
    allowed: tuple[Literal["landscape", "portrait", "square"], ...] = Field(min_length=1)


class ScanRule(Rule):
    allowed: tuple[Literal["progressive", "interlaced"], ...] = ("progressive",)


class FrameRateRule(Rule):
    min: FrameRate | None = None
    max: FrameRate | None = None
    allowed: tuple[FrameRate, ...] | None = None
    tolerance: float = Field(0.01, ge=0, description="absolute, in frames per second")

    @model_validator(mode="after")
    def _some(self) -> FrameRateRule:
        _check_bounds(self.min, self.max)
        if self.min is None and self.max is None and not self.allowed:
            raise ValueError("give min, max or allowed")
        return self


class FrameRateModeRule(Rule):
    allowed: tuple[Literal["constant", "variable"], ...] = ("constant",)


class BitrateRule(Rule):
    min: Bitrate | None = None
    max: Bitrate | None = None

    @model_validator(mode="after")
    def _some(self) -> BitrateRule:
        _check_bounds(self.min, self.max)
        if self.min is None and self.max is None:
            raise ValueError("give min or max")
        return self


class DpiRule(Rule):
    min: float = Field(gt=0)


class AnimatedRule(Rule):
    allowed: bool = False


class FilenameRule(Rule):
    pattern: str
    example: str | None = None

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as e:
            raise ValueError(f"invalid regular expression: {e}") from None
        return v


class Rules(Frozen):
    """The rules one kind of media is judged by. Every key is a stable rule id."""

    container: ChoiceRule | None = None
    video_codec: ChoiceRule | None = None
    audio_codec: ChoiceRule | None = None
    audio_present: PresenceRule | None = None
    resolution: ResolutionRule | None = None
    aspect_ratio: AspectRule | None = None
    orientation: OrientationRule | None = None
    scan_type: ScanRule | None = None
    frame_rate: FrameRateRule | None = None
    frame_rate_mode: FrameRateModeRule | None = None
    duration: DurationRule | None = None
    file_size: SizeRule | None = None
    bitrate: BitrateRule | None = None
    pixel_format: ChoiceRule | None = None
    faststart: PresenceRule | None = None
    image_format: ChoiceRule | None = None
    color_mode: CaseChoiceRule | None = None
    dpi: DpiRule | None = None
    animated: AnimatedRule | None = None

    def items(self) -> list[tuple[str, Rule]]:
        """(rule id, rule) for the rules that are set, in declaration order."""
        return [(name, r) for name in Rules.model_fields if (r := getattr(self, name)) is not None]


class Alternative(Frozen):
    """A rule group that passes when any one of its options passes entirely."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: Text | None = None
    severity: Severity = "required"
    any_of: tuple[Rules, ...] = Field(min_length=2)
