"""The sort keys of a submission's entry details (table ``entry_sort_keys``): one row per
non-empty value, the value folded as searches fold it (``core.summaries.fold``: NFKC, then
casefold, so Ｂeta, BETA and beta sort together, which SQL ``lower()`` on SQLite, ASCII only,
did not do) and cut to ``VALUE_CHARS``. The dashboard's sort by an entry field walks their
index (campaign, field, value, id) in order; an entry without the value has no row and sorts
last (``review/listing``).

Every key of the details gets a row, not only the campaign's declared fields: the details are
checked against the declared fields at intake anyway (few keys, short values), a field an
organiser declares later is sortable at once without a refill, and the writer needs nothing
but the submission (no campaign to read, none for the shipped profiles' implicit campaigns).

``write`` is called by the summary rows' one writer, ``store/summaries.refresh``, in the same
transaction: it reads the submission's rows and writes only what changed (nothing, for the
reports and decisions that make most refreshes). Bulk writers that bypass ``refresh``
(migration 0008's fill, benchmarks/bench_scale.py) insert ``rows`` themselves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from service.core.summaries import fold
from service.store.models import EntrySortKey as K

VALUE_CHARS = 200
"""Characters of a folded value kept as its sort key: values longer than that sort by their
first 200 characters, then by id (the longest declared field, ``long_text``, holds 2,000)."""

KEY_CHARS = 40
"""Longest field key kept (``core.entry_fields``' key pattern): a longer one can never be a
declared field, so nothing sorts by it."""


def keys(details: Mapping[str, Any] | None) -> dict[str, str]:
    """The sort key of each detail with a value: field key → the value folded and cut. An
    empty value, one that folds to nothing, or a list or object has none."""
    out: dict[str, str] = {}
    for field, value in (details or {}).items():
        if value is None or isinstance(value, dict | list) or len(field) > KEY_CHARS:
            continue
        folded = fold(str(value))[:VALUE_CHARS]
        if folded:
            out[field] = folded
    return out


def rows(submission_id: str, campaign_id: str, details: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """The ``entry_sort_keys`` rows of one submission, for a bulk insert."""
    return [{"submission_id": submission_id, "field_key": f, "campaign_id": campaign_id, "value_key": v}
            for f, v in keys(details).items()]


def write(session: Session, submission_id: str, campaign_id: str, details: Mapping[str, Any] | None) -> bool:
    """Make the submission's rows those of ``details``: rows of keys gone deleted, new ones
    inserted, changed values updated, the others left alone. True when anything was written."""
    want = keys(details)
    have = {f: (v, c) for f, v, c in session.execute(
        select(K.field_key, K.value_key, K.campaign_id).where(K.submission_id == submission_id))}
    gone = [f for f in have if f not in want]
    new = [f for f in want if f not in have]
    changed = [f for f in want if f in have and have[f] != (want[f], campaign_id)]
    if gone:
        session.execute(delete(K).where(K.submission_id == submission_id, K.field_key.in_(gone)))
    for f in changed:
        session.execute(update(K).where(K.submission_id == submission_id, K.field_key == f)
                        .values(value_key=want[f], campaign_id=campaign_id))
    if new:
        session.execute(insert(K), [{"submission_id": submission_id, "field_key": f, "campaign_id": campaign_id,
                                     "value_key": want[f]} for f in new])
    return bool(gone or new or changed)
