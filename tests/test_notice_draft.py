"""``mediacheck profile draft``: the phrasings of the notices, and the shipped profiles drafted
again from their seed notices (tests/notices/, copies of ../shared/seeds/)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.core.notice_draft import TWO_LEVELS, decode_notice, draft_profile, draft_yaml, read_notice, select_section
from service.core.profiles import KindSpec, Profile, ProfileStore, load_profile

ROOT = Path(__file__).resolve().parent.parent
NOTICES = Path(__file__).parent / "notices"
PROFILES = ROOT / "profiles"


ASIDE = {"source", "note", "recommended"}
"""Not compared: the quote, the reason, and a preferred level (a choice where the notice names one level)."""


def _rules(text: str, kind: str = "video") -> dict[str, dict[str, Any]]:
    """The drafted rules of one kind as the loaded model holds them (ASIDE aside)."""
    data = draft_profile(text, "t")
    spec = KindSpec.model_validate(data["kinds"][kind], context={"size_unit": "binary"})
    return {rid: r.model_dump(exclude=ASIDE) for rid, r in spec.items()}


@pytest.mark.parametrize(("text", "rule", "expected"), [
    ("格式须为MP4格式", "container", {"allowed": ("mp4",)}),
    ("视频封装格式为MP4或MOV", "container", {"allowed": ("mp4", "mov")}),
    ("画幅比例16:9", "aspect_ratio", {"allowed": ({"text": "16:9", "value": 16 / 9},)}),
    ("视频须横屏拍摄", "orientation", {"allowed": ("landscape",)}),
    ("横屏或竖屏均可", "orientation", {"allowed": ("landscape", "portrait")}),
    ("分辨率为1080p以上", "resolution", {"min": {"text": "1080p", "long_edge": None, "short_edge": 1080}}),
    ("分辨率1920×1080以上", "resolution", {"min": {"text": "1920x1080", "long_edge": 1920, "short_edge": 1080}}),
    ("分辨率不低于1920*1080", "resolution", {"min": {"text": "1920x1080", "long_edge": 1920, "short_edge": 1080}}),
    ("分辨率为1920*1080像素", "resolution", {"exact": {"text": "1920x1080", "long_edge": 1920, "short_edge": 1080}}),
    ("大小为100-300兆之间", "file_size", {"min": 100 * 2**20, "max": 300 * 2**20}),
    ("文件大小100M-300M", "file_size", {"min": 100 * 2**20, "max": 300 * 2**20}),
    ("单个文件不超过500MB", "file_size", {"max": 500 * 2**20}),
    ("大小至少在200兆左右", "file_size", {"min": 180 * 2**20}),
    ("视频时长为2-5分钟", "duration", {"min": 120.0, "max": 300.0}),
    ("视频时长不超过5分钟", "duration", {"max": 300.0}),
    ("时长30秒至5分钟", "duration", {"min": 30.0, "max": 300.0}),
    ("时长5分钟以内（含5分钟）", "duration", {"max": 300.0}),
    ("时长为4分钟", "duration", {"about": 240.0, "tolerance": "10%"}),
    ("帧率不低于25帧", "frame_rate", {"min": 25.0}),
    ("帧率25fps或30fps", "frame_rate", {"allowed": (25.0, 30.0)}),
    ("帧率25或30帧", "frame_rate", {"allowed": (25.0, 30.0)}),
    ("画幅16:9或9:16", "aspect_ratio",
     {"allowed": ({"text": "16:9", "value": 16 / 9}, {"text": "9:16", "value": 9 / 16})}),
    ("画幅16:9或9:16", "orientation", {"allowed": ("landscape", "portrait")}),
    ("1920×1080或1080×1920", "resolution", {"exact": {"text": "1920x1080", "long_edge": 1920, "short_edge": 1080}}),
    ("码率约8Mbps", "bitrate", {"min": 7_200_000, "max": 8_800_000}),
    ("大小约300兆", "file_size", {"about": 300 * 2**20, "tolerance": "10%"}),
    ("WMV格式", "container", {"allowed": ("asf",)}),
    ("全高清", "resolution", {"min": {"text": "1080p", "long_edge": None, "short_edge": 1080}}),
    ("视频码率1024-1280kbps", "bitrate", {"min": 1_024_000, "max": 1_280_000}),
    ("码率不低于8Mbps", "bitrate", {"min": 8_000_000}),
    ("视频编码为H.264", "video_codec", {"allowed": ("h264",)}),
    ("音频编码AAC", "audio_codec", {"allowed": ("aac",)}),
])
def test_each_phrasing_becomes_its_rule(text: str, rule: str, expected: dict[str, Any]) -> None:
    got = _rules(text)[rule]
    for key, value in expected.items():
        actual = got[key]
        if isinstance(actual, dict) and "bytes" in actual:
            actual = actual["bytes"]
        assert actual == value, (text, key, got)


@pytest.mark.parametrize(("text", "severity"), [
    ("建议使用MP4格式", "recommended"),
    ("推荐MP4格式", "recommended"),
    ("最好为MP4格式", "recommended"),
    ("须为MP4格式", "required"),
    ("应为MP4格式", "required"),
    ("必须为MP4格式", "required"),
    ("MP4格式", "required"),
])
def test_modal_words_set_the_severity(text: str, severity: str) -> None:
    assert _rules(text)["container"]["severity"] == severity


def test_a_modal_word_carries_over_the_clauses_of_its_sentence() -> None:
    rules = _rules("建议使用MP4格式，分辨率1080p以上。时长不超过5分钟。")
    assert rules["container"]["severity"] == "recommended"
    assert rules["resolution"]["severity"] == "recommended"
    assert rules["duration"]["severity"] == "required"
    rules = _rules("时长2分钟以上为宜，横屏或竖屏均可")  # 为宜 at the end: this clause's alone
    assert rules["duration"]["severity"] == "recommended" and rules["orientation"]["severity"] == "required"


def test_every_rule_quotes_its_clause_and_the_yaml_loads(tmp_path: Path) -> None:
    text = "视频须为MP4格式，时长不超过5分钟，分辨率1920×1080。"
    data = draft_profile(text, "quoted")
    quotes = {rid: body["source"]["quote"] for rid, body in data["kinds"]["video"].items()}
    assert quotes == {"container": "视频须为MP4格式", "duration": "时长不超过5分钟", "resolution": "分辨率1920×1080"}
    path = tmp_path / "quoted.yaml"
    path.write_text(draft_yaml(text, "quoted"), encoding="utf-8")
    profile = load_profile(path, ProfileStore(PROFILES))
    assert profile.kinds["video"].container is not None
    assert profile.kinds["video"].container.source is not None
    assert profile.kinds["video"].container.source.quote == "视频须为MP4格式"


def test_uncheckable_phrases_are_manual_items_and_unread_ones_comments() -> None:
    text = "视频应有片头、正片、片尾三部分构成，配音和解说使用普通话。视频画质须清晰流畅。"
    draft = read_notice(text)
    assert {"structure", "mandarin"} <= set(draft.manual)
    assert draft.unread == ["视频画质须清晰流畅"]
    out = draft_yaml(text, "x")
    head = out.split("\nid: x\n")[0]
    assert "#   - 视频画质须清晰流畅" in head
    if "manual" in Profile.model_fields:  # the language has manual: items (issue 12.4)
        assert {"zh-CN": "配音和解说使用普通话", "en": "Narration and voice-over in Mandarin"} in \
            yaml.safe_load(out)["manual"]
    else:  # as comments shaped as the items, to uncomment
        line = "#   - {zh-CN: 配音和解说使用普通话, en: \"Narration and voice-over in Mandarin\"}"
        assert f"{line}  # 配音和解说使用普通话" in head


def test_a_floor_and_a_preference_of_one_rule() -> None:
    draft = read_notice("时长3-5分钟为宜，最长不超过10分钟。推荐MP4格式，也可使用WMV、MOV格式。")
    duration, container = draft.kinds["video"]["duration"], draft.kinds["video"]["container"]
    assert duration["max"] == "10min" and duration["severity"] == "required"  # 为宜 is its own clause's
    assert container["allowed"] == ["mp4", "asf", "mov"] and container["severity"] == "required"
    if TWO_LEVELS:  # the language has preferred levels (issue 12.1): one rule, two levels
        assert duration["recommended"] == {"min": "3min", "max": "5min"}
        assert container["recommended"] == {"allowed": ["mp4"]}
        assert draft.conflicts == []
    else:  # listed for the organiser
        assert len(draft.conflicts) == 2 and "3min" in draft.conflicts[0]


def test_a_rule_stated_twice_at_one_level_keeps_the_first() -> None:
    draft = read_notice("时长不超过5分钟。时长不超过6分钟。")
    assert draft.kinds["video"]["duration"]["max"] == "5min"
    assert draft.conflicts == ["video.duration also max: 6min (required): “时长不超过6分钟”"]


def test_gb18030_notices_are_read() -> None:
    text = (NOTICES / "000_ffe46b1d57df4d5b.txt").read_text(encoding="utf-8")
    assert decode_notice(text.encode("gb18030")) == text
    assert decode_notice(b"\xef\xbb\xbf" + "横屏".encode()) == "横屏"


def test_photo_phrasings_go_to_the_image_kind() -> None:
    rules = _rules("照片须为JPG格式，长边不少于1920像素，大小不超过20兆", "image")
    assert rules["image_format"]["allowed"] == ("jpeg",)
    assert rules["resolution"]["min_long_edge"] == 1920
    assert rules["file_size"]["max"]["bytes"] == 20 * 2**20


def test_traditional_characters_are_read() -> None:
    assert _rules("視頻時長不超過5分鐘")["duration"]["max"] == 300.0


# The shipped profiles and where their notice speaks: (seed, section heading or None, kind).
SHIPPED = {
    "shanxi-2023-microvideo": ("001_d3a84615df332b90.txt", "科普微视频制作", "video"),
    "shanxi-2023-explainer": ("001_d3a84615df332b90.txt", "科普讲解", "video"),
    "shanxi-2023-experiment": ("001_d3a84615df332b90.txt", "科学实验展演汇演", "video"),
    "guangxi-2023-kexuepai-video": ("000_ffe46b1d57df4d5b.txt", None, "video"),
    "guangxi-2023-kexuepai-photo": ("000_ffe46b1d57df4d5b.txt", None, "image"),
    "kepuri-2023-history-photo": ("002_00e744333b53d59f.txt", None, "image"),
    "kepuri-2023-activity-evidence": ("003_96f67d877e948f4e.txt", None, "video"),
}

# Where the shipped profile differs from the notice's own words, with the profile's reason
# (each one is among the profile's `decisions`). Everything else must be drafted identically.
DECIDED = {
    "shanxi-2023-microvideo": {
        "aspect_ratio": "tolerance 1% instead of the default 2%: the national contest's \"16:9 full frame\"",
    },
    "shanxi-2023-explainer": {
        "duration": "the talk is 4 minutes; the recording may differ by ±30 s (the draft's default is ±10%)",
        "container": "the notice names no format: MP4 recommended",
        "audio_present": "a talk must be heard",
        "resolution": "the notice names no resolution: at least 720p",
        "orientation": "recorded talks are landscape (recommended)",
        "file_size": "the notice sets no size: 2 GiB",
    },
    "shanxi-2023-experiment": {
        "container": "the notice names no format: MP4 recommended",
        "audio_present": "recommended for a demonstration",
        "file_size": "the notice sets no size: 2 GiB",
    },
    "guangxi-2023-kexuepai-video": {
        "aspect_ratio": "1920×1080 shot in landscape is read as 16:9",
        "scan_type": "progressive recommended",
        "file_size": "the notice sets no maximum: 1 GiB (the minimum is drafted)",
        "audio_present": "recommended for an introduction video",
    },
    "guangxi-2023-kexuepai-photo": {"resolution": "no photo specs: long edge ≥ 1920 recommended"},
    "kepuri-2023-history-photo": {"dpi": "the spec attachment is missing: 300 DPI recommended"},
    "kepuri-2023-activity-evidence": {
        "container": "no specs: MP4", "video_codec": "no specs: H.264 recommended",
        "resolution": "no specs: at least 720p", "aspect_ratio": "no specs: the usual frames",
        "duration": "no specs: at most 10 minutes", "file_size": "no specs: at most 500 兆",
    },
}


def _own_rules(profile_id: str, kind: str) -> dict[str, dict[str, Any]]:
    """The rules the shipped file itself states for ``kind`` (what it inherits aside)."""
    data = yaml.safe_load((PROFILES / f"{profile_id}.yaml").read_text(encoding="utf-8"))
    spec = KindSpec.model_validate(data["kinds"][kind], context={"size_unit": data.get("size_unit", "binary")})
    return {rid: r.model_dump(exclude=ASIDE) for rid, r in spec.items()}


@pytest.mark.parametrize("profile_id", sorted(SHIPPED))
def test_drafting_a_shipped_profile_from_its_notice_gives_its_rules(profile_id: str, tmp_path: Path) -> None:
    seed, section, kind = SHIPPED[profile_id]
    text = decode_notice((NOTICES / seed).read_bytes())
    if section:
        text = select_section(text, section)
    drafted = _rules(text, kind)
    shipped = _own_rules(profile_id, kind)
    decided = DECIDED.get(profile_id, {})
    for rule_id in sorted(set(drafted) | set(shipped)):
        if rule_id in decided:
            continue
        assert drafted.get(rule_id) == shipped.get(rule_id), (profile_id, rule_id)
    for rule_id in decided:  # a decision listed here really is one: the draft does not already agree
        assert drafted.get(rule_id) != shipped.get(rule_id), (profile_id, rule_id)
    assert load_profile(PROFILES / f"{profile_id}.yaml").decisions, "a profile with decisions documents them"
    path = tmp_path / f"{profile_id}.yaml"
    path.write_text(draft_yaml(text, profile_id, notice=seed), encoding="utf-8")
    assert isinstance(load_profile(path, ProfileStore(PROFILES)), Profile)


def test_a_section_ends_at_the_next_heading() -> None:
    text = decode_notice((NOTICES / "001_d3a84615df332b90.txt").read_bytes())
    part = select_section(text, "科普讲解")
    assert part.lstrip().startswith("1.科普讲解") and "4分钟" in part and "6分钟" not in part
    with pytest.raises(ValueError, match="no line"):
        select_section(text, "不存在的标题")


def test_the_cli_drafts_a_gb18030_notice_that_validate_accepts(tmp_path: Path) -> None:
    mediacheck = str(Path(sys.executable).with_name("mediacheck"))
    notice = tmp_path / "通知.txt"
    notice.write_bytes((NOTICES / "001_d3a84615df332b90.txt").read_text(encoding="utf-8").encode("gb18030"))
    out = tmp_path / "shanxi-draft.yaml"
    proc = subprocess.run([mediacheck, "profile", "draft", str(notice), "--id", "shanxi-draft",
                           "--section", "科普微视频制作", "-o", str(out)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([mediacheck, "profile", "validate", str(out)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("OK shanxi-draft draft"), proc.stderr
    text = out.read_text(encoding="utf-8")
    assert "quote: 单个视频大小为100-300兆之间" in text and "普通话" in text
    proc = subprocess.run([mediacheck, "profile", "draft", str(notice)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--id" in proc.stderr
