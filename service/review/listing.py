"""A campaign's entries a page at a time, from the summary rows (``SubmissionSummary``),
never from reports: filters (verdict, decision, content warning, created between), a search
of file names and entry details (LIKE on the folded ``search_text``, so Chinese works), a
sort with an index of its own, and keyset pagination: a page ends with a cursor holding the
last row's sort value and id, and the next page starts strictly after it, so every entry is
reached once whatever the ties. Counts per verdict, decision and warning come from GROUP BY.
The dashboard (``board_view``), the listing API and the export read entries through here."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, tuple_
from sqlalchemy.orm import Session

from service.core.labels import CONTENT_RULES
from service.core.summaries import DECISION_ORDER, VERDICT_ORDER, fold
from service.store.models import SubmissionSummary as S

SORTS: dict[str, Any] = {"created": S.created_at, "name": S.name_key, "size": S.size_bytes,
                         "duration": S.duration_key, "verdict": S.verdict_rank, "decision": S.decision_rank,
                         "warnings": S.warnings_count}
"""Sort keys and their columns; each has the index (campaign_id, column, submission_id)."""

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

    def filters(self, *, skip: str = "") -> list[ColumnElement[bool]]:
        """The WHERE clauses (``skip``: one filter left out, for its own counts)."""
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
            out.append(S.search_text.like(f"%{_escaped(fold(self.search.strip()))}%", escape="\\"))
        if self.since is not None:
            out.append(S.created_at >= self.since)
        if self.until is not None:
            out.append(S.created_at < self.until)
        return out


def parse_query(campaign_id: str, params: Mapping[str, str], **fixed: Any) -> Query:
    """A dashboard's query string as a Query: unknown values fall back to "all" and the default
    order (a shared link with a stale value still opens)."""
    sort = params.get("sort", "created")
    return Query(campaign_id=campaign_id,
                 verdict=_one_of(params.get("verdict"), VERDICT_ORDER),
                 decision=_one_of(params.get("decision"), DECISION_ORDER),
                 warning=_one_of(params.get("warning"), WARNING_FILTERS),
                 search=(params.get("q") or "")[:200], sort=sort if sort in SORTS else "created",
                 desc=params.get("dir") == "desc", after=params.get("after") or None, **fixed)


def _one_of(value: str | None, allowed: tuple[str, ...]) -> str:
    return value if value in allowed else ""


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


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


def page(session: Session, q: Query) -> Page:
    """One page of entries (``q.limit`` rows) and the cursor of the next."""
    col = SORTS[q.sort]
    where = q.filters()
    start = decode_cursor(q)
    if start is not None:
        key = tuple_(col, S.submission_id)
        where.append(key < tuple_(*start) if q.desc else key > tuple_(*start))
    order = (col.desc(), S.submission_id.desc()) if q.desc else (col.asc(), S.submission_id.asc())
    rows = list(session.scalars(select(S).where(and_(*where)).order_by(*order).limit(q.limit + 1)).all())
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    nxt = None
    if more and rows:
        last = rows[-1]
        nxt = encode_cursor(q.sort, q.desc, getattr(last, col.key), last.submission_id)
    return Page(rows=rows, next=nxt)


def every(session: Session, q: Query, batch: int = EXPORT_BATCH) -> Iterator[S]:
    """Every entry of the query in its order, fetched ``batch`` at a time (keyset: memory stays
    flat; the rows are expunged once given out)."""
    q = replace(q, limit=batch, after=None)
    while True:
        p = page(session, q)
        yield from p.rows
        session.expunge_all()
        if p.next is None:
            return
        q = replace(q, after=p.next)


def rule_ids(session: Session, q: Query) -> set[str]:
    """Every rule id checked in the entries of the query (few distinct sets: one per profile)."""
    out: set[str] = set()
    for ids in session.scalars(select(S.rule_ids).where(and_(*q.filters())).distinct()):
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


def counts(session: Session, q: Query) -> Counts:
    """How many entries each choice of a filter would show, the other filters kept (GROUP BY)."""
    def grouped(col: Any, skip: str) -> dict[Any, int]:
        rows = session.execute(select(col, func.count()).where(and_(*q.filters(skip=skip))).group_by(col))
        return {k: n for k, n in rows}

    v = grouped(S.verdict_rank, "verdict")
    d = grouped(S.decision_rank, "decision")
    w = grouped(S.warnings_count > 0, "warning")
    total = session.scalar(select(func.count()).select_from(S).where(and_(*q.filters()))) or 0
    everything = session.scalar(select(func.count()).select_from(S).where(
        and_(*Query(q.campaign_id, include_refused=q.include_refused).filters()))) or 0
    return Counts(all=everything, total=total, verdicts={name: v.get(i, 0) for i, name in enumerate(VERDICT_ORDER)},
                  decisions={name: d.get(i, 0) for i, name in enumerate(DECISION_ORDER)},
                  warnings={"none": w.get(False, 0), "any": w.get(True, 0)})  # SQLite gives 0/1: equal keys

