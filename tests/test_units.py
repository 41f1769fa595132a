from fractions import Fraction

import pytest

from service.core import units


@pytest.mark.parametrize(("text", "reading", "expected", "alt"), [
    ("100MB", "binary", 100_000_000, None),
    ("100 MiB", "binary", 104_857_600, None),
    ("100兆", "binary", 104_857_600, 100_000_000),
    ("100兆", "decimal", 100_000_000, 104_857_600),
    ("300M", "binary", 314_572_800, 300_000_000),
    ("1.5GiB", "binary", 1_610_612_736, None),
    ("2GB", "binary", 2_000_000_000, None),
    ("512B", "binary", 512, None),
])
def test_parse_size_readings(text, reading, expected, alt):
    s = units.parse_size(text, reading)
    assert s.bytes == expected
    assert s.alt_bytes == alt


@pytest.mark.parametrize("bad", ["", "MB", "10 parsecs", "-5MB", "1e6"])
def test_parse_size_rejects(bad):
    with pytest.raises(ValueError, match="size"):
        units.parse_size(bad)


@pytest.mark.parametrize(("text", "seconds"), [
    ("2min", 120), ("5 min", 300), ("4:00", 240), ("1:02:03", 3723), ("300s", 300), ("300", 300),
    ("5分钟", 300), ("90秒", 90), ("1h", 3600), ("2.5min", 150), (45, 45.0),
])
def test_parse_duration(text, seconds):
    assert units.parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["two minutes", "1:2:3:4", "5 fortnights", ""])
def test_parse_duration_rejects(bad):
    with pytest.raises(ValueError, match="duration"):
        units.parse_duration(bad)


def test_parse_ratio():
    assert units.parse_ratio("16:9").value == pytest.approx(16 / 9)
    assert units.parse_ratio("9/16").value == pytest.approx(9 / 16)
    assert units.parse_ratio("1.85").value == pytest.approx(1.85)
    with pytest.raises(ValueError):
        units.parse_ratio("0:9")


@pytest.mark.parametrize(("text", "long_edge", "short_edge"), [
    ("1080p", None, 1080), ("720P", None, 720), ("4K", None, 2160), ("1920x1080", 1920, 1080),
    ("1920*1080", 1920, 1080), ("1080×1920", 1920, 1080), (1080, None, 1080),
])
def test_parse_resolution(text, long_edge, short_edge):
    r = units.parse_resolution(text)
    assert (r.long_edge, r.short_edge) == (long_edge, short_edge)


def test_parse_frame_rate_is_exact():
    assert units.parse_frame_rate("30000/1001") == Fraction(30000, 1001)
    assert units.parse_frame_rate("25") == 25
    assert units.parse_frame_rate("29.97fps") == Fraction(2997, 100)
    with pytest.raises(ValueError):
        units.parse_frame_rate("fast")


def test_parse_bitrate_is_decimal():
    assert units.parse_bitrate("8Mbps") == 8_000_000
    assert units.parse_bitrate("800k") == 800_000
    assert units.parse_bitrate(1000) == 1000


def test_tolerance_relative_and_absolute():
    assert units.parse_tolerance("10%", 240) == pytest.approx(24)
    assert units.parse_tolerance("30s", 240, units.parse_duration) == 30


def test_human_formats_show_both_readings():
    assert units.human_bytes(314_572_800) == "300.0 MiB (314.6 MB)"
    assert units.human_duration(185.4) == "3:05.4"
