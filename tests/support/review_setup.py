"""The reviewer tests' campaign: six small entries (tests/support/scenes.py, ``SMALL``) uploaded through the
API to a campaign with deep analysis on, analysed by the real deep job, plus keys."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import select

from service.store.models import Job
from service.submissions.access import create_api_key
from service.submissions.campaigns import create_campaign
from tests.support.scenes import SMALL
from tests.support.server import Live

CAMPAIGN = "review-demo"
OTHER = "review-other"


@dataclass
class Review:
    live: Live
    key: str
    other_key: str
    admin_key: str
    ids: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}"}


def wait_for_jobs(live: Live, kind: str, n: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with live.services.db.session() as s:
            states = s.scalars(select(Job.state).where(Job.kind == kind)).all()
        if len(states) >= n and all(x in ("finished", "failed") for x in states):
            assert all(x == "finished" for x in states), states
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{kind} jobs: {states}")
        time.sleep(0.2)


def populate(live: Live) -> Review:
    with live.services.db.session() as s:
        create_campaign(s, live.services.store, campaign_id=CAMPAIGN, profiles=["test-deep"], deep=True,
                        title_zh="科普微视频评审演示", title_en="Science video review demo")
        create_campaign(s, live.services.store, campaign_id=OTHER, profiles=["test-deep"])
        _, key = create_api_key(s, name="评审甲", role="reviewer", campaigns=[CAMPAIGN])
        _, other = create_api_key(s, name="评审乙", role="reviewer", campaigns=[OTHER])
        _, admin = create_api_key(s, name="管理员", role="admin", campaigns=["*"])
    r = Review(live=live, key=key, other_key=other, admin_key=admin)
    with live.client() as c:
        for name, make in SMALL.makers().items():
            resp = c.post(f"/api/campaigns/{CAMPAIGN}/submissions", params={"name": f"{name}.mp4"},
                          content=make().read_bytes())
            assert resp.status_code == 201, resp.text
            r.ids[name], r.tokens[name] = resp.json()["id"], resp.json()["receipt_token"]
    wait_for_jobs(live, "deep", len(SMALL.makers()))
    return r
