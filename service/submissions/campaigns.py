"""Campaigns: what a submitter uploads to. A campaign binds one or more profiles (say a
video profile and a photo profile), a deadline, and whether auto-fix and deep analysis
run. Admins create campaigns as database rows (``mediacheck campaign create``); every
shipped, non-abstract profile also has a default campaign with the same id, so a fresh
install accepts uploads at once."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from service.core.entry_fields import EntryRules
from service.core.errors import ProfileError, RequestError
from service.core.profiles import Profile, ProfileStore
from service.store.database import aware
from service.store.models import Campaign

UPLOAD_HEADROOM = 2.0
"""An upload may be this many times the largest size a campaign's profiles allow, so an
oversized file still gets a report (and an automatic fix) instead of a bare refusal."""

CAMPAIGN_ID = r"^[a-z0-9][a-z0-9-]{0,63}$"
"""What a campaign id looks like (the same alphabet as profile ids)."""


class CampaignRules(BaseModel):
    """A campaign as an upload meets it: its profiles, deadline, size limit, whether auto-fix
    and deep analysis run, and its title; read from its row (``store.models.Campaign``) or,
    for a profile without one, the profile's default campaign (``default``)."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: dict[str, str]
    profiles: tuple[str, ...]
    deadline: datetime | None = None
    autofix: bool = False
    deep: bool = False
    max_upload_bytes: int
    default: bool = False
    entry: EntryRules = EntryRules()
    closed_at: datetime | None = None

    def is_closed(self, now: datetime | None = None) -> bool:
        now = now or datetime.now(UTC)
        return (self.deadline is not None and now > self.deadline) or (
            self.closed_at is not None and now >= self.closed_at)


def upload_limit(profiles: list[Profile], fallback: int) -> int:
    """UPLOAD_HEADROOM × the largest ``file_size.max`` of the profiles' kinds, or ``fallback``
    when some kind has no maximum."""
    maxima: list[int] = []
    for p in profiles:
        for spec in p.kinds.values():
            if spec.file_size is None or spec.file_size.max is None:
                return fallback
            b = spec.file_size.max
            maxima.append(max(b.bytes, b.alt_bytes or 0))
    return min(fallback, int(max(maxima) * UPLOAD_HEADROOM)) if maxima else fallback


def entry_rules(row: Campaign) -> EntryRules:
    """The entry details a campaign row declares (validated when they were saved)."""
    return EntryRules.model_validate(
        {"fields": row.fields or [], "limits": row.limits or [], "file_name_pattern": row.file_name_pattern}
    )


class CampaignBook:
    """Finds campaigns: database rows first, then the default campaign of a profile."""

    def __init__(self, store: ProfileStore, default_limit: int) -> None:
        self.store = store
        self.default_limit = default_limit

    def get(self, session: Session, campaign_id: str) -> CampaignRules:
        row = session.get(Campaign, campaign_id)
        if row is not None:
            profiles = [self.store.get(p) for p in row.profiles]
            return CampaignRules(
                id=row.id,
                title={"zh-CN": row.title_zh, "en": row.title_en},
                profiles=tuple(row.profiles),
                deadline=aware(row.deadline),
                autofix=row.autofix,
                deep=row.deep,
                max_upload_bytes=row.max_upload_bytes or upload_limit(profiles, self.default_limit),
                entry=entry_rules(row),
                closed_at=aware(row.closed_at),
            )
        try:
            profile = self.store.get(campaign_id)
        except ProfileError:
            profile = None
        if profile is None or profile.abstract:
            raise RequestError(
                404,
                "campaign_not_found",
                f"没有编号为 {campaign_id!r} 的活动。",
                f"There is no campaign {campaign_id!r}.",
            )
        return CampaignRules(
            id=profile.id,
            title=profile.title.as_dict(),
            profiles=(profile.id,),
            max_upload_bytes=upload_limit([profile], self.default_limit),
            default=True,
        )

    def all(self, session: Session) -> list[CampaignRules]:
        rows = {r.id for r in session.query(Campaign).all()}
        ids = sorted(rows | set(self.store.ids(include_abstract=False)))
        return [self.get(session, i) for i in ids]

    def profiles(self, campaign: CampaignRules) -> list[Profile]:
        return [self.store.get(p) for p in campaign.profiles]

    def profile_for(self, campaign: CampaignRules, kind: str | None) -> Profile:
        """The campaign's profile for a kind of media (the first profile when none takes it)."""
        profiles = self.profiles(campaign)
        for p in profiles:
            if kind in p.kinds:
                return p
        return profiles[0]

    def kinds(self, campaign: CampaignRules) -> list[str]:
        return sorted({k for p in self.profiles(campaign) for k in p.kinds})


def create_campaign(
    session: Session,
    store: ProfileStore,
    *,
    campaign_id: str,
    profiles: list[str],
    title_zh: str | None = None,
    title_en: str | None = None,
    deadline: datetime | None = None,
    autofix: bool = False,
    deep: bool = False,
    max_upload_bytes: int | None = None,
) -> Campaign:
    """Create or replace a campaign row. Profiles must exist and not be abstract."""
    import re

    if not re.fullmatch(CAMPAIGN_ID, campaign_id):
        raise ValueError(f"invalid campaign id {campaign_id!r} (lower-case letters, digits and '-')")
    if not profiles:
        raise ValueError("a campaign needs at least one profile")
    loaded = [store.get(p) for p in profiles]
    if any(p.abstract for p in loaded):
        raise ValueError("abstract profiles cannot be used by a campaign")
    first = loaded[0]
    row = session.get(Campaign, campaign_id) or Campaign(id=campaign_id)
    row.title_zh = title_zh or first.title.zh
    row.title_en = title_en or first.title.en
    row.profiles = list(profiles)
    row.deadline = deadline.astimezone(UTC) if deadline and deadline.tzinfo else deadline  # SQLite keeps no zone
    row.autofix, row.deep, row.max_upload_bytes = autofix, deep, max_upload_bytes
    session.add(row)
    return row
