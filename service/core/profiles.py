"""Campaign profiles: versioned YAML data validated into frozen models. A profile that
cannot be loaded raises ProfileError with the file, the line and the reason.

The language is documented in docs/profiles.md. In short::

    id: shanxi-2023-microvideo
    version: "2023.1"
    title: {zh-CN: …, en: …}
    extends: base-video          # optional: deep-merged under this file
    size_unit: binary            # how 兆 and a bare M are read: binary (default) or decimal
    kinds:
      video:
        container: {allowed: [mp4]}
        duration: {min: 2min, max: 5min}
        file_size: {min: 100兆, max: 300兆}
        alternatives:
          - id: size_or_pixels
            any_of: [{file_size: {min: 5MB}}, {resolution: {min_long_edge: 3000}}]
        content:                 # deep analysis thresholds (docs/content-analysis.md)
          borders: {full_frame: true}
          black_segments: {max_opening: 3s}
    filename: {pattern: '^[^-]+-[^-]+-[^-]+\\.mp4$', example: 作品名-作者-单位.mp4}
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from service.core import units
from service.core.errors import ProfileError

Severity = Literal["required", "recommended"]
KindName = Literal["video", "image", "audio"]

PROFILE_SUFFIXES = (".yaml", ".yml")
"""File endings a profile may have."""

_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML was built with it (parses ~10x faster), else the Python one."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Text(_Frozen):
    """Bilingual text: Simplified Chinese first, English available."""

    zh: str = Field(alias="zh-CN")
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang.startswith("en") else self.zh

    def as_dict(self) -> dict[str, str]:
        return {"zh-CN": self.zh, "en": self.en}


class SizeBound(_Frozen):
    text: str
    bytes: int
    alt_bytes: int | None = None


def _size(v: Any, info: ValidationInfo) -> Any:
    if isinstance(v, dict | SizeBound):
        return v
    if isinstance(v, int | float) and not isinstance(v, bool):
        raise ValueError(f"write a unit with the size {v}: e.g. {v}MB (decimal), {v}MiB (binary) or {v}兆")
    reading = (info.context or {}).get("size_unit", "binary")
    s = units.parse_size(str(v), reading)
    return {"text": s.text, "bytes": s.bytes, "alt_bytes": s.alt_bytes}


def _duration(v: Any) -> Any:
    return units.parse_duration(v) if isinstance(v, str) else v


def _ratio(v: Any) -> Any:
    if isinstance(v, dict):
        return v
    r = units.parse_ratio(v if isinstance(v, str) else float(v))
    return {"text": r.text, "value": r.value}


def _resolution(v: Any) -> Any:
    if isinstance(v, dict):
        return v
    r = units.parse_resolution(v)
    return {"text": r.text, "long_edge": r.long_edge, "short_edge": r.short_edge}


def _frame_rate(v: Any) -> Any:
    return float(units.parse_frame_rate(v)) if isinstance(v, str) else v


def _bitrate(v: Any) -> Any:
    return units.parse_bitrate(v) if isinstance(v, str) else v


SizeValue = Annotated[SizeBound, BeforeValidator(_size)]
Seconds = Annotated[float, Field(ge=0), BeforeValidator(_duration)]
FrameRate = Annotated[float, Field(gt=0), BeforeValidator(_frame_rate)]
Bitrate = Annotated[int, Field(gt=0), BeforeValidator(_bitrate)]


class RatioValue(_Frozen):
    text: str
    value: float


class ResolutionValue(_Frozen):
    text: str
    long_edge: int | None = None
    short_edge: int


Ratio = Annotated[RatioValue, BeforeValidator(_ratio)]
ResolutionBound = Annotated[ResolutionValue, BeforeValidator(_resolution)]


class Rule(_Frozen):
    """Common to every rule: required (fail) or recommended (warn), and why it is there."""

    severity: Severity = "required"
    note: Text | None = None


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


class Rules(_Frozen):
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


class Alternative(_Frozen):
    """A rule group that passes when any one of its options passes entirely."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: Text | None = None
    severity: Severity = "required"
    any_of: tuple[Rules, ...] = Field(min_length=2)


# ------------------------------------------------------ content (deep analysis)


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


class ContentRules(_Frozen):
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


PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
"""x264 presets a profile may choose for the fixer."""


class FixSpec(_Frozen):
    """How the auto-fixer makes a failing entry pass (docs/fixing.md). Optional, every key
    has a default; rules say what must hold, this section says how to get there."""

    auto: bool = Field(False, description="fix automatically after a failing upload")
    target_resolution: ResolutionBound | None = Field(
        None, description="frame to produce when re-encoding (oriented like the output)")
    fit: Literal["pad", "crop"] = Field("pad", description="aspect change: pad with black bars, or crop")
    upscale_allowed: bool | None = Field(None, description="default: the resolution rule's upscale_allowed")
    loudnorm: bool = Field(False, description="EBU R128 loudness normalisation (two-pass loudnorm)")
    loudness: float = Field(-23.0, ge=-70, le=-5, description="integrated loudness target, LUFS")
    true_peak: float = Field(-1.0, ge=-9, le=0, description="true-peak ceiling, dBTP")
    loudness_range: float = Field(7.0, ge=1, le=20, description="loudness range target, LU")
    size_target: float = Field(0.5, gt=0, lt=1, description="where to aim inside the size window (0.5 = middle)")
    rate_control: Literal["cbr", "two_pass"] = Field(
        "cbr", description="when the size window has a minimum: CBR with filler, or two-pass")
    preset: str = Field("fast", description="x264 preset")
    crf: int = Field(20, ge=0, le=51, description="x264 quality when no size window applies")
    audio_bitrate: Bitrate = Field(160_000, description="AAC-LC bitrate when audio is encoded")
    jpeg_quality: int = Field(90, ge=30, le=100, description="JPEG quality of converted photos")
    max_long_edge: int | None = Field(None, gt=0, description="photos: downscale above this long edge")

    @field_validator("preset")
    @classmethod
    def _preset(cls, v: str) -> str:
        if v not in PRESETS:
            raise ValueError(f"unknown x264 preset {v!r} (one of {', '.join(PRESETS)})")
        return v


class KindSpec(Rules):
    alternatives: tuple[Alternative, ...] = ()
    content: ContentRules | None = Field(None, description="deep-analysis thresholds, docs/content-analysis.md")


    fix: FixSpec | None = None


class Source(_Frozen):
    notice: str
    quote: str | None = None
    url: str | None = None


class Profile(_Frozen):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    version: str
    title: Text
    description: Text | None = None
    source: Source | None = None
    extends: str | None = None
    abstract: bool = Field(False, description="a base to extend, not a campaign's profile")
    size_unit: Literal["binary", "decimal"] = "binary"
    kinds: dict[KindName, KindSpec] = Field(min_length=1)
    filename: FilenameRule | None = None
    decisions: tuple[Text, ...] = Field((), description="choices made where the notice is silent")

    @field_validator("version", mode="before")
    @classmethod
    def _version_str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int | float) else v


# ---------------------------------------------------------------- loading


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the deepest YAML node on ``loc`` (pydantic's error location)."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == str(key)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            nxt = node.value[key]
        else:
            nxt = None
        if nxt is None:
            break
        node = nxt
        line = node.start_mark.line + 1
    return line


def _read_yaml(path: Path) -> tuple[dict[str, Any], yaml.Node | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError("profile file not found", file=str(path)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ProfileError(f"cannot read profile: {e}", file=str(path)) from None
    try:
        node = yaml.compose(text, Loader=_YamlLoader)
        data = yaml.load(text, Loader=_YamlLoader)  # a safe loader, C or Python
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ProfileError(f"invalid YAML: {getattr(e, 'problem', e)}", file=str(path),
                           line=mark.line + 1 if mark else None) from None
    if not isinstance(data, dict):
        raise ProfileError("a profile is a YAML mapping", file=str(path), line=1)
    return data, node


class ProfileStore:
    """Profiles found in one directory, by id (the file name without its ending)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self._cache: dict[str, Profile] = {}

    def path_of(self, profile_id: str) -> Path:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", profile_id):
            raise ProfileError(f"invalid profile id {profile_id!r}")
        for suffix in PROFILE_SUFFIXES:
            p = self.directory / f"{profile_id}{suffix}"
            if p.exists():
                return p
        known = ", ".join(self.ids()) or "none"
        raise ProfileError(f"unknown profile {profile_id!r} (known: {known})")

    def ids(self, *, include_abstract: bool = True) -> list[str]:
        found = sorted({p.stem for p in self.directory.glob("*") if p.suffix in PROFILE_SUFFIXES})
        if include_abstract:
            return found
        return [i for i in found if not self.get(i).abstract]

    def get(self, profile_id: str) -> Profile:
        if profile_id not in self._cache:
            self._cache[profile_id] = load_profile(self.path_of(profile_id), self)
        return self._cache[profile_id]

    def raw(self, profile_id: str, _seen: tuple[str, ...] = ()) -> dict[str, Any]:
        """The merged mapping of a profile and its ``extends`` chain."""
        if profile_id in _seen:
            raise ProfileError(f"extends cycle: {' → '.join((*_seen, profile_id))}")
        data, _ = _read_yaml(self.path_of(profile_id))
        parent = data.get("extends")
        if parent:
            base = {k: v for k, v in self.raw(parent, (*_seen, profile_id)).items()
                    if k not in ("id", "abstract", "extends")}
            data = _deep_merge(base, data)
        return data


def load_profile(path: str | Path, store: ProfileStore | None = None) -> Profile:
    """Load and validate one profile file; ``extends`` is resolved in ``store`` (by default
    the directory the file is in)."""
    path = Path(path)
    data, node = _read_yaml(path)
    parent = data.get("extends")
    if parent:
        store = store or ProfileStore(path.parent)
        if not isinstance(parent, str):
            raise ProfileError("extends names one profile id", file=str(path), line=_line_of(node, ("extends",)))
        try:
            base = store.raw(parent, (str(data.get("id", path.stem)),))
        except ProfileError as e:
            raise ProfileError(f"extends {parent!r}: {e.reason}", file=str(path),
                               line=_line_of(node, ("extends",))) from None
        base = {k: v for k, v in base.items() if k not in ("id", "abstract", "extends")}
        data = _deep_merge(base, data)
    size_unit = data.get("size_unit", "binary")
    try:
        profile = Profile.model_validate(data, context={"size_unit": size_unit})
    except ValidationError as e:
        err = e.errors()[0]
        loc = tuple(err["loc"])
        where = ".".join(str(x) for x in loc) or "(top level)"
        raise ProfileError(f"{where}: {err['msg']}", file=str(path), line=_line_of(node, loc)) from None
    if profile.id != path.stem:
        raise ProfileError(f"id {profile.id!r} does not match the file name {path.stem!r}", file=str(path),
                           line=_line_of(node, ("id",)))
    return profile
