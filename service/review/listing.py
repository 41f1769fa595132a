"""A campaign's entries a page at a time, from the summary rows (``SubmissionSummary``),
never from reports: filters (verdict, decision, content warning, created between), a search
of file names and entry details (the folded words in the folded ``search_text``, so Chinese
works; through the text index, ``store.search``), a sort with an index of its own (or by an
entry field, ``detail:<key>``, through the index of the entries' folded values, ``store/sort_keys``),
and keyset pagination: a page ends with a cursor holding the last row's sort value and id, and the next
page starts strictly after it, so every entry is reached once whatever the ties. Counts per
verdict, decision and warning come from the counts the write path keeps
(``store/summary_counts``) when nothing narrows the entries, else GROUP BY. The dashboard
(``board_view``), the listing API and the export read entries through here."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, null, select, tuple_
from sqlalchemy.orm import Session

from service.core.labels import CONTENT_RULES
from service.core.summaries import DECISION_ORDER, VERDICT_ORDER
from service.store import search
from service.store.models import EntrySortKey as K
from service.store.models import Submission
from service.store.models import SubmissionSummary as S
from service.store.summary_counts import by_cell, cells

SORTS: dict[str, Any] = {"created": S.created_at, "name": S.name_key, "size": S.size_bytes,
                         "duration": S.duration_key, "verdict": S.verdict_rank, "decision": S.decision_rank,
                         "warnings": S.warnings_count}
"""Sort keys and their columns; each has the index (campaign_id, column, submission_id)."""

DETAIL_SORT = "detail:"
"""Prefix of a sort by one of the campaign's entry fields (``detail:<field key>``): the value
from the submission's details folded (``store/sort_keys``: NFKC, casefold, 200 characters),
ties by id, an empty or missing one last in both directions. Two walks, one after the other:
the entries with a value through the sort-key index (campaign, field, value, id), then those
without one by id; a page reads about its own rows, not the campaign's (issue 14)."""

PAGE_SIZE = 50
"""Rows of a dashboard page."""

MAX_PAGE_SIZE = 1000
"""Most rows one request of the listing API may ask for."""

WARNING_FILTERS = ("none", "any", *CONTENT_RULES)
"""What the warning filter takes besides nothing."""

EXPORT_BATCH = 500
"""Rows fetched per round trip while an export streams."""


class CursorError(ValueError):
    """A cursor that was not made by ``Page.next`` for this sort."""


@dataclass(frozen=True)
class Query:
    """Which entries, in which order, from where."""

    campaign_id: str
    verdict: str = ""
    decision: str = ""
    warning: str = ""
    search: str = ""
    since: datetime | None = None
    until: datetime | None = None
    sort: str = "created"
    desc: bool = False
    after: str | None = None
    limit: int = PAGE_SIZE
    include_refused: bool = False

    def filters(self, session: Session, *, skip: str = "") -> list[ColumnElement[bool]]:
        """The WHERE clauses on the session's database (``skip``: one filter left out, for its
        own counts)."""
        out: list[ColumnElement[bool]] = [S.campaign_id == self.campaign_id]
        if not self.include_refused:
            out.append(S.status != "refused")
        if self.verdict and skip != "verdict":
            out.append(S.verdict_rank == VERDICT_ORDER.index(self.verdict))
        if self.decision and skip != "decision":
            out.append(S.decision_rank == DECISION_ORDER.index(self.decision))
        if self.warning and skip != "warning":
            out.append(S.warnings_count == 0 if self.warning == "none" else S.warnings_count > 0
                       if self.warning == "any" else S.content_rules.like(f"% {self.warning} %"))
        if self.search.strip():
            out.append(search.matches(session, self.search))
        if self.since is not None:
            out.append(S.created_at >= self.since)
        if self.until is not None:
            out.append(S.created_at < self.until)
        return out


def parse_query(campaign_id: str, params: Mapping[str, str], fields: Iterable[str] = ()) -> Query:
    """A dashboard's query string as a Query: unknown values fall back to "all" and the default
    order (a shared link with a stale value still opens). ``fields``: the keys of the campaign's
    entry fields, which ``detail:<key>`` may sort by."""
    sort = params.get("sort", "created")
    sort_ok = sort in SORTS or (detail_key(sort) or "") in set(fields)
    return Query(campaign_id=campaign_id,
                 verdict=_one_of(params.get("verdict"), VERDICT_ORDER),
                 decision=_one_of(params.get("decision"), DECISION_ORDER),
                 warning=_one_of(params.get("warning"), WARNING_FILTERS),
                 search=(params.get("q") or "")[:200], sort=sort if sort_ok else "created",
                 desc=params.get("dir") == "desc", after=params.get("after") or None)


def _one_of(value: str | None, allowed: tuple[str, ...]) -> str:
    return value if value in allowed else ""


def detail_key(sort: str) -> str | None:
    """The entry field a sort orders by, None for a summary column."""
    return sort[len(DETAIL_SORT):] if sort.startswith(DETAIL_SORT) else None


def encode_cursor(sort: str, desc: bool, value: Any, sub_id: str) -> str:
    v = value.isoformat() if isinstance(value, datetime) else value
    raw = json.dumps([sort, int(desc), v, sub_id], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(q: Query) -> tuple[Any, str] | None:
    """The (sort value, id) a page starts after, or None for the first page."""
    if not q.after:
        return None
    try:
        raw = base64.urlsafe_b64decode(q.after + "=" * (-len(q.after) % 4))
        sort, desc, value, sub_id = json.loads(raw)
        if sort != q.sort or bool(desc) != q.desc or not isinstance(sub_id, str):
            raise CursorError("the cursor belongs to another order")
        if sort == "created":
            value = datetime.fromisoformat(value)
        elif sort == "name":
            value = str(value)
        elif detail_key(sort) is not None:
            if value is not None and not isinstance(value, str):
                raise CursorError("bad cursor value")
        elif not isinstance(value, int | float):
            raise CursorError("bad cursor value")
    except (ValueError, TypeError, json.JSONDecodeError) as e:
        raise CursorError(str(e)) from e
    return value, sub_id


@dataclass(frozen=True)
class Page:
    rows: list[S]
    next: str | None
    """The cursor of the following page, None on the last one."""


def _keyset(session: Session, q: Query, *what: Any, join: bool = False) -> Any:
    """SELECT ``what`` (then the sort value ``_key`` and the id ``_id``) of the query's next
    ``q.limit + 1`` entries in a summary column's order (``join``: the submissions joined by id,
    for columns of theirs in ``what``): a walk of that column's index."""
    col = SORTS[q.sort]
    where = q.filters(session)
    start = decode_cursor(q)
    if start is not None:
        where.append(_after(col, S.submission_id, start, q.desc))
    order = (col.desc(), S.submission_id.desc()) if q.desc else (col.asc(), S.submission_id.asc())
    stmt = select(*what, col.label("_key"), S.submission_id.label("_id"))
    if join:
        stmt = stmt.join_from(S, Submission, Submission.id == S.submission_id)
    return stmt.where(and_(*where)).order_by(*order).limit(q.limit + 1)


def _valued(session: Session, q: Query, field: str, start: tuple[Any, str] | None, *what: Any,
            join: bool = False) -> Any:
    """SELECT ``what`` (then ``_key``, ``_id``) of the entries WITH a value of ``field``, from
    the cursor on, in the query's order and without a LIMIT: driven from the sort-key index
    (campaign, field, value, id), walked in order, each key's summary row joined for the filters."""
    where = [K.campaign_id == q.campaign_id, K.field_key == field, *q.filters(session)]
    if start is not None:
        where.append(_after(K.value_key, K.submission_id, start, q.desc))
    order = (K.value_key.desc(), K.submission_id.desc()) if q.desc else (K.value_key.asc(), K.submission_id.asc())
    stmt = select(*what, K.value_key.label("_key"), S.submission_id.label("_id")) \
        .join_from(K, S, S.submission_id == K.submission_id)
    if join:
        stmt = stmt.join(Submission, Submission.id == S.submission_id)
    return stmt.where(and_(*where)).order_by(*order)


def _missing(session: Session, q: Query, field: str, after_id: str | None, *what: Any, join: bool = False) -> Any:
    """SELECT ``what`` (then ``_key`` NULL, ``_id``) of the entries WITHOUT a value of ``field``
    (no sort-key row), by id in the query's direction from ``after_id``, without a LIMIT: the
    tail of a ``detail:`` order, whichever the direction."""
    has = select(K.submission_id).where(K.submission_id == S.submission_id, K.field_key == field).exists()
    where = [*q.filters(session), ~has]
    if after_id is not None:
        where.append(S.submission_id < after_id if q.desc else S.submission_id > after_id)
    stmt = select(*what, null().label("_key"), S.submission_id.label("_id"))
    if join:
        stmt = stmt.join_from(S, Submission, Submission.id == S.submission_id)
    return stmt.where(and_(*where)).order_by(S.submission_id.desc() if q.desc else S.submission_id.asc())


def _detail_phases(session: Session, q: Query, field: str, *what: Any, join: bool = False) -> list[Any]:
    """The statements whose rows, one after the other, are a ``detail:`` order from the cursor
    on: the valued entries then the missing ones, or the missing ones alone when the cursor is
    past the valued (its value null)."""
    start = decode_cursor(q)
    tail = _missing(session, q, field, start[1] if start is not None and start[0] is None else None,
                    *what, join=join)
    if start is not None and start[0] is None:
        return [tail]
    return [_valued(session, q, field, start, *what, join=join), tail]


def _fetch(session: Session, q: Query, *what: Any, join: bool = False,
           conn: Connection | Session | None = None) -> list[Any]:
    """The query's next ``q.limit + 1`` rows of ``what`` (then ``_key``, ``_id``), run on
    ``conn`` (default: the session). A ``detail:`` order asks for the missing entries only when
    the valued ones did not fill the page (the second statement, with the rows still wanted)."""
    run = conn if conn is not None else session
    field = detail_key(q.sort)
    if field is None:
        return list(run.execute(_keyset(session, q, *what, join=join)).all())
    out: list[Any] = []
    for stmt in _detail_phases(session, q, field, *what, join=join):
        out += run.execute(stmt.limit(q.limit + 1 - len(out))).all()
        if len(out) > q.limit:
            break
    return out


def _after(col: Any, id_col: Any, start: tuple[Any, str], desc: bool) -> ColumnElement[bool]:
    """The rows strictly after the cursor (value, id) in the order of (``col``, ``id_col``)."""
    value, sub_id = start
    key = tuple_(col, id_col)
    return key < tuple_(value, sub_id) if desc else key > tuple_(value, sub_id)


def page(session: Session, q: Query) -> Page:
    """One page of entries (``q.limit`` rows) and the cursor of the next."""
    found = _fetch(session, q, S)
    more = len(found) > q.limit
    found = found[: q.limit]
    rows = [r[0] for r in found]
    nxt = None
    if more and found:
        last = found[-1]
        nxt = encode_cursor(q.sort, q.desc, last._key, last._id)
    return Page(rows=rows, next=nxt)


def every(session: Session, q: Query, columns: tuple[Any, ...], batch: int = EXPORT_BATCH, *,
          join: bool = False) -> Iterator[Any]:
    """Every entry of the query in its order as rows of ``columns`` (no ORM objects; two more
    values after them, the sort key and the id), fetched ``batch`` at a time by keyset: memory
    stays flat however many there are. ``join``: the submissions joined, for columns of theirs."""
    q = replace(q, limit=batch, after=None)
    conn = session.connection()  # Core rows: no ORM loading step for each of them
    while True:
        rows = _fetch(session, q, *columns, join=join, conn=conn)
        yield from rows[:batch]
        if len(rows) <= batch:
            return
        last = rows[batch - 1]
        q = replace(q, after=encode_cursor(q.sort, q.desc, last._key, last._id))


def rule_ids(session: Session, q: Query) -> set[str]:
    """Every rule id checked in the entries of the query (few distinct sets: one per profile)."""
    out: set[str] = set()
    for ids in session.scalars(select(S.rule_ids).where(and_(*q.filters(session))).distinct()):
        out.update(ids.split())
    return out


@dataclass(frozen=True)
class Counts:
    all: int
    """Entries of the campaign, no filter."""
    total: int
    """Entries matching every filter."""
    verdicts: dict[str, int]
    decisions: dict[str, int]
    warnings: dict[str, int]
    """``none`` and ``any``."""


def _cube(session: Session, q: Query) -> dict[tuple[int, int, bool], int]:
    """Entries of the query by (verdict rank, decision rank, any warning). With no filter, the
    campaign's kept counts (a few rows, whatever its size); else one GROUP BY, read from the
    index ``ix_summaries_counts`` alone when there is no search. It groups by the index's own
    columns in its order (status first) and leaves refused entries out here rather than in the
    WHERE: a ``status != …`` there would make the database sort every row of the campaign into a
    temporary tree before counting."""
    if not (q.verdict or q.decision or q.warning or q.search.strip() or q.since or q.until):
        return cells(session, q.campaign_id, include_refused=q.include_refused)
    rows = session.execute(select(S.status, S.verdict_rank, S.decision_rank, S.warnings_count, func.count())
                           .where(and_(*replace(q, include_refused=True).filters(session)))
                           .group_by(S.status, S.verdict_rank, S.decision_rank, S.warnings_count))
    return by_cell(rows, include_refused=q.include_refused)


def counts(session: Session, q: Query) -> Counts:
    """How many entries each choice of a filter would show, the other filters kept: the
    campaign's kept counts by (verdict, decision, any warning) do it, plus a GROUP BY when a
    search, a date or a single warning narrows the entries (two when both): the choices are
    counted from their few cells."""
    base = Query(q.campaign_id, include_refused=q.include_refused)
    everything = _cube(session, base)
    narrowed = replace(base, search=q.search, since=q.since, until=q.until)
    cube = _cube(session, narrowed) if narrowed != base else everything
    rule = q.warning not in ("", "none", "any")
    ruled = _cube(session, replace(narrowed, warning=q.warning)) if rule else cube
    v_want = VERDICT_ORDER.index(q.verdict) if q.verdict else None
    d_want = DECISION_ORDER.index(q.decision) if q.decision else None
    w_want = {"none": False, "any": True}.get(q.warning)

    def total(cells: dict[tuple[int, int, bool], int], *, v: bool = True, d: bool = True, w: bool = True,
              by: int = -1) -> dict[Any, int]:
        out: dict[Any, int] = {}
        for (vr, dr, warned), n in cells.items():
            if (v and v_want is not None and vr != v_want) or (d and d_want is not None and dr != d_want) \
                    or (w and w_want is not None and warned != w_want):
                continue
            k = (vr, dr, warned)[by] if by >= 0 else None
            out[k] = out.get(k, 0) + n
        return out

    verdicts = total(ruled, v=False, by=0)
    decisions = total(ruled, d=False, by=1)
    warnings = total(cube, w=False, by=2)
    return Counts(all=sum(everything.values()), total=total(ruled).get(None, 0),
                  verdicts={name: verdicts.get(i, 0) for i, name in enumerate(VERDICT_ORDER)},
                  decisions={name: decisions.get(i, 0) for i, name in enumerate(DECISION_ORDER)},
                  warnings={"none": warnings.get(False, 0), "any": warnings.get(True, 0)})
