"""Two levels of one rule: a required floor and a recommended part, reported under one rule id
(fail below the floor, warn between, pass at the preference), validated with file:line, shown
as two lines on the upload page. The examples are the notices' own (docs/profiles.md)."""

import textwrap

import pytest

from service.core import rulebook
from service.core.errors import ProfileError
from service.core.judge import judge
from service.core.profiles import load_profile
from tests.test_checks import by_rule, video

HEAD = "id: p\nversion: 1\ntitle: {zh-CN: 测, en: t}\n"


def _profile(tmp_path, body: str):
    path = tmp_path / "p.yaml"
    path.write_text(HEAD + textwrap.dedent(body), encoding="utf-8")
    return load_profile(path)


EXAMPLES = """\
kinds:
  video:
    container: {allowed: [mp4, asf, mov, avi, flv, mpeg-ps], recommended: {allowed: [mp4]}}
    resolution: {min: 1280x720, recommended: {min: 1920x1080}}
    duration: {max: 10min, recommended: {min: 3min, max: 5min}}
    file_size: {max: 500MB, recommended: {max: 300MB}}
    aspect_ratio: {allowed: ["16:9", "9:16", "4:3"], recommended: {allowed: ["16:9"]}}
"""


@pytest.mark.parametrize(("facts", "rule", "status"), [
    (video(width=1920, height=1080), "resolution", "pass"),
    (video(width=1080, height=1920), "resolution", "pass"),   # 1080×1920 preferred too: long with long
    (video(width=1280, height=720), "resolution", "warn"),
    (video(width=720, height=576), "resolution", "fail"),
    (video(duration_s=240.0), "duration", "pass"),
    (video(duration_s=420.0), "duration", "warn"),
    (video(duration_s=90.0), "duration", "warn"),
    (video(duration_s=660.0), "duration", "fail"),
    (video(container="mp4"), "container", "pass"),
    (video(container="asf"), "container", "warn"),
    (video(container="mkv"), "container", "fail"),
    (video(size_bytes=400_000_000), "file_size", "warn"),
    (video(size_bytes=600_000_000), "file_size", "fail"),
    (video(width=1440, height=1080), "aspect_ratio", "warn"),
])
def test_one_rule_id_fails_below_the_floor_warns_below_the_preference(tmp_path, facts, rule, status):
    checks = judge(facts, _profile(tmp_path, EXAMPLES))
    assert [c.rule for c in checks].count(rule) == 1
    c = by_rule(checks)[rule]
    assert c.status == status
    assert c.severity == "required" and c.recommended
    if status == "warn":
        assert "建议" in c.message["zh-CN"] and "recommendation" in c.message["en"]


def test_a_warned_preference_carries_its_fix_and_the_floor_is_expected(tmp_path):
    c = by_rule(judge(video(container="mov"), _profile(tmp_path, EXAMPLES)))["container"]
    assert c.status == "warn" and c.fixable and c.fix is not None and c.fix.params["container"] == "mp4"
    assert c.expected == "mp4 / asf / mov / avi / flv / mpeg-ps" and c.recommended == "mp4"


def test_the_upload_page_shows_two_lines_floor_first(tmp_path):
    lines = [r for r in rulebook.describe(_profile(tmp_path, EXAMPLES)) if r["rule"] == "resolution"]
    assert [(r["severity"], r["text"]["en"]) for r in lines] == [
        ("required", "Resolution 1280x720 or above"), ("recommended", "Resolution 1920x1080 or above")]
    dur = [r["text"]["zh-CN"] for r in rulebook.describe(_profile(tmp_path, EXAMPLES)) if r["rule"] == "duration"]
    assert dur == ["时长：不超过 10 分钟", "时长：3 分钟 至 5 分钟"]


@pytest.mark.parametrize(("body", "line", "needle"), [
    ("kinds:\n  video:\n    resolution:\n      min: 720p\n      recommended:\n        min: 1080q\n",
     9, "recommended: kinds.video.resolution.recommended: min: not a resolution"),
    ("kinds:\n  video:\n    duration:\n      max: 10min\n      recommended: {min: 3 fortnights}\n",
     8, "not a duration"),
    ("kinds:\n  video:\n    duration:\n      max: 10min\n      recommended: 5min\n", 8, "mapping"),
    ("kinds:\n  video:\n    container:\n      allowed: [mp4]\n      severity: recommended\n"
     "      recommended: {allowed: [mp4]}\n", 7, "floor"),
    ("kinds:\n  video:\n    container:\n      allowed: [mp4]\n      recommended: {allowed: [mp4], "
     "severity: required}\n", 8, "severity"),
])
def test_mistakes_in_the_recommended_part_have_file_and_line(tmp_path, body, line, needle):
    with pytest.raises(ProfileError) as e:
        _profile(tmp_path, body)
    assert needle.split(": ")[-1] in str(e.value)
    assert e.value.line == line, str(e.value)


def test_profile_validate_explains_a_mistake_in_the_recommended_part(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "p.yaml"
    bad.write_text(HEAD + "kinds:\n  video:\n    resolution:\n      min: 720p\n"
                   "      recommended:\n        min: 1080q\n", encoding="utf-8")
    v = subprocess.run([sys.executable, "-m", "service.cli", "profile", "validate", str(bad)],
                       capture_output=True, text=True, check=False)
    assert v.returncode == 2
    assert "p.yaml:9:" in v.stderr and "kinds.video.resolution.recommended" in v.stderr and "1080q" in v.stderr


def test_an_alternatives_option_has_one_level(tmp_path):
    with pytest.raises(ProfileError, match="one level") as e:
        _profile(tmp_path, """\
            kinds:
              image:
                alternatives:
                  - id: quality
                    any_of:
                      - file_size: {min: 5MB, recommended: {min: 8MB}}
                      - resolution: {min_long_edge: 3000}
            """)
    assert e.value.line == 7  # the alternative
