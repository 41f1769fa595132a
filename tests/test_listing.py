"""A campaign's entries from the summary rows (service/review/listing.py, store/summaries.py,
core/summaries.py): the row follows every write of the trail (decision, waiver, withdrawn
waiver), keyset pages reach every entry once in every order (ties included), the filters
and their counts agree with the entries, search folds full-width text and finds Chinese
details, and migration 0005 fills the rows of entries that were there before."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import inspect, select, text

from service.core.summaries import DECISION_ORDER, VERDICT_ORDER, fold, summarise
from service.review import ledger, listing
from service.store import search
from service.store.database import Database, migrate
from service.store.models import ReportRow, Submission, SubmissionSummary
from service.store.summaries import refresh, values
from service.submissions.access import create_api_key
from tests.support.pg import migrated_database

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def report(verdict: str, *, duration: float | None = 12.0, black: float | None = None) -> dict:
    checks = [{"rule": "duration", "status": "fail" if verdict == "fail" else "pass",
               "message": {"zh-CN": "时长不符", "en": "Duration off"}}]
    if black is not None:
        checks.append({"rule": "black_segments", "status": "warn", "segments": [[black, black + 1.5]],
                       "message": {"zh-CN": "黑场", "en": "Black"}})
    if verdict == "warn" and black is None:
        checks.append({"rule": "bitrate", "status": "warn", "message": {"zh-CN": "码率", "en": "Bitrate"}})
    return {"verdict": verdict, "checks": checks, "profile": {"id": "p", "size_unit": "binary"},
            "media": {"duration_s": duration, "width": 1920, "height": 1080}}




@pytest.fixture(params=["sqlite", "postgresql"])
def db(tmp_path, request):
    """A migrated database: SQLite, and a scratch PostgreSQL database (skipped when none is reachable)."""
    yield from migrated_database(request.param, tmp_path, "mediacheck_l")


def add(s, i: int, *, name: str | None = None, rep: dict | None = None, details: dict | None = None,
        size: int = 1000, at: datetime | None = None, campaign: str = "c") -> str:
    sub_id = f"s{i:05d}"
    s.add(Submission(id=sub_id, campaign_id=campaign, profile_id="p", file_name=name or f"entry-{i}.mp4",
                     size_bytes=size, sha256="x", storage_key="k", receipt_hash=f"h{sub_id}", status="checked",
                     details=details, created_at=at or T0))
    s.flush()
    if rep is not None:
        s.add(ReportRow(submission_id=sub_id, subject="original", verdict=rep["verdict"], report=rep,
                        created_at=T0))
    refresh(s, sub_id)
    return sub_id


def test_the_row_follows_decisions_waivers_and_withdrawn_waivers(db):
    with db.session() as s:
        key, _ = create_api_key(s, name="评审甲", role="reviewer", campaigns=["c"])
        sub = add(s, 1, rep=report("fail", black=3.0))
        row = s.get(SubmissionSummary, sub)
        assert (row.verdict, row.failed, row.warned) == ("fail", ["duration"], ["black_segments"])
        assert row.content == [{"rule": "black_segments", "start": 3.0}] and row.content_rules == " black_segments "
        assert (row.decision, row.duration_s, row.width, row.rule_ids) == ("none", 12.0, 1920,
                                                                         "duration black_segments")
        ledger.record(s, submission_id=sub, key=key, kind="decision", decision="needs_fix", note="改时长")
        row = s.get(SubmissionSummary, sub)
        assert (row.decision, row.decision_by, row.decision_note) == ("needs_fix", "评审甲", "改时长")
        assert row.decision_rank == DECISION_ORDER.index("needs_fix")
        ledger.record(s, submission_id=sub, key=key, kind="waive", rule="duration")
        row = s.get(SubmissionSummary, sub)
        assert (row.verdict, row.failed, row.waived) == ("warn", [], ["duration"])
        ledger.record(s, submission_id=sub, key=key, kind="waive", rule="black_segments")
        assert (s.get(SubmissionSummary, sub).verdict, s.get(SubmissionSummary, sub).warnings_count) == ("pass", 0)
        ledger.record(s, submission_id=sub, key=key, kind="unwaive", rule="duration")
        row = s.get(SubmissionSummary, sub)
        assert (row.verdict, row.failed, row.waived) == ("fail", ["duration"], ["black_segments"])
        ledger.record(s, submission_id=sub, key=key, kind="decision", decision="accept")
        assert s.get(SubmissionSummary, sub).decision == "accept"


def test_a_new_report_replaces_the_summary_and_a_fixed_one_does_not(db):
    with db.session() as s:
        sub = add(s, 1, rep=report("fail"))
        s.add(ReportRow(submission_id=sub, subject="fixed", verdict="pass", report=report("pass"), created_at=T0))
        refresh(s, sub)
        row = s.get(SubmissionSummary, sub)
        assert (row.verdict, row.fixed_verdict) == ("fail", "pass")  # the fixed copy does not stand for it
        s.add(ReportRow(submission_id=sub, subject="deep", verdict="warn", report=report("warn", black=0.0)
                        | {"analysis": {"duration_s": 12.0}}, created_at=T0))
        refresh(s, sub, thumbnail=True)
        row = s.get(SubmissionSummary, sub)
        assert (row.verdict, row.deep, row.thumbnail, row.content) == (
            "warn", True, True, [{"rule": "black_segments", "start": 0.0}])


def fill(s, n: int, seed: int = 7) -> dict[str, dict]:
    """``n`` entries with many ties (five sizes, three durations, two names, a few instants)."""
    rnd = random.Random(seed)
    want = {}
    for i in range(n):
        verdict = rnd.choice(["pass", "warn", "fail", "error", None])
        rep = None if verdict is None else report(verdict, duration=rnd.choice([None, 5.0, 9.5]),
                                                  black=rnd.choice([None, 1.0]))
        sub = add(s, i, name=rnd.choice(["a.mp4", "B.mp4"]), rep=rep, size=rnd.choice([1, 2, 3, 4, 5]) * 100,
                  at=T0 + timedelta(minutes=rnd.randrange(4)))
        want[sub] = summarise(rep)
    return want


@pytest.mark.parametrize("sort", sorted(listing.SORTS))
@pytest.mark.parametrize("desc", [False, True])
def test_keyset_pages_reach_every_entry_once_in_order(db, sort, desc):
    with db.session() as s:
        fill(s, 120)
        col = listing.SORTS[sort].key
        everything = s.scalars(select(SubmissionSummary)).all()
        expected = sorted(everything, key=lambda r: (getattr(r, col), r.submission_id), reverse=desc)
        q = listing.Query("c", sort=sort, desc=desc, limit=7)
        seen: list[str] = []
        pages = 0
        while True:
            page = listing.page(s, q)
            seen += [r.submission_id for r in page.rows]
            pages += 1
            if page.next is None:
                break
            q = replace(q, after=page.next)
        assert seen == [r.submission_id for r in expected]  # each once, in the order, ties by id
        assert pages == 18  # 120 / 7, rounded up: no empty page at the end


@pytest.mark.parametrize("desc", [False, True])
def test_keyset_pages_by_an_entry_field_reach_every_entry_once(db, desc):
    """``detail:<key>``: the value lower-cased, ties by id, a missing, empty or absent value last
    in both directions; the cursor carries the value (or null) and the id; the export's walk too."""
    values = ["alpha", "Alpha", "beta", "gamma", "", None, "missing", "no details", "张三", "Beta"]
    with db.session() as s:
        rnd = random.Random(3)
        want: dict[str, str | None] = {}
        for i in range(61):
            v = rnd.choice(values)
            details = None if v == "no details" else {"x": "1"} if v == "missing" else {"author": v, "x": "1"}
            sub = add(s, i, details=details)
            want[sub] = v.lower() if v and v not in ("missing", "no details") else None
        add(s, 900, details={"author": "aaa"}, campaign="other")  # another campaign never shows
        valued = sorted((k for k in want if want[k] is not None), key=lambda k: (want[k], k), reverse=desc)
        nulls = sorted((k for k in want if want[k] is None), reverse=desc)
        assert valued and len(nulls) > 5 and set(want.values()) == {"alpha", "beta", "gamma", "张三", None}
        q = listing.Query("c", sort="detail:author", desc=desc, limit=4)
        seen: list[str] = []
        while True:
            page = listing.page(s, q)
            seen += [r.submission_id for r in page.rows]
            if page.next is None:
                break
            q = replace(q, after=page.next)
        assert seen == valued + nulls  # each once; NULLs last whichever the direction
        walked = listing.every(s, listing.Query("c", sort="detail:author", desc=desc),
                               (SubmissionSummary.submission_id,), batch=5)
        assert [r.submission_id for r in walked] == seen
        with pytest.raises(listing.CursorError):  # a cursor of another field is refused
            listing.page(s, listing.Query("c", sort="detail:x", desc=desc, after=page.next or q.after))


def test_filters_and_their_counts_agree(db):
    with db.session() as s:
        want = fill(s, 150)
        key, _ = create_api_key(s, name="k", role="reviewer", campaigns=["c"])
        for sub in list(want)[:40:3]:
            ledger.record(s, submission_id=sub, key=key, kind="decision", decision="reject")
        add(s, 999, rep=report("pass"), campaign="other")  # another campaign never counts
        rows = s.scalars(select(SubmissionSummary).where(SubmissionSummary.campaign_id == "c")).all()
        n = listing.counts(s, listing.Query("c"))
        assert n.all == n.total == 150
        assert n.verdicts == {v: sum(r.verdict == v for r in rows) for v in VERDICT_ORDER}
        assert n.decisions["reject"] == 14 and n.decisions["none"] == 136
        assert n.warnings["any"] == sum(r.warnings_count > 0 for r in rows)
        for v in VERDICT_ORDER:
            q = listing.Query("c", verdict=v, limit=1000)
            got = {r.submission_id for r in listing.page(s, q).rows}
            assert got == {r.submission_id for r in rows if r.verdict == v}
            assert listing.counts(s, q).total == len(got)
        q = listing.Query("c", verdict="fail", warning="black_segments", decision="none", limit=1000)
        got = {r.submission_id for r in listing.page(s, q).rows}
        assert got == {r.submission_id for r in rows if r.verdict == "fail" and r.decision == "none"
                       and "black_segments" in r.content_rules}
        assert listing.counts(s, q).verdicts["pass"] == sum(  # a filter's own counts leave it out
            r.verdict == "pass" and r.decision == "none" and "black_segments" in r.content_rules for r in rows)


def test_search_folds_text_and_finds_chinese_details(db):
    with db.session() as s:
        a = add(s, 1, name="科普-黑洞.MP4", details={"作者": "张三", "单位": "北京第一中学"})
        b = add(s, 2, name="ＡＢＣ_100%.mov", details={"作者": "李四"})
        add(s, 3, name="other.mp4")

        def found(text_: str) -> set[str]:
            return {r.submission_id for r in listing.page(s, listing.Query("c", search=text_)).rows}

        assert found("黑洞") == {a} and found("第一中学") == {a} and found("张三") == {a}
        assert found("abc") == {b} and found("ＡＢＣ") == {b} and found("mp4") == {a, "s00003"}
        assert found("_100%") == {b} and found("%") == {b}  # LIKE's wildcards are taken literally
        assert found("a_c") == set()  # "_" is no wildcard
    assert fold("ＡＢＣ") == "abc"


def test_a_cursor_of_another_order_is_refused(db):
    with db.session() as s:
        fill(s, 10)
        page = listing.page(s, listing.Query("c", sort="size", limit=3))
        with pytest.raises(listing.CursorError):
            listing.page(s, listing.Query("c", sort="name", limit=3, after=page.next))
        with pytest.raises(listing.CursorError):
            listing.page(s, listing.Query("c", limit=3, after="not-a-cursor"))


def test_migration_fills_the_rows_of_earlier_entries(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    migrate(db.engine, "0004")
    with db.engine.begin() as conn:
        for i, verdict in enumerate(["fail", "pass", None]):
            conn.execute(text("INSERT INTO submissions (id, campaign_id, profile_id, file_name, size_bytes, sha256, "
                              "storage_key, receipt_hash, status, created_at, details) VALUES "
                              f"('s{i}', 'c', 'p', '作品{i}.mp4', 10, 'x', 'k', 'h{i}', 'checked', "
                              "'2026-01-01 00:00:00', '{\"作者\": \"王五\"}')"))
            if verdict:
                conn.execute(ReportRow.__table__.insert().values(submission_id=f"s{i}", subject="original",
                                                                 verdict=verdict, report=report(verdict),
                                                                 created_at=T0))
        conn.execute(text("INSERT INTO api_keys (id, name, key_hash, role, campaigns, created_at) VALUES "
                          "('k1', '评审乙', 'hh', 'reviewer', '[\"c\"]', '2026-01-01')"))
        conn.execute(text("INSERT INTO decisions (submission_id, key_id, kind, decision, created_at) "
                          "VALUES ('s0', 'k1', 'decision', 'accept', '2026-01-02')"))
        conn.execute(text("INSERT INTO decisions (submission_id, key_id, kind, rule, created_at) "
                          "VALUES ('s0', 'k1', 'waive', 'duration', '2026-01-02')"))
    migrate(db.engine)
    with db.session() as s:
        rows = {r.submission_id: r for r in s.scalars(select(SubmissionSummary))}
        assert set(rows) == {"s0", "s1", "s2"}
        assert (rows["s0"].verdict, rows["s0"].waived, rows["s0"].decision, rows["s0"].decision_by) == (
            "pass", ["duration"], "accept", "评审乙")
        assert rows["s1"].verdict == "pass" and rows["s2"].verdict == "pending"
        assert "王五" in rows["s0"].search_text and rows["s0"].name_key == "作品0.mp4"
    db.dispose()


def test_a_dashboard_query_string_round_trips_and_stale_values_fall_back():
    from urllib.parse import parse_qsl

    from service.review.board_view import query_string

    q = listing.parse_query("c", {"q": "黑洞 张三", "verdict": "fail", "warning": "black_segments",
                                  "decision": "none", "sort": "size", "dir": "desc", "after": "abc"})
    assert (q.search, q.verdict, q.warning, q.decision, q.sort, q.desc, q.after) == (
        "黑洞 张三", "fail", "black_segments", "none", "size", True, "abc")
    assert listing.parse_query("c", dict(parse_qsl(query_string(q, "zh-CN")[1:]))) == q
    by_field = listing.parse_query("c", {"sort": "detail:作者", "dir": "desc"}, ["作者", "title"])
    assert (by_field.sort, by_field.desc) == ("detail:作者", True)
    assert listing.parse_query("c", dict(parse_qsl(query_string(by_field, "en")[1:])), ["作者"]) == by_field
    assert listing.parse_query("c", {"sort": "detail:phone"}, ["作者"]).sort == "created"  # not declared
    stale = listing.parse_query("c", {"verdict": "maybe", "sort": "colour", "warning": "x", "decision": "later"})
    assert stale == listing.Query("c")  # a link with values no longer known opens the whole list


def test_export_rows_decode_the_json_columns_and_counts_leave_refused_out(db):
    """The export reads checks, waivers and entry details as JSON text and decodes them itself
    (both databases); the counts group by status too and still leave refused entries out."""
    from service.review import export

    with db.session() as s:
        key, _ = create_api_key(s, name="评审甲", role="reviewer", campaigns=["c"])
        a = add(s, 1, rep=report("fail", black=2.0), details={"作者": "王明"})
        add(s, 2, rep=report("pass"))
        ledger.record(s, submission_id=a, key=key, kind="waive", rule="duration")
        refused = add(s, 3, rep=report("fail"))
        s.get(Submission, refused).status = "refused"  # as the check refuses a file (intake.refuse)
        refresh(s, refused)
    rules, rows = export.campaign_rows(db, "c")
    raw = list(rows)
    assert isinstance(raw[0].checks, str) and isinstance(raw[0].waived, str)  # the JSON as text, decoded by us
    got = [export.of_summary(r) for r in raw]
    assert rules == ["duration", "black_segments"]
    assert [r.entry_id for r in got] == ["s00001", "s00002"]
    assert got[0].waived == ("duration",) and got[0].details == {"作者": "王明"} and got[1].details is None
    assert [c["rule"] for c in got[0].checks] == ["duration", "black_segments"]
    assert got[0].checks[1]["seg"] == [[2.0, 3.5]]
    cells = export.row(1, got[0], rules)
    assert cells[6:9] == ["通过（有警告）", "", "黑场"]  # verdict after the waiver, no failed rule, the warning
    assert cells[-2:] == ["已豁免", "警告"]
    assert export.row(1, raw[0], rules) == cells  # the database row makes the same cells as the ExportRow
    with db.session() as s:
        c = listing.counts(s, listing.Query("c"))
        assert (c.all, c.verdicts["fail"], c.verdicts["warn"], c.verdicts["pass"]) == (2, 0, 1, 1)
        c = listing.counts(s, listing.Query("c", include_refused=True))
        assert (c.all, c.verdicts["fail"]) == (3, 1)


# ------------------------------------------------- the search through the text index (store/search.py, 0007)

def found(s, text_: str, **kw) -> set[str]:
    return {r.submission_id for r in listing.page(s, listing.Query("c", search=text_, limit=1000, **kw)).rows}


def like_today(s, text_: str, *, refused: bool = False) -> set[str]:
    """What the search was before the index: LIKE over the folded text, the wildcards escaped."""
    pattern = search.like_pattern(search.folded(text_))
    rows = s.execute(select(SubmissionSummary.submission_id, SubmissionSummary.status)
                     .where(SubmissionSummary.campaign_id == "c",
                            SubmissionSummary.search_text.like(pattern, escape="\\"))).all()
    return {r.submission_id for r in rows if refused or r.status != "refused"}


SEARCHES = ["王明", "王同学", "师范大学", "北京师范大学", "000123-", "abc", "ＡＢＣ", "Abc-王", '"hi"', '"', 'i" 1',
            "100%", "%", "_", "0%_d", "*", "done*", "OR", "tom or jerry", "NEAR(", "near(x,", "\\path", "h\\f",
            "c:", "同学的作品", "x", "  王同学  ", "作品\n", "不存在的作品"]


def test_every_search_finds_what_like_found_and_counts_agree(db):
    """Chinese of 2, 3 and 4+ characters, ASCII, full-width, FTS5's syntax (quotes, *, OR, NEAR(,
    a colon) and LIKE's (%, _, \\) taken literally, a refused entry left out unless asked for."""
    with db.session() as s:
        add(s, 1, name="000123-王同学的作品-黑洞.mp4", rep=report("fail"),
            details={"作者": "王明", "单位": "北京师范大学"})
        add(s, 2, name="000124-李同学的作品.mp4", rep=report("pass"), details={"作者": "李华", "单位": "第一中学"})
        add(s, 3, name='say "hi" 100%_done*.mp4', rep=report("warn"),
            details={"作者": "Tom OR Jerry", "备注": "NEAR(x, y)"})
        add(s, 4, name="ＡＢＣ-王同学.MOV", details={"作者": "王明华"})
        add(s, 5, name="c:\\path\\file.mp4", rep=report("pass"))
        refused = add(s, 6, name="王明-退回.mp4", rep=report("pass"), details={"作者": "王明", "单位": "师范大学"})
        add(s, 7, name="000123-王明.mp4", campaign="other")  # another campaign never shows
        s.get(Submission, refused).status = "refused"  # as the check refuses a file (intake.refuse)
        refresh(s, refused)
        assert found(s, "王明") == {"s00001", "s00004"} and found(s, "王明", include_refused=True) == {
            "s00001", "s00004", "s00006"}
        assert found(s, "王同学") == {"s00001", "s00004"} and found(s, "师范大学") == {"s00001"}
        assert found(s, "000123-") == {"s00001"} and found(s, "ＡＢＣ") == found(s, "abc") == {"s00004"}
        assert found(s, '"hi"') == found(s, '"') == found(s, "OR") == found(s, "NEAR(") == {"s00003"}
        assert found(s, "0%_d") == found(s, "done*") == {"s00003"} and found(s, "_") == {"s00003"}
        assert found(s, "\\path") == {"s00005"} and found(s, "不存在的作品") == set()
        for text_ in SEARCHES:
            for refused in (False, True):
                want = like_today(s, text_, refused=refused)
                assert found(s, text_, include_refused=refused) == want, text_
                n = listing.counts(s, listing.Query("c", search=text_, include_refused=refused))
                assert n.total == sum(n.verdicts.values()) == len(want), text_
        n = listing.counts(s, listing.Query("c", search="王同学"))
        assert (n.all, n.total, n.verdicts["fail"], n.verdicts["pending"]) == (5, 2, 1, 1)


def copy_in_step(conn) -> None:
    """SQLite: the FTS5 table holds each summary row's text under its rowid, and its index agrees."""
    rows = set(conn.execute(text("SELECT rowid, search_text FROM submission_summaries")).all())
    assert set(conn.execute(text("SELECT rowid, search_text FROM summary_search")).all()) == rows
    conn.execute(text("INSERT INTO summary_search(summary_search) VALUES ('integrity-check')"))


def test_the_index_follows_every_write_of_the_rows(db):
    """Changed details (refresh), an UPDATE and a DELETE typed by hand, and on SQLite a VACUUM and
    an INSERT OR REPLACE: the search finds the text the row has now, never the old one."""
    with db.session() as s:
        a = add(s, 1, details={"作者": "张三丰"})
        b = add(s, 2, details={"作者": "张三"})
        assert found(s, "张三丰") == {a} and found(s, "张三") == {a, b}
        s.get(Submission, a).details = {"作者": "李四光"}
        refresh(s, a)
        assert found(s, "张三丰") == set() and found(s, "李四光") == {a} and found(s, "四光") == {a}
        s.execute(SubmissionSummary.__table__.update().where(SubmissionSummary.submission_id == b)
                  .values(search_text="改过的文字"))
        assert found(s, "张三") == set() and found(s, "改过的文字") == {b}
        s.execute(SubmissionSummary.__table__.delete().where(SubmissionSummary.submission_id == a))
        assert found(s, "李四光") == set()
    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.begin() as conn:
        copy_in_step(conn)
        conn.execute(text("INSERT OR REPLACE INTO submission_summaries SELECT * FROM submission_summaries"))
        copy_in_step(conn)  # the replaced rows have new rowids; their old ones are gone from the index
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM"))
        copy_in_step(conn)
    with db.session() as s:
        assert found(s, "改过的文字") == {b}


def bulk(db, n: int) -> None:
    """``n`` entries written straight into the tables (as bench_scale's filler), then ANALYZE (and
    on PostgreSQL VACUUM, as autovacuum would, which also moves the GIN index's pending entries
    into the index proper)."""
    schools = ("第一中学", "实验小学", "科技馆", "师范大学附属中学", "少年宫")
    subs, rows = [], []
    for i in range(n):
        sub = SimpleNamespace(id=f"b{i:06d}", campaign_id="c", profile_id="p", file_name=f"{i:06d}-王同学的作品.mp4",
                              size_bytes=1000 + i, sha256="x", storage_key="k", receipt_hash=f"hb{i}",
                              status="checked", details={"单位": schools[i % 5]}, created_at=T0 + timedelta(seconds=i))
        subs.append(dict(vars(sub)))
        rows.append(values(sub, report("pass"), [], thumbnail=False, fixed_verdict=None))
    with db.engine.begin() as conn:
        conn.execute(Submission.__table__.insert(), subs)
        conn.execute(SubmissionSummary.__table__.insert(), rows)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE" if db.engine.dialect.name == "sqlite" else "VACUUM ANALYZE"))


def plan(s, q: listing.Query) -> str:
    """The database's plan for the page of ``q``."""
    compiled = listing._keyset(s, q, SubmissionSummary).compile(dialect=s.get_bind().dialect)
    params = tuple(compiled.params[k] for k in compiled.positiontup) if compiled.positional else compiled.params
    sqlite = s.get_bind().dialect.name == "sqlite"
    rows = s.connection().exec_driver_sql(("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + str(compiled),
                                          params).all()
    return "\n".join(str(r[-1]) for r in rows)


def generic_plan(s, q: listing.Query) -> str:
    """PostgreSQL's plan for the page of ``q`` whatever the values of its parameters: the plan a
    prepared statement may settle on after five runs (psycopg prepares a query run five times)."""
    import re

    compiled = listing._keyset(s, q, SubmissionSummary).compile(dialect=s.get_bind().dialect)
    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", str(compiled))))
    args = ", ".join(str(v) if isinstance(v, int) else "'" + str(v).replace("'", "''") + "'"
                     for v in (compiled.params[n] for n in names))
    cur = s.connection().connection.dbapi_connection.cursor()  # no parameters: nothing reads the % signs
    cur.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    cur.execute("PREPARE page_plan AS " + re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m[1]) + 1}", str(compiled)))
    cur.execute(f"EXPLAIN EXECUTE page_plan({args})")
    rows = cur.fetchall()
    cur.execute("DEALLOCATE page_plan")
    return "\n".join(str(r[-1]) for r in rows)


def test_a_search_reads_its_matches_through_the_index(db):
    """3,000 entries inserted in bulk: the one hit is found through the index (the plan says so)
    and so is a search matching every entry (SQLite: by walking the page's order instead of
    fetching 3,000 rows); a 2-character search on PostgreSQL leaves the trigram index alone."""
    bulk(db, 3000)
    with db.session() as s:
        assert found(s, "000123-") == {"b000123"} and found(s, "０００１２３－") == {"b000123"}
        assert listing.counts(s, listing.Query("c", search="000123-")).total == 1
        assert listing.counts(s, listing.Query("c", search="师范大学")).total == 600
        every_one = listing.page(s, listing.Query("c", search="王同学的作品", limit=10))
        assert [r.submission_id for r in every_one.rows] == [f"b{i:06d}" for i in range(10)]
        assert listing.counts(s, listing.Query("c", search="王同学的作品")).total == 3000
        one, common, short = (plan(s, listing.Query("c", search=t)) for t in ("000123-", "王同学的作品", "王明"))
        if db.engine.dialect.name == "sqlite":
            assert "summary_search" in one and "USING INTEGER PRIMARY KEY (rowid=?)" in one, one
            assert "summary_search" in common and "ix_summaries_created_at" in common, common
            assert "summary_search" in short and "ix_summaries_created_at" in short, short  # the copy of the text
        else:
            assert search.TRGM_INDEX in one, one
            assert search.TRGM_INDEX not in short, short
            generic = generic_plan(s, listing.Query("c", search="王明"))
            assert "$3" in generic and search.TRGM_INDEX not in generic, generic  # no walk of the whole GIN index


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_url(tmp_path, request):
    """The URL of an empty database (not migrated): SQLite, and a scratch PostgreSQL database."""
    from tests.support.pg import blank_database

    yield from blank_database(request.param, tmp_path, "mediacheck_s")


def before_search() -> str:
    """The revision migration 0007 follows."""
    from alembic.script import ScriptDirectory

    from service.store.database import MIGRATIONS_DIR

    down = ScriptDirectory(str(MIGRATIONS_DIR)).get_revision("0007_search").down_revision
    assert isinstance(down, str)
    return down


def index_there(d: Database) -> bool:
    names = inspect(d.engine).get_table_names() if d.engine.dialect.name == "sqlite" else [
        i["name"] for i in inspect(d.engine).get_indexes("submission_summaries")]
    return (search.INDEX_TABLE if d.engine.dialect.name == "sqlite" else search.TRGM_INDEX) in names


def test_migration_0007_indexes_the_rows_there_and_downgrade_removes_the_index(blank_url):
    from alembic import command

    from service.store.database import alembic_config

    d = Database(blank_url)
    migrate(d.engine, before_search())
    with d.session() as s:  # not ``add``: refresh also writes the sort keys, a table of migration 0008
        for i, name, details in ((1, "000123-王同学的作品.mp4", {"单位": "北京师范大学附属中学"}),
                                 (2, "entry-2.mp4", {"单位": "第一中学"})):
            sub = Submission(id=f"s{i:05d}", campaign_id="c", profile_id="p", file_name=name, size_bytes=1000,
                             sha256="x", storage_key="k", receipt_hash=f"h{i}", status="checked", details=details,
                             created_at=T0)
            s.add(sub)
            s.flush()
            s.add(SubmissionSummary(**values(sub, None, [], thumbnail=False, fixed_verdict=None)))
    migrate(d.engine)
    assert index_there(d)
    with d.session() as s:
        assert found(s, "师范大学") == {"s00001"} and found(s, "000123-") == {"s00001"} and found(s, "中学") == {
            "s00001", "s00002"}
        assert "summary_search" in plan(s, listing.Query("c", search="000123-")) or d.engine.dialect.name != "sqlite"
    command.downgrade(alembic_config(d.engine), before_search())
    assert not index_there(d)
    with d.session() as s:  # LIKE over the rows again
        assert found(s, "师范大学") == {"s00001"} and found(s, "中学") == {"s00001", "s00002"}
    d.dispose()


def test_without_pg_trgm_the_migration_succeeds_and_searches_read_the_rows(caplog):
    """A role that may not install extensions (a managed database): the migration goes through
    without the index, says so once, and the search still answers."""
    import uuid

    from sqlalchemy import create_engine

    from tests.support.pg import PG_ADMIN_URL, scratch_database

    role = f"mc_noext_{uuid.uuid4().hex[:8]}"
    admin = None
    try:
        for url in scratch_database("mediacheck_noext"):  # skips when no PostgreSQL answers
            admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"CREATE ROLE {role} LOGIN"))
            scratch = create_engine(url, isolation_level="AUTOCOMMIT")
            with scratch.connect() as conn:
                conn.execute(text("DROP EXTENSION IF EXISTS pg_trgm"))
                conn.execute(text(f"GRANT USAGE, CREATE ON SCHEMA public TO {role}"))
            scratch.dispose()
            d = Database(url.replace("postgres@", f"{role}@"))
            migrate(d.engine)
            assert not index_there(d)
            warned = [r.getMessage() for r in caplog.records if "pg_trgm could not be installed" in r.getMessage()]
            assert len(warned) == 1 and "permission denied" in warned[0]
            with d.session() as s:
                add(s, 1, details={"单位": "北京师范大学"})
                add(s, 2)
                assert found(s, "师范大学") == {"s00001"} and found(s, "entry") == {"s00001", "s00002"}
            d.dispose()
    finally:
        if admin is not None:  # after the scratch database, which held the role's tables, is gone
            with admin.connect() as conn:
                conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
            admin.dispose()


def test_an_old_sqlite_migrates_without_the_index_and_searches_read_the_rows(tmp_path, caplog):
    """SQLite before 3.34 has no trigram tokenizer (the version the migration reads is made older
    here: a function of the connection named like the built-in one replaces it)."""
    from sqlalchemy import event

    d = Database(f"sqlite:///{tmp_path / 'old.db'}")
    event.listen(d.engine, "connect", lambda conn, _: conn.create_function("sqlite_version", 0, lambda: "3.31.1"))
    migrate(d.engine)
    assert not index_there(d)
    assert [r.getMessage() for r in caplog.records if "search index left out" in r.getMessage()] == [
        "search index left out: SQLite 3.31.1 is older than 3.34 (no trigram); searches read every entry of the "
        "campaign"]
    with d.session() as s:
        add(s, 1, details={"单位": "北京师范大学"})
        add(s, 2)
        assert found(s, "师范大学") == {"s00001"} and found(s, "范大") == {"s00001"}
        assert "summary_search" not in plan(s, listing.Query("c", search="师范大学"))
    d.dispose()


def test_a_database_whose_ctype_is_c_is_told_that_chinese_searches_read_the_rows(caplog):
    """LC_CTYPE C: pg_trgm counts no CJK character as a letter, so Chinese makes no trigrams; the
    index is made (it serves ASCII searches) and the migration says what it cannot do."""
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    from tests.support.pg import PG_ADMIN_URL

    name = f"mediacheck_ctype_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name} TEMPLATE template0 LC_CTYPE 'C' LC_COLLATE 'C'"))
    except OperationalError as e:
        pytest.skip(f"no PostgreSQL reachable: {e}")
    try:
        d = Database(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
        migrate(d.engine)
        assert index_there(d)
        assert [r.getMessage() for r in caplog.records if "LC_CTYPE" in r.getMessage()] == [
            "search index: LC_CTYPE C makes no trigrams of Chinese characters; Chinese searches read every entry "
            "of the campaign (docs/operations.md)"]
        with d.session() as s:
            add(s, 1, name="000123-王同学.mp4", details={"单位": "北京师范大学"})
            add(s, 2)
            assert found(s, "师范大学") == {"s00001"} and found(s, "000123-") == {"s00001"}
        d.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
