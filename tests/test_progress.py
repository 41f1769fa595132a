from __future__ import annotations

import io

from service.batch.progress import Progress, _fit


def test_fit_counts_chinese_as_two_columns():
    assert _fit("通过 pass", 6) == "通过 p"
    assert _fit("abc", 10) == "abc"


def test_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    p = Progress(2, 2000, out, tty=False)
    p.add("pass", 1000)
    p.add("fail", 1000)
    p.finish()
    lines = out.getvalue().splitlines()
    assert lines[-1].startswith("mediacheck batch: 2/2")
    assert "通过 pass 1" in lines[-1] and "不通过 fail 1" in lines[-1] and "ETA 0:00" in lines[-1]
    assert "\r" not in out.getvalue()
    assert len(lines) == 2  # the first line, then the last; no repeat at finish


def test_bar_redraws_in_place_on_a_terminal():
    out = io.StringIO()
    p = Progress(4, 4000, out, tty=True)
    p.add("pass", 1000)
    p.finish()
    text = out.getvalue()
    assert text.startswith("\r\x1b[K") and text.endswith("\n")
    assert "1/4" in text
