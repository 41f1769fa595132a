"""Campaign profiles: the ``Profile`` model (its kinds, each a ``KindSpec``), ``load_profile``
for one file and ``ProfileStore`` for a directory of them, by id. A profile that cannot be
loaded raises ProfileError with the file, the line and the reason (service/core/profile_yaml.py).

What a profile is made of lives beside it: the rules of a kind (rules.py), the deep-analysis
thresholds (content_rules.py), the fixer's section (fix_spec.py), the values and quantities
(profile_values.py).

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
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from service.core.content_rules import ContentRules
from service.core.errors import ProfileError
from service.core.fix_spec import FixSpec
from service.core.profile_values import Frozen, Text
from service.core.profile_yaml import deep_merge, invalid, line_of, read_yaml
from service.core.rules import Alternative, FilenameRule, Rules

KindName = Literal["video", "image", "audio"]

PROFILE_SUFFIXES = (".yaml", ".yml")
"""File endings a profile may have."""


class KindSpec(Rules):
    """The rules of one kind of media, its alternatives, its content thresholds and its fix section."""

    alternatives: tuple[Alternative, ...] = ()
    content: ContentRules | None = Field(None, description="deep-analysis thresholds, docs/content-analysis.md")
    fix: FixSpec | None = None
    filename: FilenameRule | None = Field(None, description="this kind's file-name rule (replaces the profile's)")
    manual: tuple[Text, ...] = Field((), description="what a person checks for this kind (never reported as passed)")


class Source(Frozen):
    notice: str
    quote: str | None = None
    url: str | None = None


class Profile(Frozen):
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
    manual: tuple[Text, ...] = Field(
        (), description="requirements a machine cannot check (片头/片尾, narration …): shown, listed, never passed")

    def manual_items(self, kind: str | None = None) -> list[Text]:
        """The profile's ``manual:`` items, then those of ``kind`` (of every kind when None)."""
        kinds = [self.kinds[kind]] if kind in self.kinds else list(self.kinds.values()) if kind is None else []  # type: ignore[index]
        return [*self.manual, *(item for spec in kinds for item in spec.manual)]

    @field_validator("version", mode="before")
    @classmethod
    def _version_str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int | float) else v


class ProfileStore:
    """Profiles found in a directory, by id (the file name without its ending); ``more``
    directories are searched after it (the profiles organisers pasted, kept in the data
    directory). A profile file changed on disk is read again."""

    def __init__(self, directory: str | Path, *more: str | Path) -> None:
        self.directory = Path(directory)
        self.directories = (self.directory, *(Path(d) for d in more))
        self._cache: dict[str, tuple[float, Profile]] = {}

    def path_of(self, profile_id: str) -> Path:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", profile_id):
            raise ProfileError(f"invalid profile id {profile_id!r}")
        for d in self.directories:
            for suffix in PROFILE_SUFFIXES:
                p = d / f"{profile_id}{suffix}"
                if p.exists():
                    return p
        known = ", ".join(self.ids()) or "none"
        raise ProfileError(f"unknown profile {profile_id!r} (known: {known})")

    def ids(self, *, include_abstract: bool = True) -> list[str]:
        found = sorted({p.stem for d in self.directories for p in d.glob("*") if p.suffix in PROFILE_SUFFIXES})
        if include_abstract:
            return found
        return [i for i in found if not self.get(i).abstract]

    def get(self, profile_id: str) -> Profile:
        path = self.path_of(profile_id)
        mtime = path.stat().st_mtime
        cached = self._cache.get(profile_id)
        if cached is None or cached[0] != mtime:
            cached = (mtime, load_profile(path, self))
            self._cache[profile_id] = cached
        return cached[1]

    def raw(self, profile_id: str, _seen: tuple[str, ...] = ()) -> dict[str, Any]:
        """The merged mapping of a profile and its ``extends`` chain."""
        if profile_id in _seen:
            raise ProfileError(f"extends cycle: {' → '.join((*_seen, profile_id))}")
        data, _ = read_yaml(self.path_of(profile_id))
        parent = data.get("extends")
        if parent:
            base = {k: v for k, v in self.raw(parent, (*_seen, profile_id)).items()
                    if k not in ("id", "abstract", "extends")}
            data = deep_merge(base, data)
        return data


def load_profile(path: str | Path, store: ProfileStore | None = None) -> Profile:
    """Load and validate one profile file; ``extends`` is resolved in ``store`` (by default
    the directory the file is in)."""
    path = Path(path)
    data, node = read_yaml(path)
    parent = data.get("extends")
    if parent:
        store = store or ProfileStore(path.parent)
        if not isinstance(parent, str):
            raise ProfileError("extends names one profile id", file=str(path), line=line_of(node, ("extends",)))
        try:
            base = store.raw(parent, (str(data.get("id", path.stem)),))
        except ProfileError as e:
            raise ProfileError(f"extends {parent!r}: {e.reason}", file=str(path),
                               line=line_of(node, ("extends",))) from None
        base = {k: v for k, v in base.items() if k not in ("id", "abstract", "extends")}
        data = deep_merge(base, data)
    size_unit = data.get("size_unit", "binary")
    try:
        profile = Profile.model_validate(data, context={"size_unit": size_unit})
    except ValidationError as e:
        raise invalid(e, path, node) from None
    if profile.id != path.stem:
        raise ProfileError(f"id {profile.id!r} does not match the file name {path.stem!r}", file=str(path),
                           line=line_of(node, ("id",)))
    return profile
