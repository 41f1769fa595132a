"""The judges of what a file is made of: its container, video and audio codecs, pixel
format, whether it has an audio track, whether its MP4 index comes first (faststart), the
audio's sample rate and channels, the video codec's profile, MP4 edit lists, and for photos
the image format, colour mode, colour space (sRGB) and EXIF. Each takes a rule and the facts and returns an
``Outcome`` (service/core/checks.py); judge.py maps the rule ids to them. Pure."""

from __future__ import annotations

from collections.abc import Callable

from service.core.checks import FixAction, Outcome, listed
from service.core.facts import MediaFacts
from service.core.rules import CaseChoiceRule, ChannelsRule, ChoiceRule, EditListRule, PresenceRule, SampleRateRule


def _choice(label_zh: str, label_en: str, value: str | None, fix: FixAction | None) -> Callable[..., Outcome]:
    def judge(rule: ChoiceRule | CaseChoiceRule, f: MediaFacts) -> Outcome:
        expected = listed(rule.allowed)
        if value is None:
            return Outcome(None, expected, None, f"无法确定{label_zh}。", f"The {label_en} could not be determined.")
        ok = value in rule.allowed
        if ok:
            return Outcome(True, expected, value, f"{label_zh}为 {value}，符合要求。",
                           f"The {label_en} is {value}, as required.")
        return Outcome(False, expected, value, f"{label_zh}为 {value}，要求 {expected}。",
                       f"The {label_en} is {value}; expected {expected}.", fix)
    return judge


def container(rule: ChoiceRule, f: MediaFacts) -> Outcome:
    target = rule.allowed[0]
    return _choice("封装格式", "container", f.container, FixAction(action="remux", params={"container": target}))(
        rule, f)


def video_codec(rule: ChoiceRule, f: MediaFacts) -> Outcome:
    if f.kind != "video":
        return Outcome(None, listed(rule.allowed), None, "没有视频流。", "There is no video stream.")
    fix = FixAction(action="transcode_video", params={"codec": rule.allowed[0]})
    return _choice("视频编码", "video codec", f.video_codec, fix)(rule, f)


def audio_codec(rule: ChoiceRule, f: MediaFacts) -> Outcome:
    if not f.audio_present:
        return Outcome(None, listed(rule.allowed), None, "没有音轨，不检查音频编码。",
                       "No audio track, so the audio codec is not checked.")
    fix = FixAction(action="transcode_audio", params={"codec": rule.allowed[0]})
    return _choice("音频编码", "audio codec", f.audio_codec, fix)(rule, f)


def pixel_format(rule: ChoiceRule, f: MediaFacts) -> Outcome:
    fix = FixAction(action="transcode_video", params={"pixel_format": rule.allowed[0]})
    return _choice("像素格式", "pixel format", f.pixel_format, fix)(rule, f)


def image_format(rule: ChoiceRule, f: MediaFacts) -> Outcome:
    fix = FixAction(action="convert_image", params={"format": rule.allowed[0]})
    return _choice("图片格式", "image format", f.image_format, fix)(rule, f)


def color_mode(rule: CaseChoiceRule, f: MediaFacts) -> Outcome:
    fix = FixAction(action="convert_color", params={"mode": rule.allowed[0]})
    return _choice("色彩模式", "colour mode", f.color_mode, fix)(rule, f)


def audio_present(rule: PresenceRule, f: MediaFacts) -> Outcome:
    if not rule.required:
        return Outcome(True, "—", str(f.audio_present).lower(), "无音轨要求。", "No audio requirement.")
    if f.audio_present:
        return Outcome(True, "audio track", f"{f.audio_streams} track(s)", "有音轨。", "An audio track is present.")
    return Outcome(False, "audio track", "none", "缺少音轨：作品须有配音/解说，无法自动补救（不会凭空生成音频）。",
                   "No audio track: the entry needs narration; this cannot be fixed automatically "
                   "(audio is never invented).", fixable=False)


def faststart(rule: PresenceRule, f: MediaFacts) -> Outcome:
    if f.faststart is None:
        return Outcome(None, "moov before mdat", None, "非 MP4/MOV 文件，不适用。", "Not an MP4/MOV file: not applicable.")
    if f.faststart or not rule.required:
        return Outcome(True, "moov before mdat", "moov first" if f.faststart else "moov last",
                       "索引（moov）位于文件开头，可边下边播。", "The index (moov) is at the start: the file streams.")
    return Outcome(False, "moov before mdat", "moov after mdat",
                   "索引（moov）位于文件末尾，网络播放需等整个文件下载完。可自动修复（无损重封装）。",
                   "The index (moov) is at the end, so web playback waits for the whole file. "
                   "Fixable by a lossless remux.", FixAction(action="faststart"))


_CHANNEL_NAMES = {1: ("单声道", "mono"), 2: ("立体声", "stereo"), 6: ("5.1 声道", "5.1"), 8: ("7.1 声道", "7.1")}


def _channels(n: int) -> tuple[str, str]:
    return _CHANNEL_NAMES.get(n, (f"{n} 声道", f"{n} channels"))


def audio_sample_rate(rule: SampleRateRule, f: MediaFacts) -> Outcome:
    expected = listed(tuple(f"{r / 1000:g} kHz" for r in rule.allowed))
    if not f.audio_present:
        return Outcome(None, expected, None, "没有音轨，不检查采样率。", "No audio track, so the sample rate is not checked.")
    if not f.audio_sample_rate:
        return Outcome(None, expected, None, "无法确定音频采样率。", "The audio sample rate could not be determined.")
    actual = f"{f.audio_sample_rate / 1000:g} kHz"
    if f.audio_sample_rate in rule.allowed:
        return Outcome(True, expected, actual, f"音频采样率 {actual}，符合要求。", f"Audio sample rate {actual}, as required.")
    return Outcome(False, expected, actual, f"音频采样率 {actual}，要求 {expected}。可重新采样（音频重新编码）。",
                   f"Audio sample rate {actual}; expected {expected}. Fixable by resampling (the audio is re-encoded).",
                   FixAction(action="transcode_audio", params={"sample_rate": rule.allowed[0]}))


def audio_channels(rule: ChannelsRule, f: MediaFacts) -> Outcome:
    expected = listed(tuple(_channels(n)[1] for n in rule.allowed))
    expected_zh = "或".join(_channels(n)[0] for n in rule.allowed)
    if not f.audio_present:
        return Outcome(None, expected, None, "没有音轨，不检查声道。", "No audio track, so the channels are not checked.")
    if not f.audio_channels:
        return Outcome(None, expected, None, "无法确定声道数。", "The number of audio channels could not be determined.")
    zh, en = _channels(f.audio_channels)
    if f.audio_channels in rule.allowed:
        return Outcome(True, expected, en, f"音频为{zh}，符合要求。", f"The audio is {en}, as required.")
    target = rule.allowed[0]
    how_zh, how_en = ("缩混", "downmixed") if target < f.audio_channels else ("扩展", "upmixed")
    return Outcome(False, expected, en, f"音频为{zh}，要求{expected_zh}。可自动{how_zh}为{_channels(target)[0]}。",
                   f"The audio is {en}; expected {expected}. Fixable: it is {how_en} to {_channels(target)[1]}.",
                   FixAction(action="transcode_audio", params={"channels": target}))


def video_profile(rule: ChoiceRule, f: MediaFacts) -> Outcome:
    expected = listed(rule.allowed)
    if f.kind != "video":
        return Outcome(None, expected, None, "没有视频流。", "There is no video stream.")
    value = (f.video_profile or "").strip().lower() or None
    if value is None:
        return Outcome(None, expected, None, "无法确定编码档次（profile）。", "The codec profile could not be determined.")
    label = f"{f.video_codec or ''} {f.video_profile}".strip()
    if value in rule.allowed:
        return Outcome(True, expected, label, f"编码档次 {label}，符合要求。", f"Codec profile {label}, as required.")
    fix = FixAction(action="transcode_video", params={"profile": "high"}) if "high" in rule.allowed else None
    return Outcome(False, expected, label,
                   f"编码档次 {label}，要求 {expected}。" + ("可重新编码为 H.264 High。" if fix else ""),
                   f"Codec profile {label}; expected {expected}." + (" Fixable by re-encoding to H.264 High." if fix
                                                                      else ""), fix)


def edit_list(rule: EditListRule, f: MediaFacts) -> Outcome:
    expected = listed(rule.allowed)
    if f.edit_list is None:
        return Outcome(None, expected, None, "非 MP4/MOV 文件或无法读取索引，不检查编辑列表。",
                       "Not an MP4/MOV file, or its index was not read: edit lists not checked.")
    if f.edit_list in rule.allowed:
        return Outcome(True, expected, f.edit_list, "编辑列表符合要求。", "The edit lists are as required.")
    fix = FixAction(action="transcode_video", params={"edit_list": "flatten"}) if "offset" in rule.allowed else None
    zh = {"complex": "文件带有多段编辑列表（剪辑软件只“标记”了剪切，部分播放器和剪辑软件会忽略，导致画面或声音错位）",
          "offset": "文件带有编辑列表（起点偏移）"}[f.edit_list] if f.edit_list != "none" else "文件没有编辑列表"
    en = {"complex": "The file has a multi-segment edit list (cuts only marked, not made: some players and "
                     "editors ignore it, and picture or sound slips)",
          "offset": "The file has an edit list (a shifted start)"}[f.edit_list] if f.edit_list != "none" \
        else "The file has no edit list"
    return Outcome(False, expected, f.edit_list, zh + ("。可重新编码，把剪切真正做进画面和声音。" if fix else "。"),
                   en + (". Fixable by re-encoding, which makes the cuts for real." if fix else "."), fix)


def color_space(rule: ChoiceRule, f: MediaFacts) -> Outcome:
    expected = listed(rule.allowed)
    if f.kind != "image":
        return Outcome(None, expected, None, "不是图片。", "Not a photo.")
    value = f.color_space or "srgb"
    actual = f.color_space or "untagged (read as srgb)"
    if value in rule.allowed:
        zh = "未声明色彩空间，按 sRGB 处理，符合要求。" if f.color_space is None else f"色彩空间 {value}，符合要求。"
        return Outcome(True, expected, actual, zh, f"Colour space {actual}, as required.")
    fix = FixAction(action="convert_color", params={"space": "srgb"}) if "srgb" in rule.allowed else None
    return Outcome(False, expected, actual,
                   f"色彩空间为 {actual}，要求 {expected}。" + ("可按其 ICC 配置文件转换为 sRGB。" if fix else ""),
                   f"The colour space is {actual}; expected {expected}."
                   + (" Fixable: converted to sRGB through its ICC profile." if fix else ""), fix)


def exif(rule: PresenceRule, f: MediaFacts) -> Outcome:
    if f.kind != "image":
        return Outcome(None, "EXIF", None, "不是图片。", "Not a photo.")
    count = f.exif_tags or 0
    actual = f"{count} EXIF tag(s)"
    if count or not rule.required:
        return Outcome(True, "EXIF kept", actual, f"照片保留了 EXIF 信息（{count} 项）。",
                       f"The photo keeps its EXIF record ({count} tags).")
    return Outcome(False, "EXIF kept", actual,
                   "照片没有 EXIF 信息（拍摄时间、相机等），无法自动恢复：请提交相机或手机导出的原图。",
                   "The photo carries no EXIF record (time, camera …); it cannot be restored automatically: "
                   "submit the original file from the camera or phone.", fixable=False)
