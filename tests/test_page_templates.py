"""The pages' templates (service/pages) without a browser: the one environment escapes every
value and refuses a missing one, the bilingual helper puts Chinese first, and a hostile file
name (``<script>``, quotes, ``&``) comes out as text on the submitter's report page, the
batch's index and the reviewer's board."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import jinja2
import pytest

from service.batch.entries import BatchEntry
from service.batch.index_page import write_index
from service.batch.summary import collect_stats
from service.batch.task import Record
from service.core.entry_fields import EntryRules
from service.core.summaries import DECISION_ORDER, VERDICT_ORDER
from service.pages import BOTH, ENV, STYLESHEET, TEMPLATES, bilingual, render
from service.review.board import BoardEntry
from service.review.board_view import dashboard_view
from service.review.ledger import ReviewState
from service.review.listing import Counts, Page, Query
from service.store.models import Submission, SubmissionSummary
from service.store.summaries import values
from service.web.report_view import report_view

HOSTILE = """<script>alert("x")</script>'&amp;.mp4"""
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&#39;&amp;amp;.mp4"


def _submission() -> Submission:
    return Submission(id="s1", campaign_id="c1", profile_id="p", file_name=HOSTILE, size_bytes=1234,
                      sha256="ab" * 32, storage_key="k", receipt_hash="h", status="checked",
                      created_at=datetime(2026, 1, 1, tzinfo=UTC))


def test_the_environment_escapes_and_refuses_missing_values() -> None:
    assert ENV.autoescape is True or ENV.autoescape(None) is True
    page = ENV.from_string("{{ x }}").render(x="<b>")
    assert page == "&lt;b&gt;"
    with pytest.raises(jinja2.UndefinedError):
        ENV.from_string("{{ missing }}").render()


def test_the_bilingual_helper_puts_chinese_first() -> None:
    assert bilingual("zh-CN", "通过", "Pass") == "通过"
    assert bilingual("en", ("通过", "Pass")) == "Pass"
    assert bilingual("en", {"zh-CN": "通过", "en": "Pass"}) == "Pass"
    assert str(bilingual(BOTH, "<通过>", "Pass")) == '&lt;通过&gt; <span class="en">Pass</span>'


def test_every_page_extends_the_one_base_layout() -> None:
    pages = [p for p in TEMPLATES.rglob("*.html")
             if p.name not in ("base.html", "fix_section.html") and p.parent.name != "partials"]
    assert len(pages) >= 9
    for p in pages:
        text = p.read_text(encoding="utf-8")
        assert '{% extends "base.html" %}' in text or '{% extends "review/layout.html" %}' in text, p


def test_the_report_page_escapes_a_hostile_name_and_links_the_stylesheet() -> None:
    report = {"verdict": "fail", "fixable": False, "summary": {"zh-CN": HOSTILE, "en": HOSTILE},
              "checks": [{"rule": "duration", "status": "fail", "message": {"zh-CN": HOSTILE, "en": HOSTILE},
                          "expected": HOSTILE, "actual": "<i>", "fixable": False}]}
    page = render("report.html", **report_view(_submission(), report, lang="zh-CN", token="t"))
    assert "<script>alert" not in page and "<i>" not in page
    assert page.count(ESCAPED) == 4  # the name, the summary, the message, what is expected
    assert '<link rel="stylesheet" href="/static/mediacheck.css">' in page and "<style>" not in page


def test_the_batch_index_escapes_a_hostile_name_and_carries_its_stylesheet(tmp_path) -> None:
    entry = BatchEntry(id="/x/" + HOSTILE, source="/x/" + HOSTILE, name=HOSTILE, size=3, stamp="1", action="skip",
                  reason_code="not_media", reason={"zh-CN": "不是音视频或图片文件", "en": "not media"})
    records = [Record(entry=entry, status="skipped", reason=entry.reason)]
    write_index(tmp_path / "index.html", records, collect_stats(records), profile="p", created_at="now")
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page and ESCAPED in page
    assert "<style>" in page and STYLESHEET.read_text(encoding="utf-8").strip() in page
    assert 'rel="stylesheet"' not in page  # self-contained: opened from a folder


def test_the_reviewer_board_escapes_a_hostile_name() -> None:
    row = SubmissionSummary(**values(_submission(), None, [], thumbnail=False, fixed_verdict=None))
    campaign = SimpleNamespace(id="c1", title={"zh-CN": HOSTILE, "en": HOSTILE}, entry=EntryRules())
    q = Query("c1", search=HOSTILE)
    n = Counts(all=1, total=1, verdicts=dict.fromkeys(VERDICT_ORDER, 0), decisions=dict.fromkeys(DECISION_ORDER, 0),
               warnings={"none": 1, "any": 0})
    page = render("review/dashboard.html", **dashboard_view(campaign, q, Page([row], None), n, "zh-CN", {}))  # type: ignore[arg-type]
    assert "<script>alert" not in page
    assert page.count(ESCAPED) == 5  # the title, the heading, the search box, the row's data-name and its link
    assert f'data-name="{ESCAPED.lower()}"' in page and f'value="{ESCAPED}"' in page
    # entry details from a submitter, under a label an organiser wrote (loaded for the page's rows by id)
    campaign.entry = EntryRules.model_validate({"fields": [{"key": "title", "label": {"zh-CN": HOSTILE}}]})
    details = {row.submission_id: {"title": HOSTILE}}
    page = render("review/dashboard.html",
                  **dashboard_view(campaign, q, Page([row], None), n, "zh-CN", {}, details))  # type: ignore[arg-type]
    assert "<script>alert" not in page
    assert page.count(ESCAPED) == 9  # and the value, its label (a title and its sort link) and its search key


def test_the_reviewer_entry_page_lists_the_manual_items_as_a_checklist(tmp_path) -> None:
    from service.core.judge import judge
    from service.core.profiles import load_profile
    from service.core.report import FileInfo, build_report
    from service.review.entry_view import entry_view
    from tests.test_checks import video

    path = tmp_path / "m.yaml"
    path.write_text("id: m\nversion: 1\ntitle: {zh-CN: 测, en: t}\n"
                    "manual:\n  - {zh-CN: 须有片头片尾, en: Titles and credits}\n"
                    "kinds:\n  video:\n    manual:\n      - {zh-CN: '<b>无水印</b>', en: No watermark}\n",
                    encoding="utf-8")
    profile = load_profile(path)
    facts = video()
    report = build_report(file=FileInfo(name="a.mp4", size_bytes=facts.size_bytes), profile=profile, media=facts,
                          checks=judge(facts, profile), tools={}, timings_ms={})
    entry = BoardEntry(sub=_submission(), report=report, state=ReviewState(decision=None, waived=(), lines=()),
                       pictures={}, fixed=None)
    zh = render("review/entry.html", **entry_view(entry, "zh-CN", "活动"))
    assert '<ul id="manual">' in zh and zh.count('type="checkbox"') == 2
    assert "须有片头片尾" in zh and "&lt;b&gt;无水印&lt;/b&gt;" in zh and "<b>无水印" not in zh
    en = render("review/entry.html", **entry_view(entry, "en", "campaign"))
    assert "Checklist for the reviewer" in en and "No watermark" in en
    assert report.verdict == "pass"  # the manual items never make a verdict
