"""The sort keys of the entry details (service/store/sort_keys.py, table ``entry_sort_keys``) and
the dashboard's sort by an entry field through them (service/review/listing.py, ``detail:``):
the keys follow every refresh and are written only when they change, migration 0008 fills them
for the entries already there, values sort folded (full-width, case), pages with filters reach
every entry once in both directions with missing values last, and the page's plan walks the
index instead of sorting the campaign, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import event, inspect, select, text

from service.core.summaries import fold
from service.review import listing
from service.store import sort_keys
from service.store.database import Database, alembic_config, migrate
from service.store.models import EntrySortKey as K
from service.store.models import Submission, SubmissionSummary
from service.store.summaries import refresh, values
from tests.support.pg import blank_database, migrated_database
from tests.test_listing import T0, add, report


@pytest.fixture(params=["sqlite", "postgresql"])
def db(tmp_path, request):
    yield from migrated_database(request.param, tmp_path, "mediacheck_k")


def keys_of(s, sub_id: str) -> dict[str, str]:
    return dict(s.execute(select(K.field_key, K.value_key).where(K.submission_id == sub_id)).all())


def walk(s, q: listing.Query) -> list[str]:
    """Every page of ``q`` followed to the end: the ids in the order shown."""
    seen: list[str] = []
    while True:
        page = listing.page(s, q)
        seen += [r.submission_id for r in page.rows]
        if page.next is None:
            return seen
        q = replace(q, after=page.next)


def test_keys_fold_values_and_leave_out_empty_ones():
    long = "Ａ" * 300
    assert sort_keys.keys({"作者": "ＷＡＮＧ Ming", "单位": "", "备注": None, "n": 12, "x": [1], long[:41]: "v",
                           "长": long}) == {"作者": "wang ming", "n": "12", "长": "a" * sort_keys.VALUE_CHARS}
    assert sort_keys.keys(None) == {}


def test_the_keys_follow_a_refresh_and_are_written_only_when_they_change(db):
    with db.session() as s:
        sub = add(s, 1, details={"作者": "Ｚhang", "单位": "一中"})
        assert keys_of(s, sub) == {"作者": "zhang", "单位": "一中"}
        written: list[str] = []
        event.listen(db.engine, "before_cursor_execute",
                     lambda conn, cursor, statement, *a: written.append(statement)
                     if "entry_sort_keys" in statement and not statement.startswith("SELECT") else None)
        refresh(s, sub)  # a report, a decision: the details as they were, nothing written
        assert written == []
        s.get(Submission, sub).details = {"作者": "李四", "作品名称": "黑洞", "单位": ""}
        refresh(s, sub)
        assert keys_of(s, sub) == {"作者": "李四", "作品名称": "黑洞"}  # changed, added, emptied
        assert len(written) == 3  # one DELETE, one UPDATE, one INSERT
        s.get(Submission, sub).details = None
        refresh(s, sub)
        assert keys_of(s, sub) == {}
        q = listing.Query("c", sort="detail:作者")
        assert [r.submission_id for r in listing.page(s, q).rows] == [sub]  # missing now, still listed


def test_values_sort_folded_full_width_and_case_alike(db):
    """NFKC and casefold (SQL lower() on SQLite folded ASCII only, and its JSON path missed keys
    stored escaped, as every Chinese key is: 作者 sorted by id alone)."""
    names = ["Ｂeta", "ALPHA", "gamma", "ＡＬＰＨＡ", "Straße", "beta", "STRASSE", "Ｇａｍｍａ", "alpha"]
    with db.session() as s:
        ids = {add(s, i, details={"作者": v}): fold(v) for i, v in enumerate(names)}
        for desc in (False, True):
            want = sorted(ids, key=lambda k: (ids[k], k), reverse=desc)
            assert walk(s, listing.Query("c", sort="detail:作者", desc=desc, limit=2)) == want
        assert set(ids.values()) == {"alpha", "beta", "gamma", "strasse"}


@pytest.mark.parametrize("desc", [False, True])
def test_pages_with_filters_reach_every_entry_once_missing_last(db, desc):
    """130 entries, a fifth without the field: every page of every filter (verdict, search, both)
    in the order (value, id), then the missing ones by id; the export's walk the same."""
    rnd = random.Random(8)
    with db.session() as s:
        want: dict[str, tuple[str | None, str, str]] = {}
        for i in range(130):
            v = rnd.choice(["王明", "李华", "Ｔom", "tom", "阿强", "", None, "Zoe"])
            school = rnd.choice(["师范大学附中", "第一中学"])
            details = {"单位": school} | ({"作者": v} if v is not None else {})
            verdict = rnd.choice(["pass", "fail", "warn"])
            sub = add(s, i, rep=report(verdict), details=details)
            want[sub] = (fold(v) if v else None, verdict, school)
        add(s, 999, rep=report("fail"), details={"作者": "aaa", "单位": "师范大学附中"}, campaign="other")
        assert sum(v is None for v, _, _ in want.values()) > 20
        for kw in ({}, {"verdict": "fail"}, {"search": "师范大学"}, {"verdict": "pass", "search": "第一中学"}):
            chosen = [k for k, (_, verdict, school) in want.items()
                      if kw.get("verdict", verdict) == verdict and kw.get("search", school) in school]
            valued = sorted((k for k in chosen if want[k][0] is not None), key=lambda k: (want[k][0], k),
                            reverse=desc)
            missing = sorted((k for k in chosen if want[k][0] is None), reverse=desc)
            q = listing.Query("c", sort="detail:作者", desc=desc, limit=7, **kw)
            assert walk(s, q) == valued + missing, kw
            walked = listing.every(s, replace(q, limit=50), (SubmissionSummary.submission_id,), batch=6)
            assert [r.submission_id for r in walked] == valued + missing, kw


def bulk(db: Database, n: int) -> None:
    """``n`` entries straight into the tables with their sort keys (as bench_scale's filler), a
    tenth without 作者, then ANALYZE (PostgreSQL: VACUUM ANALYZE, as autovacuum would)."""
    subs, rows, keys = [], [], []
    for i in range(n):
        details = {"单位": "第一中学"} | ({"作者": f"作者{i * 7919 % n:05d}"} if i % 10 else {})
        sub = SimpleNamespace(id=f"b{i:06d}", campaign_id="c", profile_id="p", file_name=f"{i:06d}.mp4",
                              size_bytes=1000, sha256="x", storage_key="k", receipt_hash=f"hb{i}", status="checked",
                              details=details, created_at=T0 + timedelta(seconds=i))
        subs.append(dict(vars(sub)))
        rows.append(values(sub, report("pass"), [], thumbnail=False, fixed_verdict=None))
        keys += sort_keys.rows(sub.id, sub.campaign_id, details)
    with db.engine.begin() as conn:
        conn.execute(Submission.__table__.insert(), subs)
        conn.execute(SubmissionSummary.__table__.insert(), rows)
        conn.execute(K.__table__.insert(), keys)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE" if db.engine.dialect.name == "sqlite" else "VACUUM ANALYZE"))


def plan(s, stmt) -> str:
    compiled = stmt.compile(dialect=s.get_bind().dialect)
    params = tuple(compiled.params[k] for k in compiled.positiontup) if compiled.positional else compiled.params
    sqlite = s.get_bind().dialect.name == "sqlite"
    rows = s.connection().exec_driver_sql(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + str(compiled),
                                          params).all()
    return "\n".join(str(r[-1]) for r in rows)


def test_a_page_walks_the_sort_key_index(db):
    """3,000 entries: the first page, in both directions and with a verdict filter, is read from
    the sort-key index in its order (no sort of the campaign), and the pages still end right."""
    bulk(db, 3000)
    sqlite = db.engine.dialect.name == "sqlite"
    with db.session() as s:
        for kw in ({}, {"desc": True}, {"verdict": "pass"}):
            q = listing.Query("c", sort="detail:作者", **kw)
            got = plan(s, listing._valued(s, q, "作者", None, SubmissionSummary).limit(q.limit + 1))
            assert "ix_entry_sort_keys_order" in got, got
            assert ("TEMP B-TREE" not in got) if sqlite else ("Sort" not in got), got
        first = listing.page(s, listing.Query("c", sort="detail:作者", limit=5))
        valued = sorted((i for i in range(3000) if i % 10), key=lambda i: i * 7919 % 3000)
        assert [r.submission_id for r in first.rows] == [f"b{i:06d}" for i in valued[:5]]
        q = listing.Query("c", sort="detail:作者", desc=True, limit=400)
        assert walk(s, q)[-300:] == [f"b{i:06d}" for i in range(2990, -1, -10)]  # missing last, by id


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_url(tmp_path, request):
    yield from blank_database(request.param, tmp_path, "mediacheck_k")


def test_migration_0008_fills_the_keys_of_entries_there_and_downgrade_drops_them(blank_url):
    """Entries written before 0008 (details as the service stores them: JSON with Chinese keys
    escaped) get their keys; downgrade to 0007 removes the table."""
    from alembic import command

    d = Database(blank_url)
    migrate(d.engine, "0007_search")
    with d.session() as s:
        for i, details in enumerate([{"作者": "ＷＡＮＧ", "单位": "一中"}, {"作者": ""}, None, {"作者": "li"}]):
            sub = Submission(id=f"s{i}", campaign_id="c", profile_id="p", file_name=f"{i}.mp4", size_bytes=1,
                             sha256="x", storage_key="k", receipt_hash=f"h{i}", status="checked", details=details,
                             created_at=T0)
            s.add(sub)
            s.flush()
            s.add(SubmissionSummary(**values(sub, None, [], thumbnail=False, fixed_verdict=None)))
    migrate(d.engine)
    with d.session() as s:
        assert set(s.execute(select(K.submission_id, K.field_key, K.campaign_id, K.value_key)).all()) == {
            ("s0", "作者", "c", "wang"), ("s0", "单位", "c", "一中"), ("s3", "作者", "c", "li")}
        assert walk(s, listing.Query("c", sort="detail:作者", limit=1)) == ["s3", "s0", "s1", "s2"]
    command.downgrade(alembic_config(d.engine), "0007_search")
    assert "entry_sort_keys" not in inspect(d.engine).get_table_names()
    d.dispose()
