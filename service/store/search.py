"""A search of a campaign's entries (the dashboard's box, the listing API's ``q``) as a WHERE
clause over the summary rows: the entries whose ``search_text`` (file name and entry details,
folded by ``core.summaries.fold``) holds the folded search as a substring — exactly what
``search_text LIKE '%…%'`` finds — read through a text index where there is one, so a search
costs its matches rather than the whole campaign (issue 14). Migration 0007 makes the indexes.

- SQLite: ``summary_search``, an FTS5 table with the trigram tokenizer over a copy of each
  row's ``search_text``, under the row's rowid. A search of ``MIN_INDEXED`` characters or more
  is one FTS5 phrase (its trigrams one after the other: the substring, exactly); the user's
  text is quoted as a phrase, so nothing in it is FTS5 query syntax. A shorter search (王明)
  has no trigram: LIKE over the copy. A database the migration could not index (SQLite too old,
  or without FTS5): LIKE over the campaign's rows, as before.
- PostgreSQL: the LIKE itself; pg_trgm's GIN index on ``search_text`` serves it when the planner
  finds it cheaper, and rechecks every candidate, so the rows are LIKE's with or without it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, column, func, literal_column, select, table, text
from sqlalchemy.orm import Session

from service.core.summaries import fold
from service.store.models import SubmissionSummary as S

MIN_INDEXED = 3
"""Characters (after folding) a search needs to go through the trigram index."""

DRIVE_MAX = 1000
"""Most matches for which SQLite fetches a search's rows by rowid (``matches``). Measured at
50,000 entries: a page fetched that way costs ~1.4 µs a match (14 ms for 9,827 matches), a
walk of the sort index 0.3-4 ms whatever their number (it stops at the page's 51st match); a
count ~1.6 µs a match, a walk of the counting index 2.4 ms plus ~0.6 µs a match."""

INDEX_TABLE = "summary_search"
"""SQLite's FTS5 table (migration 0007); its shadow tables are named after it."""

TRGM_INDEX = "ix_summaries_search_trgm"
"""PostgreSQL's GIN index on ``search_text`` (migration 0007)."""

UNMODELLED = frozenset({("index", TRGM_INDEX)} | {("table", INDEX_TABLE + suffix) for suffix in
                                                   ("", "_data", "_idx", "_content", "_docsize", "_config")})
"""What migration 0007 makes beside the models (the FTS5 table and its shadow tables, the GIN
index, which may be missing): Alembic's comparison leaves them out (``modelled``)."""

_fts = table(INDEX_TABLE, column("rowid"), column("search_text"))


def modelled(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's ``include_name``: False for the search index's objects, so comparing the
    database with the models (autogenerate, tests/test_database.py) does not offer to drop them."""
    return (type_, name) not in UNMODELLED


def folded(search: str) -> str:
    """The text a search looks for: stripped, NFKC, lower case (as ``search_text`` is stored)."""
    return fold(search.strip())


def like_pattern(text_: str) -> str:
    """``%text%`` with LIKE's ``%``, ``_`` and the escape ``\\`` taken literally (ESCAPE '\\')."""
    return "%" + text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def phrase(text_: str) -> str:
    """``text`` as one FTS5 phrase: in double quotes, a quote doubled; nothing inside is syntax
    (``OR``, ``NEAR(``, ``*``, ``^``, ``:`` are characters of the phrase)."""
    return '"' + text_.replace('"', '""') + '"'


def _indexed(session: Session) -> bool:
    """Whether this SQLite database has the FTS5 table; remembered for the session."""
    memo = session.info.setdefault("search_index", {})
    if "indexed" not in memo:
        memo["indexed"] = session.execute(text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = :n"),
                                          {"n": INDEX_TABLE}).first() is not None
    return bool(memo["indexed"])


def _found(session: Session, fts_phrase: str) -> int:
    """How many summary rows (of every campaign) hold the phrase, counted in the FTS5 index
    alone (0.1 ms for 2,383 of 50,000, 0.6 ms for 9,827); remembered for the session, as the
    dashboard's page and its counts ask up to four times a request."""
    memo = session.info.setdefault("search_index", {})
    if fts_phrase not in memo:
        memo[fts_phrase] = session.scalar(select(func.count()).select_from(_fts)
                                          .where(_fts.c.search_text.op("MATCH")(fts_phrase)))
    return int(memo[fts_phrase])


def matches(session: Session, search: str) -> ColumnElement[bool]:
    """The summary rows whose search text holds ``search`` (folded), on the session's database.

    SQLite, ``MIN_INDEXED`` characters or more: the rowids of the FTS5 phrase. With at most
    ``DRIVE_MAX`` of them SQLite fetches those rows (cost: the matches); with more, the ``+``
    before the rowid keeps it from fetching them all, and it walks the campaign's index in the
    page's order instead, keeping the rows whose rowid the index gave, until the page is full
    (a count walks the counting index). Which way changes the cost, never the rows. Shorter:
    LIKE over the FTS5 table's own copy of the text (one short row per entry; the summary rows
    are wide), its rowids walked as above whatever their number: a search of two characters
    may match most entries (中学: 19,734 of 50,000, whose page fetched by rowid took 39 ms
    against 15 ms walked). PostgreSQL: LIKE, which the trigram index serves; a search
    too short for trigrams is ``strpos``, which it cannot serve: with LIKE, a prepared
    statement's generic plan read the whole GIN index for 王明 (61 ms at 50,000 entries,
    against 35 ms for reading the rows)."""
    want = folded(search)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql" and len(want) < MIN_INDEXED:
        return func.strpos(S.search_text, want) > 0
    like = like_pattern(want)
    if dialect != "sqlite" or not _indexed(session):
        return S.search_text.like(like, escape="\\")
    if len(want) < MIN_INDEXED:
        hits, walk = select(_fts.c.rowid).where(_fts.c.search_text.like(like, escape="\\")), True
    else:
        fts_phrase = phrase(want)
        hits = select(_fts.c.rowid).where(_fts.c.search_text.op("MATCH")(fts_phrase))
        walk = _found(session, fts_phrase) > DRIVE_MAX
    return literal_column(("+" if walk else "") + f"{S.__tablename__}.rowid").in_(hits)
