"""Organisers change campaigns: the JSON of ``POST /api/campaigns`` and ``PATCH
/api/campaigns/{id}`` (and the organiser pages' forms) checked into a ``CampaignSpec``, saved to
the campaign's row (``save_campaign``), and a row shown back (``campaign_json``). A bad value
is a 422 ``invalid_campaign`` naming where it is, in Chinese and English; a profile pasted as
YAML is refused with the profile loader's line-numbered reason."""

from __future__ import annotations

import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.core.entry_fields import EntryRules, FieldSpec, LimitSpec, Words
from service.core.errors import ProfileError, RequestError
from service.core.profiles import ProfileStore, load_profile
from service.store.database import Database, aware
from service.store.jobs import JobBackend, submit_job
from service.store.models import Campaign, Job, Submission
from service.submissions.campaigns import CAMPAIGN_ID

MAX_PROFILE_YAML = 64 * 1024
"""Largest profile an organiser may paste (characters)."""

DEFAULT_TIMEZONE = "Asia/Shanghai"
"""The time zone of a deadline given without one (the organisers' own)."""


class CampaignSpec(BaseModel):
    """What an organiser may set. On a PATCH every field is optional (only those given change)."""

    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(default=None, pattern=CAMPAIGN_ID)
    title: Words | None = None
    profiles: list[str] | None = Field(default=None, min_length=1, max_length=10)
    deadline: datetime | None = None
    timezone: str = DEFAULT_TIMEZONE
    autofix: bool | None = None
    deep: bool | None = None
    max_upload_bytes: int | None = Field(default=None, ge=1)
    fields: list[FieldSpec] | None = None
    limits: list[LimitSpec] | None = None
    file_name_pattern: str | None = Field(default=None, max_length=300)
    closed: bool | None = None
    profile_yaml: str | None = Field(default=None, max_length=MAX_PROFILE_YAML)
    """A profile pasted as YAML: checked (errors with their line), kept in the data directory and
    bound to the campaign (added to ``profiles``)."""


def invalid_campaign(zh: str, en: str, **extra: Any) -> RequestError:
    return RequestError(422, "invalid_campaign", f"活动设置有误：{zh}", f"Invalid campaign: {en}", **extra)


def parse_spec(data: Any) -> CampaignSpec:
    """The organiser's JSON checked; 422 with every error's place (``errors``) otherwise."""
    if not isinstance(data, dict):
        raise invalid_campaign("应为 JSON 对象。", "expected a JSON object.")
    try:
        return CampaignSpec.model_validate(data)
    except ValidationError as e:
        errors = [{"loc": ".".join(str(p) for p in x["loc"]), "msg": x["msg"]} for x in e.errors()]
        first = errors[0]
        raise invalid_campaign(f"{first['loc']}：{first['msg']}", f"{first['loc']}: {first['msg']}",
                               errors=errors) from None


def _deadline(spec: CampaignSpec) -> datetime | None:
    if spec.deadline is None or spec.deadline.tzinfo is not None:
        return spec.deadline
    try:
        zone = ZoneInfo(spec.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise invalid_campaign(f"未知时区 {spec.timezone!r}。", f"unknown time zone {spec.timezone!r}.") from None
    return spec.deadline.replace(tzinfo=zone)


def _check_profiles(store: ProfileStore, ids: list[str]) -> None:
    for pid in ids:
        try:
            profile = store.get(pid) if re.fullmatch(CAMPAIGN_ID, pid) else None
        except ProfileError as e:
            raise invalid_campaign(f"规格 {pid!r} 无法使用（{e}）。", f"profile {pid!r} cannot be used ({e}).",
                                   field="profiles") from None
        if profile is None or profile.abstract:
            raise invalid_campaign(f"没有可用的规格 {pid!r}。", f"there is no usable profile {pid!r}.",
                                   field="profiles")


def save_pasted_profile(store: ProfileStore, directory: Path, text: str) -> str:
    """Check a pasted profile and keep it as ``<directory>/<id>.yaml``; returns its id. A bad
    one is a 422 ``invalid_profile`` with the line and the reason (the profile loader's); a
    shipped profile's id cannot be taken."""
    import yaml

    try:
        head = yaml.safe_load(text)
    except yaml.YAMLError:  # the loader below says where
        head = {"id": "pasted"}
    pid = head.get("id") if isinstance(head, dict) else None
    if not isinstance(pid, str) or not re.fullmatch(CAMPAIGN_ID, pid):
        pid = None
    directory.mkdir(parents=True, exist_ok=True)
    if pid is not None and any((d / f"{pid}{x}").exists() for d in store.directories if d != directory
                               for x in (".yaml", ".yml")):
        raise RequestError(422, "invalid_profile", f"规格编号 {pid!r} 已被内置规格使用，请换一个。",
                           f"The profile id {pid!r} is taken by a shipped profile; choose another.", line=None)
    if pid is None:
        raise RequestError(422, "invalid_profile", "粘贴的规格有误：缺少有效的编号（id：小写字母、数字、-）。",
                           "The pasted profile is invalid: it needs an id (lower-case letters, digits, -).", line=1)
    work = Path(tempfile.mkdtemp(prefix=".paste-", dir=directory))  # the file must carry the id as its name
    tmp = work / f"{pid}.yaml"
    try:
        tmp.write_text(text, encoding="utf-8")
        profile = load_profile(tmp, store)
        if profile.abstract:
            raise RequestError(422, "invalid_profile", "粘贴的规格是抽象规格，不能直接使用。",
                               "The pasted profile is abstract; it cannot be used by a campaign.", line=None)
        os.replace(tmp, directory / f"{pid}.yaml")
    except ProfileError as e:
        where_zh, where_en = (f"第 {e.line} 行：", f"line {e.line}: ") if e.line else ("", "")
        raise RequestError(422, "invalid_profile", f"粘贴的规格有误：{where_zh}{e.reason}",
                           f"The pasted profile is invalid: {where_en}{e.reason}", line=e.line) from None
    finally:
        tmp.unlink(missing_ok=True)
        work.rmdir()
    return profile.id


def save_campaign(session: Session, store: ProfileStore, spec: CampaignSpec, *, campaign_id: str | None = None,
                  now: datetime | None = None, pasted_dir: Path | None = None) -> Campaign:
    """Create (``campaign_id`` None: the spec's id, which must be new) or change a campaign row;
    a pasted profile is kept in ``pasted_dir``."""
    creating = campaign_id is None
    cid = spec.id if creating else campaign_id
    if not cid:
        raise invalid_campaign("缺少活动编号（id）。", "the campaign id (id) is missing.", field="id")
    if not creating and spec.id not in (None, cid):
        raise invalid_campaign("活动编号不能修改。", "a campaign's id cannot be changed.", field="id")
    row = session.get(Campaign, cid)
    if creating and row is not None:
        raise RequestError(409, "campaign_exists", f"活动 {cid!r} 已存在。", f"Campaign {cid!r} already exists.")
    if not creating and row is None:
        raise RequestError(404, "campaign_not_found", f"没有编号为 {cid!r} 的活动。", f"There is no campaign {cid!r}.")
    if spec.profile_yaml and spec.profile_yaml.strip():
        if pasted_dir is None:
            raise invalid_campaign("此处不能粘贴规格。", "a profile cannot be pasted here.")
        pasted = save_pasted_profile(store, pasted_dir, spec.profile_yaml)
        spec = spec.model_copy(update={"profiles": [*(spec.profiles or (row.profiles if row else [])), pasted]
                                       if pasted not in (spec.profiles or []) else spec.profiles})
    if creating and not spec.profiles:
        raise invalid_campaign("至少需要一个规格（profiles）。", "give at least one profile (profiles).",
                               field="profiles")
    if spec.profiles is not None:
        _check_profiles(store, spec.profiles)
    row = row or Campaign(id=cid, autofix=False, deep=False)
    given = spec.model_fields_set
    if spec.profiles is not None:
        row.profiles = list(spec.profiles)
    if spec.title is not None or creating:
        title = spec.title or Words.model_validate({"zh-CN": store.get(row.profiles[0]).title.zh,
                                                    "en": store.get(row.profiles[0]).title.en})
        row.title_zh, row.title_en = title.zh, title.en or title.zh
    if "deadline" in given:
        deadline = _deadline(spec)
        row.deadline = deadline.astimezone(UTC) if deadline else None  # stored in UTC (SQLite keeps no zone)
    for name in ("autofix", "deep"):
        if getattr(spec, name) is not None:
            setattr(row, name, getattr(spec, name))
    if "max_upload_bytes" in given:
        row.max_upload_bytes = spec.max_upload_bytes
    fields = [f.model_dump(by_alias=True, exclude_none=True) for f in spec.fields] if spec.fields is not None \
        else row.fields
    limits = [x.model_dump() for x in spec.limits] if spec.limits is not None else row.limits
    pattern = spec.file_name_pattern if "file_name_pattern" in given else row.file_name_pattern
    try:
        EntryRules.model_validate({"fields": fields or [], "limits": limits or [], "file_name_pattern": pattern})
    except ValidationError as e:
        msg = e.errors()[0]["msg"]
        raise invalid_campaign(f"报名字段、限额或命名规则不一致：{msg}", f"fields, limits and file-name pattern "
                               f"disagree: {msg}") from None
    row.fields, row.limits, row.file_name_pattern = fields or None, limits or None, pattern or None
    if spec.closed is not None:
        row.closed_at = (now or datetime.now(UTC)) if spec.closed else None
    session.add(row)
    return row


def campaign_json(row: Campaign) -> dict[str, Any]:
    """A campaign row as the organisers' API shows it."""
    deadline, closed_at = aware(row.deadline), aware(row.closed_at)
    now = datetime.now(UTC)
    return {
        "id": row.id,
        "title": {"zh-CN": row.title_zh, "en": row.title_en},
        "profiles": list(row.profiles),
        "deadline": deadline.isoformat() if deadline else None,
        "autofix": bool(row.autofix),
        "deep": bool(row.deep),
        "max_upload_bytes": row.max_upload_bytes,
        "fields": row.fields or [],
        "limits": row.limits or [],
        "file_name_pattern": row.file_name_pattern,
        "closed_at": closed_at.isoformat() if closed_at else None,
        "closed": bool((deadline and now > deadline) or (closed_at and now >= closed_at)),
    }


def start_recheck(db: Database, queue: JobBackend, campaign_id: str) -> str:
    """Queue the ``recheck`` job (workers/recheck.py) of a campaign's kept entries against its
    profiles as they are now; returns the job id (``GET /api/jobs/{id}``: state and progress)."""
    with db.session() as s:
        total = s.scalar(select(func.coalesce(func.sum(Submission.size_bytes), 0)).where(
            Submission.campaign_id == campaign_id, Submission.status != "refused"))
    return submit_job(db, queue, kind="recheck", submission_id=None, params={"campaign_id": campaign_id},
                      size_bytes=int(total or 0))


def recheck_state(session: Session, campaign_id: str) -> dict[str, Any]:
    """What the organiser page says about re-checking: entries judged by a profile the campaign no
    longer binds (``stale``), and the latest re-check job (state, progress), if any."""
    row = session.get(Campaign, campaign_id)
    profiles = set(row.profiles) if row is not None else set()
    stale = session.scalar(select(func.count()).select_from(Submission).where(
        Submission.campaign_id == campaign_id, Submission.status != "refused",
        Submission.profile_id.not_in(profiles or {""})))
    jobs = [j for j in session.scalars(select(Job).where(Job.kind == "recheck").order_by(Job.created_at.desc()))
            if j.params.get("campaign_id") == campaign_id]
    last = jobs[0] if jobs else None
    return {"stale": int(stale or 0),
            "job": {"id": last.id, "state": last.state, "progress": round(100 * (last.progress or 0))}
            if last is not None else None}
