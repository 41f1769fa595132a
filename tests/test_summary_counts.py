"""The dashboard's counts kept by the write path (service/store/summary_counts.py): after every
write of the service — an upload, its check (kept or refused), the deep analysis, decisions,
waivers and withdrawn waivers, a campaign's re-check — ``summary_counts`` holds exactly what a
GROUP BY over ``submission_summaries`` gives, on SQLite and PostgreSQL; migration 0006 fills
it for the entries already there; the dashboard's counts and the organisers' overview read it
and say what the GROUP BY said; on PostgreSQL, writers at once neither deadlock nor miscount."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import Connection, and_, event, func, literal, select, union_all
from sqlalchemy.orm import Session

from service.core.labels import CONTENT_RULES
from service.core.summaries import DECISION_ORDER, VERDICT_ORDER
from service.review import ledger, listing
from service.review.overview import campaign_overview
from service.store.database import migrate
from service.store.models import Job, ReportRow, Submission
from service.store.models import SubmissionSummary as S
from service.store.models import SummaryCount as C
from service.store.storage import Storage
from service.store.summaries import refresh
from service.store.summary_counts import recount
from service.submissions.access import create_api_key
from service.submissions.campaigns import create_campaign
from tests.support.pg import migrated_database, scratch_database
from tests.support.scenes import SMALL
from tests.support.server import live_server
from tests.test_listing import add, report

T0 = datetime(2026, 11, 1, tzinfo=UTC)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
"""Before every entry: a ``since`` that narrows nothing but sends the counts to the GROUP BY."""


@pytest.fixture(params=["sqlite", "postgresql"])
def db(tmp_path, request):
    yield from migrated_database(request.param, tmp_path, "mediacheck_n")


def kept_and_grouped(conn: Connection | Session) -> tuple[dict, dict]:
    """(the kept counts, the GROUP BY over the summary rows), each {(campaign, status, verdict
    rank, decision rank, warned): n}, read by one statement: one snapshot on both databases,
    even while jobs write."""
    warned = S.warnings_count > 0
    stmt = union_all(
        select(literal("kept"), C.campaign_id, C.status, C.verdict_rank, C.decision_rank, C.warned, C.n)
        .where(C.n != 0),
        select(literal("grouped"), S.campaign_id, S.status, S.verdict_rank, S.decision_rank, warned, func.count())
        .group_by(S.campaign_id, S.status, S.verdict_rank, S.decision_rank, warned))
    out: dict[str, dict] = {"kept": {}, "grouped": {}}
    for which, *key, n in conn.execute(stmt):
        out[which][(*key[:4], bool(key[4]))] = n
    return out["kept"], out["grouped"]


def assert_kept(conn: Connection | Session) -> dict:
    kept, grouped = kept_and_grouped(conn)
    assert kept == grouped
    return kept


# ---------------------------------------------------------------- every write, through the running service
def test_counts_follow_uploads_checks_refusals_analysis_reviews_and_a_recheck(tmp_path, service_settings,
                                                                              small_video, small_photo):
    """The service as it runs (tests/support/server.py: checks and deep jobs in its own threads),
    on both databases: the counts equal the GROUP BY at rest after each step, and also in every
    snapshot taken while the jobs were writing."""
    for backend in ("sqlite", "postgresql"):
        urls = iter([""]) if backend == "sqlite" else scratch_database("mediacheck_nl")
        for url in urls:
            settings = replace(service_settings, data_dir=tmp_path / backend,
                               database_url=url.replace("postgresql+psycopg://", "postgresql://"))
            with live_server(settings) as live:
                assert live.services.db.engine.dialect.name == backend
                _scenario(live, small_video, small_photo)


def _scenario(live, small_video, small_photo) -> None:
    db = live.services.db
    seen: list[dict] = []

    def settle(jobs: int) -> None:
        """Wait until at least ``jobs`` jobs exist and all have finished or failed, checking each
        snapshot on the way, then once at rest."""
        deadline = time.monotonic() + 120
        while True:
            with db.engine.connect() as conn:
                seen.append(assert_kept(conn))
                states = conn.execute(select(Job.state)).scalars().all()
            if len(states) >= jobs and all(x in ("finished", "failed") for x in states):
                break
            assert time.monotonic() < deadline, states
            time.sleep(0.05)
        with db.engine.connect() as conn:
            seen.append(assert_kept(conn))

    with db.session() as s:
        create_campaign(s, live.services.store, campaign_id="cnt", profiles=["test-deep"], deep=True)
        reviewer, _ = create_api_key(s, name="评审甲", role="reviewer", campaigns=["cnt"])
        _, admin = create_api_key(s, name="管理员", role="admin", campaigns=["*"])
    files = {"good": SMALL.good(), "black": SMALL.black_opening(), "silent": SMALL.silent(), "small": small_video}
    ids = {}
    with live.client() as c:
        for name, path in files.items():
            r = c.post("/api/campaigns/cnt/submissions", params={"name": f"{name}.mp4"}, content=path.read_bytes())
            assert r.status_code == 201, r.text
            ids[name] = r.json()["id"]
        r = c.post("/api/campaigns/cnt/submissions", params={"name": "photo.jpg"}, content=small_photo.read_bytes())
        assert r.status_code == 415, r.text  # a photo in a video campaign: refused, its row kept
    settle(5 + 4)  # five checks, four deep analyses
    with db.session() as s:
        kept = assert_kept(s)
        statuses = {k[1] for k in kept}
        assert statuses == {"checked", "refused"} and sum(kept.values()) == 5
        assert {VERDICT_ORDER[k[2]] for k in kept if k[1] == "checked"} >= {"pass", "fail"}
        assert any(k[4] for k in kept)  # the deep analysis flagged content: a warned bucket
        black = s.get(S, ids["black"])
        assert black is not None and "black_segments" in black.failed + black.warned
    steps = [("decision", {"decision": "accept"}, "good"), ("decision", {"decision": "reject"}, "small"),
             ("decision", {"decision": "needs_fix"}, "black"), ("waive", {"rule": "black_segments"}, "black"),
             ("decision", {"decision": "accept"}, "black"), ("unwaive", {"rule": "black_segments"}, "black"),
             ("waive", {"rule": "resolution"}, "small")]
    with db.session() as s:
        states = [assert_kept(s)]
    for kind, fields, name in steps:
        with db.session() as s:
            ledger.record(s, submission_id=ids[name], key=reviewer, kind=kind, **fields)
        with db.session() as s:
            states.append(assert_kept(s))
    assert len({tuple(sorted(x.items())) for x in states}) >= 6  # most steps moved an entry
    before = states[-1]
    assert sum(n for k, n in before.items() if k[3] == DECISION_ORDER.index("accept")) == 2
    with live.client() as c:
        auth = {"Authorization": f"Bearer {admin}"}
        assert c.patch("/api/campaigns/cnt", json={"profiles": ["test-video"]}, headers=auth).status_code == 200
        assert c.post("/api/campaigns/cnt/recheck", headers=auth).status_code == 202
    settle(9 + 1)  # and the re-check (with what it queued)
    with db.session() as s:
        after = assert_kept(s)
        assert after != before and sum(after.values()) == 5  # verdicts moved, no entry gained or lost
        by_verdict = listing.counts(s, listing.Query("cnt")).verdicts
        grouped = dict(s.execute(select(S.verdict, func.count()).where(S.campaign_id == "cnt", S.status != "refused")
                                 .group_by(S.verdict)).all())
        assert {k: v for k, v in by_verdict.items() if v} == grouped
    assert len(seen) > 3


# ---------------------------------------------------------------- many writes, every kind, two campaigns
def test_counts_follow_a_long_random_sequence_of_writes(db, tmp_path):
    """New entries, checks started, reports, deep reports with content flags, re-check reports,
    decisions, waivers and withdrawn waivers, refused and failed checks, in a random order over two
    campaigns, each written as the service writes it (``refresh`` in the same transaction)."""
    rnd = random.Random(14)
    with db.session() as s:
        key, _ = create_api_key(s, name="评审", role="reviewer", campaigns=["*"])
    subs: list[str] = []
    for _ in range(160):
        with db.session() as s:
            op = rnd.choice(["new", "new", "checking", "report", "deep", "recheck", "decision", "waive", "unwaive",
                             "refuse", "error"]) if subs else "new"
            if op == "new":
                i = len(subs)
                s.add(Submission(id=f"s{i:05d}", campaign_id=rnd.choice(["a", "b"]), profile_id="p",
                                 file_name=f"作品{i}.mp4", size_bytes=10, sha256="x", storage_key="k",
                                 receipt_hash=f"h{i}", status="received", created_at=T0))
                s.flush()
                refresh(s, f"s{i:05d}", thumbnail=False)
                subs.append(f"s{i:05d}")
                continue
            sub_id = rnd.choice(subs)
            sub = s.get(Submission, sub_id)
            assert sub is not None
            if op in ("checking", "refuse", "error"):
                sub.status = {"checking": "checking", "refuse": "refused", "error": "error"}[op]
                refresh(s, sub_id)
            elif op in ("report", "deep", "recheck"):
                verdict = rnd.choice(["pass", "warn", "fail", "error"])
                rep = report(verdict, black=rnd.choice([None, 0.0, 2.0]))
                s.add(ReportRow(submission_id=sub_id, subject={"report": "original"}.get(op, op), verdict=verdict,
                                report=rep | ({"analysis": {"duration_s": 12.0}} if op == "deep" else {}),
                                created_at=T0))
                sub.status = "checked"
                refresh(s, sub_id, thumbnail=op == "deep")
            elif op == "decision":
                ledger.record(s, submission_id=sub_id, key=key, kind="decision",
                              decision=rnd.choice(["accept", "reject", "needs_fix"]))
            else:
                rule = rnd.choice(["duration", "black_segments"])
                ledger.record(s, submission_id=sub_id, key=key, kind=op, rule=rule)
        with db.session() as s:
            kept = assert_kept(s)
    assert len({k[1] for k in kept}) >= 4 and len({k[2] for k in kept}) >= 4 and len({k[3] for k in kept}) == 4
    assert {k[0] for k in kept} == {"a", "b"} and any(k[4] for k in kept)
    with db.session() as s:
        _counts_read_the_table_and_say_what_the_group_by_says(s, tmp_path)


def _counts_read_the_table_and_say_what_the_group_by_says(s: Session, tmp_path) -> None:
    """Every filter the dashboard has, each with and without refused entries: the counts (kept
    counts) equal those of the same query narrowed by a date before every entry (GROUP BY), and
    the overview's verdicts equal its GROUP BY."""
    n = 0
    for campaign in ("a", "b"):
        for verdict in ("", *VERDICT_ORDER):
            for decision in ("", *DECISION_ORDER):
                for warning in ("", "none", "any", CONTENT_RULES[0]):
                    for refused in (False, True):
                        q = listing.Query(campaign, verdict=verdict, decision=decision, warning=warning,
                                          include_refused=refused)
                        assert listing.counts(s, q) == listing.counts(s, replace(q, since=EPOCH)), q
                        n += 1
        got = campaign_overview(s, Storage(tmp_path / "storage"), campaign).per_verdict
        kept = and_(S.campaign_id == campaign, S.status != "refused")
        assert got == dict(s.execute(select(S.verdict, func.count()).where(kept).group_by(S.verdict)).all())
    assert n == 2 * 6 * 5 * 4 * 2
    everything = listing.counts(s, listing.Query("a", include_refused=True))
    assert everything.all == s.scalar(select(func.count()).select_from(S).where(S.campaign_id == "a")) > 0


# ---------------------------------------------------------------- the migration and recount
def test_migration_fills_the_counts_of_entries_already_there_and_recount_rebuilds_them(tmp_path):
    for backend in ("sqlite", "postgresql"):
        for db in migrated_database(backend, tmp_path, "mediacheck_nm", "0005_scale"):
            with db.session() as s:
                key, _ = create_api_key(s, name="评审", role="reviewer", campaigns=["*"])
            with db.engine.begin() as conn:  # rows as revision 0005 had them: no counts kept yet
                _rows_of_0005(conn, key.id)
            migrate(db.engine)
            with db.session() as s:
                kept = assert_kept(s)
                assert kept == {("c", "checked", VERDICT_ORDER.index("fail"), 0, True): 2,
                                ("c", "checked", VERDICT_ORDER.index("pass"), DECISION_ORDER.index("accept"), False): 1,
                                ("c", "refused", VERDICT_ORDER.index("error"), 0, False): 1,
                                ("d", "checked", VERDICT_ORDER.index("pass"), 0, False): 1}
                s.execute(C.__table__.update().values(n=C.n + 5))  # counts gone wrong (a bulk writer)
                recount(s, "d")
                wrong = kept_and_grouped(s)[0]
                assert wrong[("d", "checked", VERDICT_ORDER.index("pass"), 0, False)] == 1
                assert wrong[("c", "refused", VERDICT_ORDER.index("error"), 0, False)] == 6  # campaign c left alone
                recount(s)
                assert assert_kept(s) == kept


def _rows_of_0005(conn: Connection, key_id: str) -> None:
    """Five entries of two campaigns with their summary rows, written as revision 0005 wrote them."""
    from service.store.summaries import values

    rows = [("s1", "c", "checked", report("fail", black=1.0)), ("s2", "c", "checked", report("fail", black=1.0)),
            ("s3", "c", "checked", report("pass")), ("s4", "c", "refused", {"verdict": "error", "checks": []}),
            ("s5", "d", "checked", report("pass"))]
    for sub_id, campaign, status, rep in rows:
        sub = Submission(id=sub_id, campaign_id=campaign, profile_id="p", file_name=f"{sub_id}.mp4", size_bytes=1,
                         sha256="x", storage_key="k", receipt_hash=sub_id, status=status, created_at=T0)
        conn.execute(Submission.__table__.insert().values({c.key: getattr(sub, c.key) for c in Submission.__table__.c
                                                           if getattr(sub, c.key) is not None}))
        trail = [SimpleNamespace(id=1, kind="decision", decision="accept", rule=None, reviewer="评审", key_id=key_id,
                                 note=None, created_at=T0)] if sub_id == "s3" else []
        conn.execute(S.__table__.insert().values(values(sub, rep, trail, thumbnail=False, fixed_verdict=None)))


# ---------------------------------------------------------------- writers at once (PostgreSQL)
@pytest.fixture
def pg(tmp_path):
    yield from migrated_database("postgresql", tmp_path, "mediacheck_nc")


def test_opposite_moves_at_once_do_not_deadlock(pg):
    """Two transactions move entries between the same two buckets in opposite directions. The
    first is held between its two bucket writes until the second has written one (or 1.5 s have
    passed): written in the buckets' sorted order, the second waits for the first at its first
    write and both commit; in any other order they would lock one bucket each and deadlock."""
    with pg.session() as s:
        add(s, 1, rep=report("pass"))
        add(s, 2, rep=report("fail"))
    second_wrote, first_held = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def writer(sub_id: str, verdict: str, first: bool) -> None:
        try:
            with pg.session() as s:
                conn = s.connection()
                writes = [0]

                def before(_c, _cursor, statement, *_a):
                    if statement.startswith("INSERT INTO summary_counts"):
                        writes[0] += 1
                        if first and writes[0] == 2:
                            first_held.set()
                            second_wrote.wait(1.5)

                def after(_c, _cursor, statement, *_a):
                    if not first and statement.startswith("INSERT INTO summary_counts"):
                        second_wrote.set()

                event.listen(conn, "before_cursor_execute", before)
                event.listen(conn, "after_cursor_execute", after)
                s.add(ReportRow(submission_id=sub_id, subject="original", verdict=verdict, report=report(verdict),
                                created_at=T0))
                refresh(s, sub_id)
        except BaseException as e:  # noqa: BLE001  (reported below)
            errors.append(e)

    t1 = threading.Thread(target=writer, args=("s00001", "fail", True))
    t2 = threading.Thread(target=writer, args=("s00002", "pass", False))
    t1.start()
    assert first_held.wait(10)
    t2.start()
    t1.join(20)
    t2.join(20)
    assert errors == []
    with pg.session() as s:
        kept = assert_kept(s)
    assert kept == {("c", "checked", VERDICT_ORDER.index("fail"), 0, False): 1,
                    ("c", "checked", VERDICT_ORDER.index("pass"), 0, False): 1}


def test_two_writers_of_one_entry_at_once_count_it_once(pg):
    """A decision and another reviewer's decision on one entry at once: the second writer waits
    for the first (the summary row is locked while its bucket is read), then moves the entry
    out of the bucket the first put it in, not out of the one it was in before."""
    with pg.session() as s:
        add(s, 1, rep=report("pass"))
        a, _ = create_api_key(s, name="甲", role="reviewer", campaigns=["c"])
        b, _ = create_api_key(s, name="乙", role="reviewer", campaigns=["c"])
    first = Session(pg.engine, expire_on_commit=False)
    ledger.record(first, submission_id="s00001", key=a, kind="decision", decision="accept")
    done = threading.Event()

    def second() -> None:
        with pg.session() as s:
            ledger.record(s, submission_id="s00001", key=b, kind="decision", decision="reject")
        done.set()

    t = threading.Thread(target=second)
    t.start()
    assert not done.wait(0.5)  # waiting for the first writer
    first.commit()
    first.close()
    t.join(10)
    assert done.is_set()
    with pg.session() as s:
        kept = assert_kept(s)
        assert s.get(S, "s00001").decision == "reject"  # type: ignore[union-attr]
    assert kept == {("c", "checked", VERDICT_ORDER.index("pass"), DECISION_ORDER.index("reject"), False): 1}
