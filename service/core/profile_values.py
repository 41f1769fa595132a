"""The values a profile's YAML holds, validated into frozen pydantic types: bilingual
``Text`` and the quantities notices are written in (sizes, read under the profile's
``size_unit``; durations, ratios, resolutions, frame rates, bitrates), each parsed by
service/core/units.py, whose ``ValueError`` the loader (service/core/profile_yaml.py) turns
into a file:line error. The rule models (rules.py, content_rules.py, fix_spec.py) are built
from these."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo

from service.core import units


class Frozen(BaseModel):
    """The base of every profile model: immutable, unknown keys refused, aliases accepted."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Text(Frozen):
    """Bilingual text: Simplified Chinese first, English available."""

    zh: str = Field(alias="zh-CN")
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang.startswith("en") else self.zh

    def as_dict(self) -> dict[str, str]:
        return {"zh-CN": self.zh, "en": self.en}


class SizeBound(Frozen):
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


class RatioValue(Frozen):
    text: str
    value: float


class ResolutionValue(Frozen):
    text: str
    long_edge: int | None = None
    short_edge: int


Ratio = Annotated[RatioValue, BeforeValidator(_ratio)]
ResolutionBound = Annotated[ResolutionValue, BeforeValidator(_resolution)]
