"""Names people read for the ids in a report: rules, verdicts, check statuses and reviewer
decisions, Chinese first with English. Pure data; the reviewers' pages, the campaign export,
the batch summary and its report pages all use them, so a rule has one name everywhere."""

from __future__ import annotations

from collections.abc import Iterable

RULE_LABELS: dict[str, tuple[str, str]] = {
    "readable": ("可读取", "Readable"),
    "media_kind": ("媒体类型", "Media kind"),
    "container": ("封装格式", "Container"),
    "video_codec": ("视频编码", "Video codec"),
    "audio_codec": ("音频编码", "Audio codec"),
    "audio_present": ("音轨", "Audio track"),
    "resolution": ("分辨率", "Resolution"),
    "aspect_ratio": ("画面比例", "Aspect ratio"),
    "orientation": ("横竖屏", "Orientation"),
    "scan_type": ("扫描方式", "Scan type"),
    "frame_rate": ("帧率", "Frame rate"),
    "frame_rate_mode": ("帧率模式", "Frame-rate mode"),
    "duration": ("时长", "Duration"),
    "file_size": ("文件大小", "File size"),
    "bitrate": ("码率", "Bitrate"),
    "pixel_format": ("像素格式", "Pixel format"),
    "faststart": ("边下边播（moov 前置）", "Fast start"),
    "image_format": ("图片格式", "Image format"),
    "color_mode": ("色彩模式", "Colour mode"),
    "dpi": ("打印分辨率（DPI）", "DPI"),
    "animated": ("动图", "Animation"),
    "audio_sample_rate": ("音频采样率", "Audio sample rate"),
    "audio_channels": ("声道", "Audio channels"),
    "audio_bitrate": ("音频码率", "Audio bitrate"),
    "video_bitrate": ("视频码率", "Video bitrate"),
    "video_profile": ("编码档次", "Codec profile"),
    "square_pixels": ("方形像素", "Square pixels"),
    "edit_list": ("编辑列表（MP4）", "Edit lists (MP4)"),
    "color_space": ("色彩空间", "Colour space"),
    "exif": ("EXIF 信息", "EXIF record"),
    "filename": ("文件名", "File name"),
    "black_segments": ("黑场", "Black segments"),
    "frozen_segments": ("静止画面", "Frozen picture"),
    "static_content": ("幻灯片式画面", "Slideshow-like"),
    "silence": ("静音", "Silence"),
    "loudness": ("响度", "Loudness"),
    "borders": ("黑边（全画幅）", "Black bars (full frame)"),
    "interlace_detected": ("隔行锯齿", "Interlacing combs"),
    "content_analysis": ("内容分析", "Content analysis"),
}
"""Rule id → (Chinese, English). A rule id missing here is shown as itself. The order is the
order of the per-rule columns in the spreadsheets (content rules last)."""

CONTENT_RULES = ("black_segments", "frozen_segments", "static_content", "silence", "loudness", "borders",
                 "interlace_detected")
"""Rule ids of the deep content analysis (their warnings are the 'content warnings')."""

VERDICT_LABELS: dict[str, tuple[str, str]] = {
    "pass": ("通过", "Pass"), "warn": ("通过（有警告）", "Pass with warnings"),
    "fail": ("不通过", "Fail"), "error": ("无法检查", "Could not check"),
}
"""A report's verdict: the service's pages, the reviewers' board and export, the batch's pages."""

BATCH_VERDICT_LABELS: dict[str, tuple[str, str]] = {**VERDICT_LABELS, "skipped": ("已跳过", "Skipped")}
"""The verdicts of a batch, where an entry can also be skipped (not media, encrypted, nested zip …)."""

STATUS_LABELS: dict[str, tuple[str, str]] = {
    "pass": ("通过", "pass"), "warn": ("警告", "warning"), "fail": ("不符合", "fail"),
    "skip": ("未检查", "skipped"), "waived": ("已豁免", "waived"),
}
"""One rule's status, in tables and spreadsheet cells. (The service's report page words them as
a sentence about the rule instead: ``service/web/report_view.STATUS_WORDS``.)"""

DECISION_LABELS: dict[str, tuple[str, str]] = {
    "accept": ("接受", "Accept"), "reject": ("拒绝", "Reject"), "needs_fix": ("需修改", "Needs fix"),
}


def label(table: dict[str, tuple[str, str]], key: str, lang: str = "zh-CN") -> str:
    """The name of ``key`` in ``lang`` (zh-CN or en); the key itself when unknown."""
    zh, en = names(table, key)
    return en if lang.startswith("en") else zh


def names(table: dict[str, tuple[str, str]], key: str) -> tuple[str, str]:
    """Both names of ``key`` (Chinese, English), for the places that show them side by side;
    the key itself twice when unknown."""
    return table.get(key, (key, key))


def joined(items: Iterable[str], lang: str = "zh-CN") -> str:
    """``items`` as a list in ``lang``: 、 between them in Chinese, a comma in English."""
    return (", " if lang.startswith("en") else "、").join(items)


def rule_names(rules: Iterable[str], lang: str = "zh-CN") -> str:
    """The rules by the names people read, as a list in ``lang`` (an unknown id as it is)."""
    return joined((label(RULE_LABELS, r, lang) for r in rules), lang)
