"""The rules of one kind of media, as a profile states them: one model per rule id
(``container``, ``resolution``, ``aspect_ratio``, ``duration``, ``file_size``, the audio's
sample rate and channels, bitrates, ``edit_list``, ``color_space`` …), each required (fail) or
recommended (warn) with an optional note and an optional ``recommended:`` level, gathered in
``Rules``, plus
``Alternative`` (pass when any one option passes entirely). Validation only: whether a file
meets a rule is decided by the judges (codec_checks.py, picture_checks.py, size_checks.py),
which judge.py runs."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

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
    notice's words it comes from (``source``, optional).

    Any rule may also carry a ``recommended:`` part, the same keys at a preferred level
    (``resolution: {min: 720p, recommended: {min: 1080p}}``): below the rule's own keys (the
    floor) it fails, between the floor and the preference it warns, at the preference it
    passes, all under the one rule id (judge.py ``judge_rule``)."""

    severity: Severity = "required"
    note: Text | None = None
    source: Quote | None = None
    recommended: Rule | None = Field(None, description="the same rule at a preferred level (warns when missed)")

    @field_validator("recommended", mode="before")
    @classmethod
    def _same_kind(cls, v: Any, info: ValidationInfo) -> Any:
        """The preferred level is validated as the same kind of rule (a duration's preference is a duration)."""
        if v is None or isinstance(v, Rule):
            return v
        if not isinstance(v, dict):
            raise ValueError("recommended: is a mapping with the rule's own keys, e.g. {min: 1080p}")
        for key in ("recommended", "severity"):
            if key in v:
                raise ValueError(f"recommended: takes the rule's own keys, not {key!r}")
        try:
            return cls.model_validate(v, context=info.context)
        except ValidationError as e:
            err = e.errors()[0]
            where = ".".join(str(x) for x in err["loc"])
            msg = str(err["msg"]).removeprefix("Value error, ")
            raise ValueError(f"{where + ': ' if where else ''}{msg}") from None

    @model_validator(mode="after")
    def _floor_is_required(self) -> Rule:
        if self.recommended is not None and self.severity == "recommended":
            raise ValueError("a rule with a recommended: part is the required floor: drop severity: recommended "
                             "(or drop the floor and keep severity: recommended)")
        return self


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


DEFAULT_TRIM_MAX_S = 1.0
"""Longest end a fix trims off a video just over its maximum duration (a longer one is re-edited)."""


class DurationRule(Rule):
    """``min``/``max`` inclusive (以上/以内 include the bound); ``about`` ± ``tolerance``.

    At a bound (size_checks.duration): the container's duration (what a player shows) is
    judged, or the picture's with ``measure: picture``; an inclusive bound admits
    ``bound_tolerance`` more (by default one frame, or the audio's padding past the picture
    when that is longer, up to 0.1 s); a video at most ``trim_max`` over the maximum can be
    fixed by trimming its end."""

    min: Seconds | None = None
    max: Seconds | None = None
    about: Seconds | None = None
    tolerance: str | float | None = None
    inclusive: bool = True
    measure: Literal["container", "picture"] = Field(
        "container", description="container: what a player shows; picture: the video stream's own duration")
    bound_tolerance: Seconds | None = Field(
        None, description="slack at an inclusive bound; default one frame or the audio padding (≤ 0.1 s)")
    trim_max: Seconds = Field(DEFAULT_TRIM_MAX_S, description="a fix trims the end when at most this much over")

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


_CHANNEL_WORDS = {"mono": 1, "stereo": 2, "单声道": 1, "立体声": 2, "双声道": 2, "5.1": 6, "7.1": 8}


class SampleRateRule(Rule):
    """Audio sample rates allowed, in Hz: ``48000``, ``48kHz``, ``44.1 kHz``."""

    allowed: tuple[int, ...] = Field(min_length=1)

    @field_validator("allowed", mode="before")
    @classmethod
    def _hertz(cls, v: Any) -> Any:
        values = [v] if isinstance(v, str | int | float) else v
        if not isinstance(values, list | tuple):
            return v
        out = []
        for x in values:
            m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(k?hz)?", str(x).strip().lower())
            if not m:
                raise ValueError(f"not a sample rate: {x!r} (examples: 48000, 48kHz, 44.1kHz)")
            out.append(round(float(m.group(1)) * (1000 if m.group(2) == "khz" else 1)))
        return out


class ChannelsRule(Rule):
    """Audio channel counts allowed: ``stereo`` (2), ``mono`` (1), ``5.1`` (6) or a number."""

    allowed: tuple[int, ...] = Field(min_length=1)

    @field_validator("allowed", mode="before")
    @classmethod
    def _channels(cls, v: Any) -> Any:
        values = [v] if isinstance(v, str | int) else v
        if not isinstance(values, list | tuple):
            return v
        out = []
        for x in values:
            word = str(x).strip().lower()
            if word in _CHANNEL_WORDS:
                out.append(_CHANNEL_WORDS[word])
            elif word.isdigit() and int(word) > 0:
                out.append(int(word))
            else:
                raise ValueError(f"not a channel layout: {x!r} (stereo, mono, 5.1 or a count)")
        return out


class EditListRule(Rule):
    """MP4/MOV edit lists allowed: ``none``, ``offset`` (a shifted start, as encoders write),
    ``complex`` (several segments)."""

    allowed: tuple[Literal["none", "offset", "complex"], ...] = ("none", "offset")


class DpiRule(Rule):
    min: float = Field(gt=0)


class AnimatedRule(Rule):
    allowed: bool = False


class FilenameRule(Rule):
    """The submitted file name: a ``pattern`` it must match, words or patterns it must not
    contain (``forbidden``, e.g. the author's name field), a ``max_length`` in characters. At the
    top level it applies to every kind; under a kind it replaces the top-level one for that kind."""

    pattern: str | None = None
    example: str | None = None
    forbidden: tuple[str, ...] = Field((), description="regular expressions (plain words work), case ignored")
    max_length: int | None = Field(None, gt=0)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        if v is None:
            return v
        try:
            re.compile(v)
        except re.error as e:
            raise ValueError(f"invalid regular expression: {e}") from None
        return v

    @field_validator("forbidden", mode="before")
    @classmethod
    def _forbidden(cls, v: Any) -> Any:
        values = [v] if isinstance(v, str) else v
        for x in values if isinstance(values, list | tuple) else ():
            try:
                re.compile(str(x))
            except re.error as e:
                raise ValueError(f"forbidden: invalid regular expression {x!r}: {e}") from None
        return values

    @model_validator(mode="after")
    def _some(self) -> FilenameRule:
        if self.pattern is None and not self.forbidden and self.max_length is None:
            raise ValueError("give pattern, forbidden or max_length")
        return self


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
    audio_sample_rate: SampleRateRule | None = None
    audio_channels: ChannelsRule | None = None
    audio_bitrate: BitrateRule | None = None
    video_bitrate: BitrateRule | None = None
    video_profile: ChoiceRule | None = None
    square_pixels: PresenceRule | None = None
    edit_list: EditListRule | None = None
    color_space: ChoiceRule | None = None
    exif: PresenceRule | None = None

    def items(self) -> list[tuple[str, Rule]]:
        """(rule id, rule) for the rules that are set, in declaration order."""
        return [(name, r) for name in Rules.model_fields if (r := getattr(self, name)) is not None]


class Alternative(Frozen):
    """A rule group that passes when any one of its options passes entirely."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: Text | None = None
    severity: Severity = "required"
    any_of: tuple[Rules, ...] = Field(min_length=2)

    @model_validator(mode="after")
    def _one_level(self) -> Alternative:
        for option in self.any_of:
            for rule_id, rule in option.items():
                if rule.recommended is not None:
                    raise ValueError(f"{rule_id}: an alternative's option has one level: move the recommended: "
                                     "part to the kind's own rule")
        return self
