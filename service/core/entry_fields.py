"""The entry details a campaign collects with each upload (title, author, phone …): what a
field may say (``FieldSpec``), the per-field limits from a notice (``LimitSpec``: at most N
entries per value), the values a submitter gives checked and folded (``parse_details``), the
value two entries are compared by (``fold``: NFKC full-width/half-width, trimmed, case and
inner spaces ignored), and the file-name pattern built from fields (``expected_stem``).
Pure: JSON-like data in, data or a ``RequestError`` (422 ``invalid_details``) out. Details are
personal data: nothing here logs them."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from service.core.errors import RequestError

FIELD_TYPES = ("text", "long_text", "phone", "email", "choice", "number")
"""The kinds of entry field an organiser may declare."""

DEFAULT_MAX_LENGTH = {"text": 100, "long_text": 2000, "phone": 30, "email": 254, "choice": 100, "number": 30}
"""Longest value (characters) of a field that declares no ``max_length``."""

MAX_FIELDS = 30
"""Most fields a campaign may declare."""

MAX_DETAILS_BYTES = 32 * 1024
"""Largest details JSON an upload may carry (bytes)."""

SEQUENCE = "序号"
"""The placeholder a name pattern uses for an entry's running number (hand-over names)."""

_KEY = r"^[A-Za-z0-9_\u3400-\u9fff-]{1,40}$"
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{4,28}[0-9]$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


class Words(BaseModel):
    """A text in Chinese and English (English falls back to Chinese)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")
    zh: str = Field(alias="zh-CN", min_length=1, max_length=200)
    en: str = Field(default="", max_length=200)

    def as_dict(self) -> dict[str, str]:
        return {"zh-CN": self.zh, "en": self.en or self.zh}


class FieldSpec(BaseModel):
    """One entry field: its key (what the API and the name pattern use), its label, its type
    and the rules a value must meet."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    key: str = Field(pattern=_KEY)
    label: Words
    type: Literal["text", "long_text", "phone", "email", "choice", "number"] = "text"
    required: bool = False
    max_length: int | None = Field(default=None, ge=1, le=10000)
    pattern: str | None = Field(default=None, max_length=300)
    help: Words | None = None
    choices: tuple[str, ...] | None = None

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as e:
                raise ValueError(f"pattern is not a regular expression: {e}") from None
        return v

    @model_validator(mode="after")
    def _choices(self) -> FieldSpec:
        if self.type == "choice" and not self.choices:
            raise ValueError(f"field {self.key!r}: a choice field needs choices")
        return self

    @property
    def limit(self) -> int:
        return self.max_length or DEFAULT_MAX_LENGTH[self.type]


class LimitSpec(BaseModel):
    """At most ``max_entries`` entries per value of ``field`` (values compared folded)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    field: str
    max_entries: int = Field(ge=1, le=100000)


class EntryRules(BaseModel):
    """A campaign's fields, limits and file-name pattern, checked against each other."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    fields: tuple[FieldSpec, ...] = ()
    limits: tuple[LimitSpec, ...] = ()
    file_name_pattern: str | None = Field(default=None, max_length=300)

    @model_validator(mode="after")
    def _consistent(self) -> EntryRules:
        keys = [f.key for f in self.fields]
        if len(keys) > MAX_FIELDS:
            raise ValueError(f"at most {MAX_FIELDS} fields")
        if len(set(keys)) != len(keys):
            raise ValueError("two fields have the same key")
        for lim in self.limits:
            if lim.field not in keys:
                raise ValueError(f"limit names an unknown field {lim.field!r}")
        if self.file_name_pattern:
            for name in _PLACEHOLDER.findall(self.file_name_pattern):
                if self.field_named(name) is None:
                    raise ValueError(f"file_name_pattern names an unknown field {{{name}}}")
        return self

    def field_named(self, name: str) -> FieldSpec | None:
        """The field a placeholder names: by key, or by its Chinese or English label."""
        return next((f for f in self.fields if name in (f.key, f.label.zh, f.label.en)), None)


def fold(value: str) -> str:
    """The value entries are compared by: NFKC (full-width letters and digits become
    half-width), trimmed, inner runs of spaces removed, case ignored."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value)).casefold()


def invalid(key: str | None, zh: str, en: str) -> RequestError:
    """The 422 an upload gets for a missing or bad value (``field``: the field's key)."""
    return RequestError(422, "invalid_details", f"报名信息有误：{zh}", f"Invalid entry details: {en}", field=key)


def decode_details(raw: str | bytes | None) -> dict[str, Any]:
    """The details object from its JSON text (absent → empty)."""
    if raw is None or (isinstance(raw, (str, bytes)) and not raw.strip()):
        return {}
    if len(raw) > MAX_DETAILS_BYTES:
        raise invalid(None, "内容过长。", "too long.")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise invalid(None, "不是有效的 JSON。", "not valid JSON.") from None
    if not isinstance(data, dict):
        raise invalid(None, "应为 JSON 对象（字段 → 值）。", "expected a JSON object (field → value).")
    return data


def _clean(spec: FieldSpec, value: Any) -> str:
    name_zh, name_en = spec.label.zh, spec.label.en or spec.label.zh
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise invalid(spec.key, f"“{name_zh}”应为文字。", f"'{name_en}' must be text.")
    text = unicodedata.normalize("NFC", str(value)).strip()
    if spec.type in ("phone", "email", "number"):
        text = unicodedata.normalize("NFKC", text).strip()
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs") and c not in "\n\t" for c in text) or (
        "\n" in text and spec.type != "long_text"
    ):
        raise invalid(spec.key, f"“{name_zh}”含有控制字符或换行。", f"'{name_en}' contains control characters.")
    if len(text) > spec.limit:
        raise invalid(spec.key, f"“{name_zh}”不能超过 {spec.limit} 个字。",
                      f"'{name_en}' is longer than {spec.limit} characters.")
    if not text:
        return text
    bad = {
        "phone": not _PHONE.match(text),
        "email": not _EMAIL.match(text),
        "number": not _NUMBER.match(text),
        "choice": spec.choices is not None and text not in spec.choices,
    }.get(spec.type, False)
    if bad:
        what = {"phone": ("电话号码", "a phone number"), "email": ("电子邮箱地址", "an e-mail address"),
                "number": ("数字", "a number"), "choice": ("给定选项之一", "one of the given choices")}[spec.type]
        raise invalid(spec.key, f"“{name_zh}”应为{what[0]}。", f"'{name_en}' must be {what[1]}.")
    if spec.pattern and not re.fullmatch(spec.pattern, text):
        raise invalid(spec.key, f"“{name_zh}”的格式不符合要求。", f"'{name_en}' does not have the required form.")
    return text


def parse_details(rules: EntryRules, data: dict[str, Any]) -> dict[str, str]:
    """The checked values (trimmed, NFC; phone, e-mail and number also half-width) of every
    declared field; a 422 names the first field that is missing, bad, or not declared."""
    known = {f.key for f in rules.fields}
    for k in data:
        if k not in known:
            name = str(k)[:40]
            raise invalid(name, f"本活动没有字段 “{name}”。", f"this campaign has no field {name!r}.")
    out: dict[str, str] = {}
    for spec in rules.fields:
        value = _clean(spec, data[spec.key]) if data.get(spec.key) is not None else ""
        if not value and spec.required:
            raise invalid(spec.key, f"请填写“{spec.label.zh}”。", f"'{spec.label.en or spec.label.zh}' is required.")
        if value:
            out[spec.key] = value
    return out


def render_pattern(rules: EntryRules, pattern: str, details: dict[str, str], extra: dict[str, str] | None = None
                   ) -> str:
    """The pattern with each ``{field}`` replaced by the entry's value (``extra`` first: ``序号``)."""

    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        if extra and name in extra:
            return extra[name]
        spec = rules.field_named(name)
        return details.get(spec.key, "") if spec is not None else ""

    return _PLACEHOLDER.sub(value, pattern)


def expected_stem(rules: EntryRules, details: dict[str, str]) -> str | None:
    """The file name (without extension) the campaign's pattern asks for, or None without one."""
    if not rules.file_name_pattern:
        return None
    return render_pattern(rules, rules.file_name_pattern, details)


def check_file_name(rules: EntryRules, details: dict[str, str], file_name: str) -> None:
    """422 ``file_name_mismatch`` unless the name's stem matches the pattern (compared folded)."""
    stem = expected_stem(rules, details)
    if stem is None:
        return
    have = file_name.rsplit(".", 1)[0] if "." in file_name else file_name
    if fold(have) != fold(stem):
        raise RequestError(422, "file_name_mismatch", f"文件名应为“{stem}”加扩展名（按活动的命名规则）。",
                           f"The file must be named '{stem}' plus its extension (the campaign's naming rule).",
                           expected=stem)


def check_limits(rules: EntryRules, details: dict[str, str], earlier: list[dict[str, Any]]) -> None:
    """409 ``entry_limit`` when this entry would pass a per-field limit, given the details of
    the campaign's ``earlier`` entries (values compared folded)."""
    for lim in rules.limits:
        value = details.get(lim.field)
        if not value:
            continue
        mine = fold(value)
        count = sum(1 for d in earlier if isinstance(d, dict) and fold(str(d.get(lim.field) or "")) == mine)
        if count >= lim.max_entries:
            spec = rules.field_named(lim.field)
            zh = spec.label.zh if spec else lim.field
            en = (spec.label.en or spec.label.zh) if spec else lim.field
            raise RequestError(409, "entry_limit",
                               f"同一“{zh}”最多报送 {lim.max_entries} 件，“{value}”已报送 {count} 件。",
                               f"At most {lim.max_entries} entries per '{en}'; '{value}' already has {count}.",
                               field=lim.field, max_entries=lim.max_entries)


def labelled(rules: EntryRules, details: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The entry's values with their fields' labels, in the campaign's order (pages show these;
    values of fields the campaign no longer declares follow under their keys)."""
    d = details or {}
    out = [{"key": f.key, "label": f.label.as_dict(), "value": str(d[f.key])} for f in rules.fields if d.get(f.key)]
    known = {f.key for f in rules.fields}
    out += [{"key": k, "label": {"zh-CN": k, "en": k}, "value": str(v)} for k, v in d.items() if k not in known and v]
    return out
