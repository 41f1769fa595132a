import textwrap

import pytest

from service.core.errors import ProfileError
from service.core.profiles import ProfileStore, load_profile

SHIPPED = ["shanxi-2023-microvideo", "shanxi-2023-explainer", "shanxi-2023-experiment",
           "guangxi-2023-kexuepai-video", "guangxi-2023-kexuepai-photo", "kepuri-2023-history-photo",
           "kepuri-2023-activity-evidence"]


@pytest.mark.parametrize("profile_id", SHIPPED)
def test_every_campaign_profile_loads_and_is_documented(store, profile_id):
    p = store.get(profile_id)
    assert p.id == profile_id and not p.abstract
    assert p.title.zh and p.title.en
    assert p.source is not None and p.source.notice.endswith(".txt")
    assert p.version


def test_campaign_profiles_are_listed_without_bases(store):
    ids = store.ids(include_abstract=False)
    assert set(SHIPPED) <= set(ids)
    assert "base-video" not in ids


def test_shanxi_microvideo_says_what_the_notice_says(store):
    v = store.get("shanxi-2023-microvideo").kinds["video"]
    assert v.container.allowed == ("mp4",) and v.container.severity == "required"
    assert v.video_codec.allowed == ("h264",) and v.video_codec.severity == "recommended"
    assert v.audio_codec.severity == "recommended"
    assert v.audio_present.required and v.audio_present.severity == "required"
    assert v.resolution.min.short_edge == 1080
    assert v.aspect_ratio.allowed[0].value == pytest.approx(16 / 9)
    assert v.orientation.allowed == ("landscape",)
    assert v.scan_type.allowed == ("progressive",)
    assert (v.duration.min, v.duration.max) == (120, 300)
    assert v.file_size.min.bytes == 100 * 2**20 and v.file_size.min.alt_bytes == 100_000_000
    assert v.file_size.max.bytes == 300 * 2**20


def test_extends_merges_and_child_wins(store):
    p = store.get("shanxi-2023-explainer")
    assert p.kinds["video"].faststart is not None          # from base-video
    assert p.kinds["video"].container.severity == "recommended"  # its own


def _write(tmp_path, name, text):
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_bad_profile_is_refused_with_file_line_and_reason(tmp_path):
    path = _write(tmp_path, "bad", """\
        id: bad
        version: 1
        title: {zh-CN: 坏, en: bad}
        kinds:
          video:
            duration:
              min: 2 fortnights
        """)
    with pytest.raises(ProfileError) as e:
        load_profile(path)
    assert e.value.file == str(path)
    assert e.value.line == 7
    assert "duration" in e.value.reason and "fortnights" in str(e.value)


@pytest.mark.parametrize(("body", "line", "needle"), [
    ("kinds:\n  video:\n    colour: {allowed: [red]}\n", 6, "Extra inputs"),
    ("kinds:\n  video:\n    file_size: {max: 300}\n", 6, "unit"),
    ("kinds:\n  video:\n    duration: {min: 5min, max: 2min}\n", 6, "min is greater"),
    ("kinds:\n  video:\n    duration: {about: 4min}\n", 6, "tolerance"),
    ("kinds:\n  sculpture: {}\n", 5, "kinds"),
    ("kinds: {}\n", 4, "kinds"),
    ("kinds:\n  video:\n    container: {allowed: [mp4], severity: mandatory}\n", 6, "severity"),
    ("kinds:\n  image: {}\nfilename: {pattern: '([a-z'}\n", 6, "regular expression"),
])
def test_invalid_rules_point_at_their_line(tmp_path, body, line, needle):
    path = _write(tmp_path, "p", "id: p\nversion: 1\ntitle: {zh-CN: 测, en: t}\n" + body)
    with pytest.raises(ProfileError) as e:
        load_profile(path)
    assert needle in str(e.value)
    assert e.value.line == line


def test_yaml_syntax_error_has_a_line(tmp_path):
    path = _write(tmp_path, "p", "id: p\nversion: 1\ntitle: [unclosed\n")
    with pytest.raises(ProfileError) as e:
        load_profile(path)
    assert e.value.line is not None and "YAML" in e.value.reason


def test_id_must_match_file_name(tmp_path):
    path = _write(tmp_path, "p", "id: q\nversion: 1\ntitle: {zh-CN: 测, en: t}\nkinds: {video: {}}\n")
    with pytest.raises(ProfileError, match="file name"):
        load_profile(path)


def test_extends_unknown_and_cycles(tmp_path):
    _write(tmp_path, "a", "id: a\nversion: 1\nextends: b\ntitle: {zh-CN: 甲, en: a}\nkinds: {video: {}}\n")
    _write(tmp_path, "b", "id: b\nversion: 1\nextends: a\ntitle: {zh-CN: 乙, en: b}\nkinds: {video: {}}\n")
    _write(tmp_path, "c", "id: c\nversion: 1\nextends: nope\ntitle: {zh-CN: 丙, en: c}\nkinds: {video: {}}\n")
    store = ProfileStore(tmp_path)
    with pytest.raises(ProfileError, match="cycle"):
        store.get("a")
    with pytest.raises(ProfileError, match="unknown profile 'nope'") as e:
        store.get("c")
    assert e.value.line == 3


def test_decimal_profile_reads_zhao_as_decimal(tmp_path):
    _write(tmp_path, "d", "id: d\nversion: 1\ntitle: {zh-CN: 丁, en: d}\nsize_unit: decimal\n"
                          "kinds: {video: {file_size: {min: 100兆, max: 300MiB}}}\n")
    fs = ProfileStore(tmp_path).get("d").kinds["video"].file_size
    assert fs.min.bytes == 100_000_000 and fs.min.alt_bytes == 100 * 2**20
    assert fs.max.bytes == 300 * 2**20 and fs.max.alt_bytes is None


def test_unknown_profile_lists_known_ones(store):
    with pytest.raises(ProfileError, match="shanxi-2023-microvideo"):
        store.get("no-such-campaign")
