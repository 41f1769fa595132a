"""The rules notices ask for (issue 12, item 4), each on generated media: the fact behind it,
the check, and the fix where one exists (the fixed file passes the rule); EXIF kept (no fix),
per-kind file-name limits and the profile's manual items."""

from pathlib import Path

import pytest
from PIL import Image

from service.core.judge import judge
from service.core.profiles import load_profile
from service.fix.planner import plan_fix
from service.fix.steps import describe_step
from service.fix.transcode import fix_file
from service.media.checker import check_file
from tests.support.icc import adobe_rgb_icc
from tests.support.media import CACHE, ffmpeg_media
from tests.test_checks import by_rule, image, video

X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
PICTURE = ["-f", "lavfi", "-i", "testsrc2=s=320x180:r=25:d=2"]


def _profile(tmp_path: Path, kind: str, rules: str, top: str = ""):
    body = "\n".join("    " + line for line in rules.strip().splitlines())
    path = tmp_path / "rules.yaml"
    path.write_text(f"id: rules\nversion: 1\ntitle: {{zh-CN: 规则, en: rules}}\n{top}kinds:\n  {kind}:\n{body}\n",
                    encoding="utf-8")
    return load_profile(path)


def _fixed(src: Path, profile, tmp_path: Path, rules: tuple[str, ...], suffix: str = ".mp4"):
    before = check_file(src, profile)
    for rule in rules:
        c = by_rule(before.checks)[rule]
        assert c.status == "fail" and c.fixable, (rule, c.message)
    result = fix_file(src, profile, tmp_path / f"fixed{suffix}")
    assert result.status == "fixed", (result.reason, result.after and result.after.summary)
    after = check_file(tmp_path / f"fixed{suffix}", profile)
    for rule in rules:
        assert by_rule(after.checks)[rule].status == "pass", by_rule(after.checks)[rule].message
    return before, result, after


def test_audio_sample_rate_channels_and_bitrate_are_fixed_by_re_encoding_the_audio(tmp_path):
    src = ffmpeg_media("mono-44k.mp4", [*PICTURE, "-f", "lavfi", "-i", "anoisesrc=a=0.2:c=pink:r=44100:d=2",
                                        *X264, "-c:a", "aac", "-b:a", "64k", "-ac", "1", "-shortest"])
    profile = _profile(tmp_path, "video", """
audio_sample_rate: {allowed: [48kHz]}
audio_channels: {allowed: [stereo]}
audio_bitrate: {min: 128k}
""")
    before, result, after = _fixed(src, profile, tmp_path, ("audio_sample_rate", "audio_channels", "audio_bitrate"))
    assert before.media and (before.media.audio_sample_rate, before.media.audio_channels) == (44100, 1)
    assert before.media.audio_bitrate and before.media.audio_bitrate < 100_000
    assert result.plan.mode == "remux" and result.plan.video and result.plan.video.copy_video  # picture untouched
    step = next(s for s in result.plan.steps if s.action == "encode_audio")
    assert describe_step(step)["en"] == "re-encode the audio to AAC-LC 48 kHz, stereo, 144 kbps"  # 10% inside
    assert after.media and (after.media.audio_sample_rate, after.media.audio_channels) == (48000, 2)
    assert after.media.audio_bitrate and after.media.audio_bitrate >= 128_000
    assert by_rule(before.checks)["audio_channels"].message["en"].startswith("The audio is mono; expected stereo")


def test_the_audio_fix_aims_inside_the_bound_it_misses():
    """AAC at an average rate lands just under the rate asked (128 kbps gave 127.8 and failed the
    re-check): the fix aims 10% inside, in 8 kbps steps, never past the other bound."""
    from service.core.size_checks import audio_target

    assert audio_target(128_000, None, 64_000) == 144_000
    assert audio_target(None, 192_000, 320_000) == 168_000
    assert audio_target(128_000, 136_000, 64_000) == 132_000  # too narrow for the margin: the middle
    assert audio_target(128_000, 160_000, 320_000) == 144_000


def test_video_bitrate_out_of_range_is_re_encoded_inside_it(tmp_path):
    src = ffmpeg_media("vbr-3m.mp4", [*PICTURE, *X264, "-b:v", "3M", "-minrate", "3M", "-maxrate", "3M",
                                      "-bufsize", "3M", "-x264-params", "nal-hrd=cbr"])
    profile = _profile(tmp_path, "video", "video_bitrate: {min: 1024k, max: 1280k}")
    before, result, after = _fixed(src, profile, tmp_path, ("video_bitrate",))
    assert before.media and before.media.video_bitrate and before.media.video_bitrate > 2_000_000
    assert result.plan.video and result.plan.video.video_bitrate == 1_152_000
    assert after.media and 1_024_000 <= (after.media.video_bitrate or 0) <= 1_280_000


def test_codec_profile_and_square_pixels_are_fixed_by_re_encoding(tmp_path):
    src = ffmpeg_media("baseline-sar.mp4", [*PICTURE, "-vf", "setsar=4/3", *X264, "-profile:v", "baseline"])
    profile = _profile(tmp_path, "video", "video_profile: {allowed: [high]}\nsquare_pixels: {required: true}")
    before, result, after = _fixed(src, profile, tmp_path, ("video_profile", "square_pixels"))
    assert before.media and before.media.video_profile == "Constrained Baseline"
    assert before.media.sample_aspect_ratio == "4:3" and before.media.width == 427
    assert result.plan.mode == "reencode"
    assert after.media and after.media.video_profile == "High" and after.media.sample_aspect_ratio == "1:1"
    assert abs((after.media.width or 0) - before.media.width) <= 1 and after.media.height == 180  # even width


def _with_second_edit(src: Path) -> Path:
    """A copy of ``src`` (moov last) whose first track plays two edit-list segments."""
    import struct

    out = CACHE / f"edits2-{src.name}"
    if out.exists():
        return out
    data = bytearray(src.read_bytes())

    def find(kind: bytes, start: int, end: int) -> tuple[int, int]:
        pos = start
        while pos + 8 <= end:
            size, k = struct.unpack_from(">I4s", data, pos)
            if k == kind:
                return pos, size
            pos += size
        raise KeyError(kind)

    moov, ms = find(b"moov", 0, len(data))
    assert moov + ms == len(data), "the index must come last: growing it then moves no data"
    trak, ts = find(b"trak", moov + 8, moov + ms)
    edts, es = find(b"edts", trak + 8, trak + ts)
    elst, _ = find(b"elst", edts + 8, edts + es)
    width = 20 if data[elst + 8] == 1 else 12
    count = struct.unpack_from(">I", data, elst + 12)[0]
    entry = bytes(data[elst + 16:elst + 16 + width])
    for off in (moov, trak, edts, elst):
        struct.pack_into(">I", data, off, struct.unpack_from(">I", data, off)[0] + width)
    struct.pack_into(">I", data, elst + 12, count + 1)
    data[elst + 16 + count * width:elst + 16 + count * width] = entry
    out.write_bytes(bytes(data))
    return out


def test_a_multi_segment_edit_list_is_found_and_re_encoded_away(tmp_path):
    plain = ffmpeg_media("edits.mp4", [*PICTURE, *X264])
    src = _with_second_edit(plain)
    profile = _profile(tmp_path, "video", "edit_list: {allowed: [none, offset]}")
    assert check_file(plain, profile).media.edit_list in ("none", "offset")  # type: ignore[union-attr]
    before, result, after = _fixed(src, profile, tmp_path, ("edit_list",))
    assert before.media and before.media.edit_list == "complex"
    assert result.plan.mode == "reencode" and after.media and after.media.edit_list in ("none", "offset")
    assert check_file(src, _profile(tmp_path, "video", "edit_list: {allowed: [complex, none]}")).checks[-1] \
        .fixable is False  # no fix promised when a shifted start is not allowed either


def _photo(name: str, **save) -> Path:
    out = CACHE / name
    if not out.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (96, 64), (100, 150, 60)).save(out, "JPEG", quality=95, **save)
    return out


def test_a_wide_gamut_photo_is_converted_to_srgb(tmp_path):
    src = _photo("adobe-rgb.jpg", icc_profile=adobe_rgb_icc())
    profile = _profile(tmp_path, "image", "color_space: {allowed: [srgb]}")
    before, result, after = _fixed(src, profile, tmp_path, ("color_space",), ".jpg")
    assert before.media and before.media.color_space == "adobe-rgb"
    assert "convert_to_srgb" in result.plan.actions()
    assert after.media and after.media.color_space == "srgb"
    with Image.open(tmp_path / "fixed.jpg") as im:
        r, g, b = im.getpixel((48, 32))
    assert abs(r - 66) <= 4 and abs(g - 151) <= 4 and abs(b - 48) <= 4  # converted, not just relabelled


@pytest.mark.parametrize(("space", "expected", "status"), [(1, "srgb", "pass"), (0xFFFF, "uncalibrated", "fail")])
def test_exif_colour_space_is_read_when_there_is_no_icc_profile(tmp_path, space, expected, status):
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    exif.get_ifd(0x8769)[0xA001] = space
    src = _photo(f"exif-space-{space}.jpg", exif=exif.tobytes())
    report = check_file(src, _profile(tmp_path, "image", "color_space: {allowed: [srgb]}"))
    assert report.media and report.media.color_space == expected and report.media.exif_tags == 2
    assert by_rule(report.checks)["color_space"].status == status


def test_exif_kept_fails_without_a_fix_and_a_photo_fix_keeps_exif(tmp_path):
    bare = _photo("no-exif.jpg")
    profile = _profile(tmp_path, "image", "exif: {required: true}\nresolution: {max: 48x48}")
    c = by_rule(check_file(bare, profile).checks)["exif"]
    assert c.status == "fail" and not c.fixable and "cannot be restored" in c.message["en"]
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    exif[0x0110] = "Model"
    exif.get_ifd(0x8769)[0x9003] = "2023:05:20 10:00:00"
    with_exif = _photo("with-exif.jpg", exif=exif.tobytes())
    _, _, after = _fixed(with_exif, profile, tmp_path, ("resolution",), ".jpg")
    assert by_rule(after.checks)["exif"].status == "pass" and after.media and after.media.exif_tags == 3


def test_a_kinds_file_name_rule_forbids_words_and_length(tmp_path):
    profile = _profile(tmp_path, "video", 'filename: {forbidden: ["张三", "author"], max_length: 20}',
                       top="filename: {pattern: '^never$'}\n")
    def name(n: str):
        return by_rule(judge(video(), profile, n))["filename"]
    assert name("科学实验.mp4").status == "pass"  # the kind's rule replaces the top-level one
    bad = name("科学实验-张三.mp4")
    assert bad.status == "fail" and "张三" in bad.message["zh-CN"] and not bad.fixable
    assert "AUTHOR" in name("AUTHOR-x.mp4").message["en"]
    assert "more than 20" in name("a" * 21 + ".mp4").message["en"]


def test_manual_items_are_listed_never_passed(tmp_path, validate_report):
    profile = _profile(tmp_path, "video",
                       "manual:\n  - {zh-CN: 须有片头、正片、片尾, en: 'Opening titles, main part and end credits'}",
                       top="manual:\n  - {zh-CN: 普通话解说, en: Mandarin narration}\n")
    src = ffmpeg_media("manual.mp4", [*PICTURE, *X264])
    report = check_file(src, profile)
    assert [m.text["en"] for m in report.manual] == ["Mandarin narration", "Opening titles, main part and end credits"]
    assert {m.status for m in report.manual} == {"manual"}
    assert report.verdict == "pass" and "manual" not in {c.rule for c in report.checks}
    data = validate_report(report)
    assert data["manual"][0]["status"] == "manual"
    assert not check_file(src, _profile(tmp_path, "video", "exif: {required: false}")).manual


@pytest.mark.parametrize(("facts", "rule", "status"), [
    (video(audio_sample_rate=48000), "audio_sample_rate", "pass"),
    (video(audio_sample_rate=44100), "audio_sample_rate", "fail"),
    (video(audio_channels=6), "audio_channels", "fail"),
    (video(audio_present=False, audio_codec=None), "audio_channels", "skip"),
    (video(video_bitrate=1_100_000), "video_bitrate", "pass"),
    (video(video_bitrate=None, bitrate=1_300_000, audio_bitrate=128_000), "video_bitrate", "pass"),
    (video(video_profile="Main"), "video_profile", "fail"),
    (image(), "exif", "fail"),
    (image(exif_tags=12), "exif", "pass"),
    (image(color_space=None), "color_space", "pass"),
])
def test_pure_judges(tmp_path, facts, rule, status):
    kind = facts.kind
    rules = {"video": "audio_sample_rate: {allowed: [48000]}\naudio_channels: {allowed: [2]}\n"
                      "video_bitrate: {min: 1024k, max: 1280k}\nvideo_profile: {allowed: [high]}",
             "image": "exif: {required: true}\ncolor_space: {allowed: [srgb]}"}[kind]
    assert by_rule(judge(facts, _profile(tmp_path, kind, rules)))[rule].status == status


def test_a_six_channel_file_is_downmixed(tmp_path):
    profile = _profile(tmp_path, "video", "audio_channels: {allowed: [stereo]}")
    checks = judge(video(audio_channels=6), profile)
    assert "downmixed to stereo" in by_rule(checks)["audio_channels"].message["en"]
    plan = plan_fix(video(audio_channels=6), checks, profile)
    assert plan.video and plan.video.audio_channels == 2 and plan.video.copy_video
