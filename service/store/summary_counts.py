"""The dashboard's counts kept by the write path (table ``summary_counts``): how many summary rows
a campaign has per bucket — status, verdict rank, decision rank, any content warning. A campaign
has a handful of buckets, so the counts of its un-narrowed dashboard read a few rows whatever
its size, where a GROUP BY over its summary rows grew with them (1.3 ms at 10,000 entries,
6.6 ms at 50,000 on SQLite).

``store/summaries.refresh``, the one writer of summary rows, reads a row's bucket with ``current``
before it rewrites the row and then ``move``s the entry to its new bucket, in the same
transaction. ``recount`` rebuilds the buckets from the summary rows (one GROUP BY): migration
0006 and writers that insert summary rows in bulk call it. A bucket that empties keeps its row
with ``n`` 0 (``cells`` leaves those out), so a write never deletes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, case, delete, func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.store.models import SubmissionSummary as S
from service.store.models import SummaryCount as C

Bucket = tuple[str, str, int, int, bool]
"""(campaign id, status, verdict rank, decision rank, warned): a row's place in the counts."""

KEY = ("campaign_id", "status", "verdict_rank", "decision_rank", "warned")
"""The columns of a bucket, the table's primary key, in ``Bucket``'s order."""

_INSERTS: dict[str, Any] = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
"""INSERT … ON CONFLICT DO UPDATE of each database the service runs on."""


def bucket(cols: Mapping[Any, Any]) -> Bucket:
    """The bucket of a summary row's column values (``summaries.values``)."""
    return (cols["campaign_id"], cols["status"], cols["verdict_rank"], cols["decision_rank"],
            cols["warnings_count"] > 0)


def current(session: Session, submission_id: str) -> Bucket | None:
    """The bucket the summary row of a submission is in now, None when it has no row yet. On
    PostgreSQL the row stays locked (FOR UPDATE) until the transaction ends: a second writer of
    the same submission waits here, then reads the first one's row, so neither moves the entry
    out of a bucket it has already left (SQLite lets one writer at a time in anyway)."""
    row = session.execute(select(S.campaign_id, S.status, S.verdict_rank, S.decision_rank, S.warnings_count)
                          .where(S.submission_id == submission_id).with_for_update()).one_or_none()
    return None if row is None else bucket(row._mapping)


def move(session: Session, old: Bucket | None, new: Bucket) -> None:
    """One entry out of ``old`` (None: a new row) into ``new``. The buckets are written in their
    sorted order, so two transactions moving entries between the same two buckets in opposite
    directions take the buckets' row locks in the same order and cannot deadlock (PostgreSQL)."""
    if old == new:
        return
    deltas = {new: 1} if old is None else {old: -1, new: 1}
    ins = _INSERTS[session.get_bind().dialect.name]
    for b in sorted(deltas):
        stmt = ins(C).values(dict(zip(KEY, b, strict=True)) | {"n": deltas[b]})
        session.execute(stmt.on_conflict_do_update(index_elements=list(KEY), set_={"n": C.n + stmt.excluded.n}))


def cells(session: Session, campaign_id: str, *, include_refused: bool = False) -> dict[tuple[int, int, bool], int]:
    """A campaign's entries by (verdict rank, decision rank, warned), refused ones left out
    unless asked for: what ``review.listing``'s GROUP BY gives with no filter."""
    return by_cell(session.execute(select(C.status, C.verdict_rank, C.decision_rank, C.warned, C.n)
                                   .where(C.campaign_id == campaign_id)), include_refused=include_refused)


def by_cell(rows: Iterable[Any], *, include_refused: bool) -> dict[tuple[int, int, bool], int]:
    """Rows of (status, verdict rank, decision rank, warned or warnings count, n) added up by
    (verdict rank, decision rank, warned), refused ones left out unless asked for: the counts
    table's rows (``cells``) and a GROUP BY of the summary rows (``review.listing``) alike."""
    out: dict[tuple[int, int, bool], int] = {}
    for status, v, d, w, n in rows:
        if n and (status != "refused" or include_refused):
            out[(v, d, w > 0)] = out.get((v, d, w > 0), 0) + n
    return out


def recount(db: Session | Connection, campaign_id: str | None = None) -> None:
    """Rebuild the buckets of one campaign (None: of every campaign) from the summary rows, one
    GROUP BY. On PostgreSQL the table is locked against ``move`` until the transaction ends, so
    a write that was under way is counted exactly once (in the summary rows the GROUP BY reads,
    or by its own move after this commits)."""
    if (db.get_bind() if isinstance(db, Session) else db).dialect.name == "postgresql":
        db.execute(text(f"LOCK TABLE {C.__tablename__} IN SHARE ROW EXCLUSIVE MODE"))
    warned = case((S.warnings_count > 0, True), else_=False)
    groups = select(S.campaign_id, S.status, S.verdict_rank, S.decision_rank, warned, func.count()) \
        .group_by(S.campaign_id, S.status, S.verdict_rank, S.decision_rank, warned)
    clear = delete(C)
    if campaign_id is not None:
        groups = groups.where(S.campaign_id == campaign_id)
        clear = clear.where(C.campaign_id == campaign_id)
    db.execute(clear)
    db.execute(insert(C).from_select([*KEY, "n"], groups))
