"""Organiser pages, as values for ``pages/templates/organise/*.html``: the campaigns, one
campaign's form (profiles, deadline and its time zone, upload limit, deep analysis, auto-fix,
the entry fields, the per-field limits, the file-name pattern), its overview (numbers and
bars drawn by the template), its keys and its hand-over; and the form read back into the JSON
``POST /api/campaigns`` takes (``data_from_form``), so both paths meet the same checks.
Chinese first, English by ``?lang=en``."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from service.core.entry_fields import FIELD_TYPES
from service.core.labels import RULE_LABELS, VERDICT_LABELS, label
from service.pages import bilingual
from service.review.board_view import layout, other_lang, size_text, with_lang
from service.review.overview import Overview
from service.submissions.campaign_admin import DEFAULT_TIMEZONE

TYPE_NAMES = {"text": ("文字", "Text"), "long_text": ("长文字", "Long text"), "phone": ("电话", "Phone"),
              "email": ("电子邮箱", "E-mail"), "choice": ("选项", "Choice"), "number": ("数字", "Number")}
"""Field types as the form names them."""

TIMEZONES = ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Urumqi", "UTC")
"""Time zones a deadline may be given in on the form."""

BLANK_FIELD_ROWS = 3
BLANK_LIMIT_ROWS = 2

_CHOICE_SPLIT = re.compile(r"[,，、;；\n]+")


def _tr(lang: str, zh: str, en: str) -> str:
    return bilingual(lang, zh, en)


def campaigns_view(items: list[dict[str, Any]], lang: str, who: str) -> dict[str, Any]:
    """``items``: campaign_json of the campaigns the admin key covers."""
    key = "en" if lang == "en" else "zh-CN"
    rows = [{"id": c["id"], "title": c["title"].get(key) or c["id"], "closed": c["closed"],
             "deadline": _local_text(c["deadline"], DEFAULT_TIMEZONE), "fields": len(c["fields"]),
             "href": with_lang(f"/organise/c/{c['id']}", lang), "board": with_lang(f"/review/c/{c['id']}", lang)}
            for c in items]
    return layout(_tr(lang, "组织者：活动", "Organiser: campaigns"), lang,
                  switch=with_lang("/organise/", other_lang(lang))) | {
        "campaigns": rows, "who": who, "new_href": with_lang("/organise/new", lang)}


def _local_text(iso: str | None, zone: str) -> str:
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


def form_view(lang: str, *, profiles: list[tuple[str, str]], campaign: dict[str, Any] | None = None,
              error: str | None = None, form: dict[str, list[str]] | None = None,
              drafted: bool = False) -> dict[str, Any]:
    """The campaign form: ``campaign`` (campaign_json) to edit one, None for a new one; after a
    refused post, ``form`` keeps what was typed and ``error`` says why."""
    c = campaign or {}
    fields = list(c.get("fields") or [])
    limits = list(c.get("limits") or [])
    field_rows = [{"key": f["key"], "zh": f["label"]["zh-CN"], "en": f["label"].get("en", ""), "type": f["type"],
                   "required": f.get("required", False), "max": f.get("max_length") or "",
                   "pattern": f.get("pattern") or "", "choices": "、".join(f.get("choices") or [])} for f in fields]
    field_rows += [{"key": "", "zh": "", "en": "", "type": "text", "required": False, "max": "", "pattern": "",
                    "choices": ""} for _ in range(BLANK_FIELD_ROWS)]
    limit_rows = [{"field": x["field"], "max": x["max_entries"]} for x in limits]
    limit_rows += [{"field": "", "max": ""} for _ in range(BLANK_LIMIT_ROWS)]
    if form:  # a refused post: show what was typed
        first = {k: v[0] for k, v in form.items()}
        for i, row in enumerate(field_rows):
            for name in ("key", "zh", "en", "type", "max", "pattern", "choices"):
                row[name] = first.get(f"f{i}_{name}", row[name])
            row["required"] = f"f{i}_required" in first
        for i, lrow in enumerate(limit_rows):
            lrow["field"], lrow["max"] = first.get(f"l{i}_field", ""), first.get(f"l{i}_max", "")
    chosen = set(form.get("profiles", [])) if form else set(c.get("profiles") or [])
    tz = (form or {}).get("timezone", [DEFAULT_TIMEZONE])[0]
    cid = c.get("id")
    title = _tr(lang, "修改活动", "Edit campaign") if cid else _tr(lang, "新建活动", "New campaign")
    value = (lambda name, default="": (form or {}).get(name, [default])[0])  # noqa: E731
    return layout(title, lang, switch=with_lang(f"/organise/c/{cid}" if cid else "/organise/new",
                                                other_lang(lang))) | {
        "heading": (c["title"].get("en" if lang == "en" else "zh-CN") or cid) if cid else title,
        "campaign_id": cid, "error": error,
        "action": f"/organise/c/{cid}" if cid else "/organise/new",
        "id_value": value("id", cid or ""),
        "title_zh": value("title_zh", c.get("title", {}).get("zh-CN", "")),
        "title_en": value("title_en", c.get("title", {}).get("en", "")),
        "profiles": [(pid, name, pid in chosen) for pid, name in profiles],
        "deadline": value("deadline", _local_text(c.get("deadline"), tz).replace(" ", "T")),
        "timezones": [(z, z == tz) for z in TIMEZONES],
        "max_upload_mb": value("max_upload_mb", str(round(c["max_upload_bytes"] / 2**20))
                               if c.get("max_upload_bytes") else ""),
        "deep": bool(form.get("deep")) if form else bool(c.get("deep")),
        "autofix": bool(form.get("autofix")) if form else bool(c.get("autofix")),
        "field_rows": field_rows, "limit_rows": limit_rows,
        "types": [(t, _tr(lang, *TYPE_NAMES[t])) for t in FIELD_TYPES],
        "file_name_pattern": value("file_name_pattern", c.get("file_name_pattern") or ""),
        "profile_yaml": value("profile_yaml"), "notice_text": value("notice_text"), "drafted": drafted,
        "closed": bool(c.get("closed")), "back_href": with_lang("/organise/", lang),
        "overview": None, "new_key": None,
    }


def data_from_form(form: dict[str, list[str]], *, creating: bool) -> dict[str, Any]:
    """The form as the JSON of ``POST /api/campaigns`` (``PATCH`` when not ``creating``)."""
    first = {k: v[0].strip() for k, v in form.items() if v}
    data: dict[str, Any] = {
        "title": {"zh-CN": first.get("title_zh", ""), "en": first.get("title_en", "")},
        "profiles": [p for p in form.get("profiles", []) if p],
        "timezone": first.get("timezone") or DEFAULT_TIMEZONE,
        "deadline": first.get("deadline") or None,
        "deep": "deep" in first, "autofix": "autofix" in first,
        "file_name_pattern": first.get("file_name_pattern") or None,
    }
    if not data["profiles"]:
        data.pop("profiles")  # a pasted profile may be the only one; none at all is refused when saving
    if first.get("profile_yaml"):
        data["profile_yaml"] = form["profile_yaml"][0]
    if creating:
        data["id"] = first.get("id", "")
    if not data["title"]["zh-CN"]:
        data.pop("title")
    mb = first.get("max_upload_mb", "")
    data["max_upload_bytes"] = int(float(mb) * 2**20) if re.fullmatch(r"[0-9]+(\.[0-9]+)?", mb) else None
    fields = []
    i = 0
    while f"f{i}_key" in first or f"f{i}_zh" in first:
        key = first.get(f"f{i}_key", "")
        if key or first.get(f"f{i}_zh"):
            f: dict[str, Any] = {"key": key, "label": {"zh-CN": first.get(f"f{i}_zh", ""),
                                                        "en": first.get(f"f{i}_en", "")},
                                 "type": first.get(f"f{i}_type", "text"), "required": f"f{i}_required" in first}
            if first.get(f"f{i}_max", "").isdigit():
                f["max_length"] = int(first[f"f{i}_max"])
            if first.get(f"f{i}_pattern"):
                f["pattern"] = first[f"f{i}_pattern"]
            choices = [x.strip() for x in _CHOICE_SPLIT.split(first.get(f"f{i}_choices", "")) if x.strip()]
            if choices:
                f["choices"] = choices
            fields.append(f)
        i += 1
    data["fields"] = fields
    limits = []
    i = 0
    while f"l{i}_field" in first or f"l{i}_max" in first:
        if first.get(f"l{i}_field") and first.get(f"l{i}_max", "").isdigit():
            limits.append({"field": first[f"l{i}_field"], "max_entries": int(first[f"l{i}_max"])})
        i += 1
    data["limits"] = limits
    return data


def overview_view(ov: Overview, lang: str) -> dict[str, Any]:
    """Numbers, and bars as percentages of the largest (the template draws them in SVG and CSS)."""
    top_day = max((n for _, n in ov.per_day), default=0) or 1
    top_rule = max((n for _, n in ov.failed_rules), default=0) or 1
    verdicts = [(v, label(VERDICT_LABELS, v, lang) if v in VERDICT_LABELS else _tr(lang, "检查中", "checking"),
                 ov.per_verdict.get(v, 0)) for v in [*VERDICT_LABELS, "pending"] if ov.per_verdict.get(v)]
    return {
        "entries": ov.entries, "fixed": ov.fixed, "storage": size_text(ov.storage_bytes),
        "jobs": [(s, ov.jobs.get(s, 0)) for s in ("queued", "started", "failed")],
        "days": [{"day": d.isoformat(), "n": n, "height": round(96 * n / top_day)} for d, n in ov.per_day[-31:]],
        "verdicts": [{"verdict": v, "name": name, "n": n, "pct": round(100 * n / max(ov.entries, 1))}
                     for v, name, n in verdicts],
        "rules": [{"rule": r, "name": label(RULE_LABELS, r, lang), "n": n, "pct": round(100 * n / top_rule)}
                  for r, n in ov.failed_rules],
    }


def keys_view(keys: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """The keys (key_json) as the page lists them."""
    role = {"reviewer": _tr(lang, "评审", "Reviewer"), "admin": _tr(lang, "管理员", "Admin")}
    return [k | {"role_text": role.get(k["role"], k["role"]), "scope": "、".join(k["campaigns"]),
                 "created": (k["created_at"] or "")[:16].replace("T", " ")} for k in keys]
