"""The review trail read back (pure): the latest decision counts; a rule is waived when its
latest waiver row is a waiver."""

from __future__ import annotations

from datetime import UTC, datetime

from service.review.ledger import Line, state_from

AT = datetime(2026, 11, 24, tzinfo=UTC)


def line(i: int, kind: str, decision: str | None = None, rule: str | None = None) -> Line:
    return Line(id=i, kind=kind, decision=decision, rule=rule, note=None, by="评审甲", key_id="k", at=AT)


def test_latest_decision_and_waivers_count():
    state = state_from([
        line(3, "waive", rule="borders"),
        line(1, "decision", "needs_fix"),
        line(4, "decision", "accept"),
        line(2, "waive", rule="silence"),
        line(5, "unwaive", rule="silence"),
    ])
    assert state.decision is not None and state.decision.decision == "accept" and state.decision.id == 4
    assert state.waived == ("borders",)
    assert [x.id for x in state.lines] == [1, 2, 3, 4, 5]


def test_an_empty_trail_has_no_decision():
    state = state_from([])
    assert state.decision is None and state.waived == () and state.lines == ()
