"""Hand-over names safe for Windows and GBK."""

from __future__ import annotations

import pytest

from service.core.safe_names import MAX_NAME_BYTES, safe_name, unique_names


@pytest.mark.parametrize(("raw", "want"), [
    ("001-星空-张三.mp4", "001-星空-张三.mp4"),
    ('a<b>c:d"e/f\\g|h?i*.MP4', "a_b_c_d_e_f_g_h_i_.mp4"),
    ("CON.mp4", "_CON.mp4"),
    ("lpt1", "_lpt1"),
    ("name. . .mp4", "name.mp4"),
    ("tab\there.mp4", "tab here.mp4"),
    ("emoji🎬.mp4", "emoji_.mp4"),
    ("", "entry"),
    ("...mp4", "entry.mp4"),
])
def test_safe_name(raw: str, want: str) -> None:
    assert safe_name(raw) == want


def test_long_names_bounded_in_gbk_bytes() -> None:
    got = safe_name("长" * 300 + ".mp4")
    assert got.endswith(".mp4") and len(got.encode("gbk")) <= MAX_NAME_BYTES


def test_unique_names() -> None:
    assert unique_names(["a.mp4", "A.mp4", "a.mp4", "b"]) == ["a.mp4", "A (2).mp4", "a (3).mp4", "b"]
