from __future__ import annotations

import io

from service.batch.progress import BatchProgress, ProgressBar, _fit


def test_fit_counts_chinese_as_two_columns():
    assert _fit("通过 pass", 6) == "通过 p"
    assert _fit("abc", 10) == "abc"


def test_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    p = BatchProgress(2, 2000, out, tty=False)
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
    p = BatchProgress(4, 4000, out, tty=True)
    p.add("pass", 1000)
    p.finish()
    text = out.getvalue()
    assert text.startswith("\r\x1b[K") and text.endswith("\n")
    assert "1/4" in text


def test_the_bar_shows_the_end_and_no_fraction_twice_in_plain_lines():
    out = io.StringIO()
    bar = ProgressBar(out, tty=False)
    bar.show(0.1, "bar text", plain="10%")
    bar.show(0.2, "bar text", plain="20%")  # within the interval: not shown
    bar.show(1.0, "bar text", plain="100%")  # the end: always
    bar.show(1.0, "bar text", plain="100%", force=True)  # never the same fraction twice
    bar.finish()
    assert out.getvalue() == "10%\n100%\n"


def test_the_bar_redraws_in_place_and_ends_its_line_on_a_terminal():
    out = io.StringIO()
    bar = ProgressBar(out, tty=True)
    bar.finish()
    assert out.getvalue() == ""  # nothing drawn, no line to end
    bar.show(0.5, "half")
    bar.show(0.6, "more")  # within the interval: not redrawn
    bar.show(1.0, "all")
    bar.finish()
    assert out.getvalue() == "\r\x1b[K" + "█" * 10 + "░" * 10 + " half" + "\r\x1b[K" + "█" * 20 + " all\n"
