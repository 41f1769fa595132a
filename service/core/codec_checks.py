"""The judges of what a file is made of: its container, video and audio codecs, pixel
format, whether it has an audio track, whether its MP4 index comes first (faststart), and
for photos the image format and colour mode. Each takes a rule and the facts and returns an
``Outcome`` (service/core/checks.py); judge.py maps the rule ids to them. Pure."""

from __future__ import annotations

from collections.abc import Callable

from service.core.checks import FixAction, Outcome, listed
from service.core.facts import MediaFacts
from service.core.rules import CaseChoiceRule, ChoiceRule, PresenceRule


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
