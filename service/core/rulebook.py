"""A profile's rules in plain words (for the upload page), and the subset a browser can
check before uploading (type, size, duration, width/height). Pure."""

from __future__ import annotations

from typing import Any

from service.core.profiles import Profile
from service.core.rules import FilenameRule, Rules
from service.core.size_checks import MAX_AUDIO_PADDING_S

KIND_WORDS = {"video": ("视频", "video"), "image": ("图片", "photo"), "audio": ("音频", "audio")}

EXTENSIONS = {
    "mp4": [".mp4"],
    "mov": [".mov"],
    "mkv": [".mkv"],
    "avi": [".avi"],
    "webm": [".webm"],
    "asf": [".wmv", ".asf"],
    "flv": [".flv"],
    "mpeg-ps": [".mpg", ".mpeg"],
    "mpegts": [".ts"],
    "jpeg": [".jpg", ".jpeg"],
    "png": [".png"],
    "webp": [".webp"],
    "tiff": [".tif", ".tiff"],
    "heif": [".heic", ".heif"],
    "gif": [".gif"],
    "bmp": [".bmp"],
}
"""File endings a browser may see for each container or image format."""

DEFAULT_EXTENSIONS = {
    "video": [".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v"],
    "image": [".jpg", ".jpeg", ".png", ".webp", ".heic", ".tif", ".tiff"],
    "audio": [".mp3", ".m4a", ".wav", ".aac"],
}


def _mmss(s: float) -> tuple[str, str]:
    if s < 60 and s != int(s):
        return f"{s:g} 秒", f"{s:g} s"
    m, sec = divmod(round(s), 60)
    zh = f"{m} 分钟" + (f" {sec} 秒" if sec else "") if m else f"{sec} 秒"
    en = f"{m} min" + (f" {sec} s" if sec else "") if m else f"{sec} s"
    return zh, en


def _bounds(lo: tuple[str, str] | None, hi: tuple[str, str] | None) -> tuple[str, str]:
    if lo and hi:
        return f"{lo[0]} 至 {hi[0]}", f"{lo[1]} to {hi[1]}"
    if lo:
        return f"不少于 {lo[0]}", f"at least {lo[1]}"
    assert hi is not None
    return f"不超过 {hi[0]}", f"at most {hi[1]}"


def _words(rule_id: str, rule: Any) -> tuple[str, str] | None:
    names = {
        "container": ("文件格式", "Format"),
        "video_codec": ("视频编码", "Video codec"),
        "audio_codec": ("音频编码", "Audio codec"),
        "pixel_format": ("像素格式", "Pixel format"),
        "image_format": ("图片格式", "Image format"),
        "color_mode": ("色彩模式", "Colour mode"),
        "aspect_ratio": ("画面比例", "Aspect ratio"),
        "orientation": ("画面方向", "Orientation"),
        "scan_type": ("扫描方式", "Scan type"),
        "frame_rate_mode": ("帧率模式", "Frame-rate mode"),
    }
    if rule_id in names and hasattr(rule, "allowed"):
        vals = [getattr(v, "text", str(v)) for v in rule.allowed]
        zh_vals = {
            "landscape": "横屏",
            "portrait": "竖屏",
            "square": "方形",
            "progressive": "逐行",
            "interlaced": "隔行",
            "constant": "恒定",
            "variable": "可变",
        }
        return (
            f"{names[rule_id][0]}："
            + "、".join(zh_vals.get(v, v.upper() if rule_id == "container" else v) for v in vals),
            f"{names[rule_id][1]}: {', '.join(vals)}",
        )
    if rule_id == "duration":
        lo, hi = rule.window()
        b = _bounds(_mmss(lo) if lo else None, _mmss(hi) if hi else None)
        return f"时长：{b[0]}", f"Duration {b[1]}"
    if rule_id == "file_size":
        b = _bounds((rule.min.text,) * 2 if rule.min else None, (rule.max.text,) * 2 if rule.max else None)
        return f"文件大小：{b[0]}", f"File size {b[1]}"
    if rule_id == "resolution":
        if rule.exact:
            return f"分辨率为 {rule.exact.text}", f"Resolution {rule.exact.text}"
        if rule.min:
            return f"分辨率不低于 {rule.min.text}", f"Resolution {rule.min.text} or above"
        if rule.min_long_edge:
            return f"长边不少于 {rule.min_long_edge} 像素", f"Long edge at least {rule.min_long_edge} px"
        if rule.min_short_edge:
            return f"短边不少于 {rule.min_short_edge} 像素", f"Short edge at least {rule.min_short_edge} px"
        return None
    if rule_id == "audio_present":
        return (
            ("须有音轨", "An audio track is required")
            if rule.required
            else ("不需要音轨", "No audio track needed")
        )
    if rule_id == "faststart":
        return "索引在文件开头（便于网页播放）", "Index at the start (plays on the web while downloading)"
    if rule_id == "frame_rate":
        b = _bounds(
            (f"{rule.min:g}",) * 2 if rule.min else None, (f"{rule.max:g}",) * 2 if rule.max else None
        )
        return f"帧率：{b[0]} 帧/秒", f"Frame rate {b[1]} fps"
    if rule_id == "animated":
        return ("不接受动图", "No animated images") if not rule.allowed else None
    if rule_id == "dpi":
        return f"分辨率不低于 {rule.min:g} dpi", f"At least {rule.min:g} dpi"
    return _more_words(rule_id, rule)


def _more_words(rule_id: str, rule: Any) -> tuple[str, str] | None:
    """The sentences of the audio, bitrate, profile, pixel, edit-list and photo rules."""
    if rule_id == "audio_sample_rate":
        rates = "、".join(f"{r / 1000:g} kHz" for r in rule.allowed)
        return f"音频采样率：{rates}", f"Audio sample rate: {', '.join(f'{r / 1000:g} kHz' for r in rule.allowed)}"
    if rule_id == "audio_channels":
        words = {1: ("单声道", "mono"), 2: ("立体声", "stereo")}
        zh = "或".join(words.get(n, (f"{n} 声道", ""))[0] for n in rule.allowed)
        en = " or ".join(words.get(n, ("", f"{n} channels"))[1] for n in rule.allowed)
        return f"声道：{zh}", f"Audio: {en}"
    if rule_id in ("audio_bitrate", "video_bitrate"):
        def rate(b: int | None) -> tuple[str, str] | None:
            return None if b is None else ((f"{b / 1000:g} kbps",) * 2)
        b = _bounds(rate(rule.min), rate(rule.max))
        zh, en = ("音频码率", "Audio bitrate") if rule_id == "audio_bitrate" else ("视频码率", "Video bitrate")
        return f"{zh}：{b[0]}", f"{en} {b[1]}"
    if rule_id == "video_profile":
        return f"编码档次：{'、'.join(rule.allowed)}", f"Codec profile: {', '.join(rule.allowed)}"
    if rule_id == "square_pixels" and rule.required:
        return "方形像素（SAR 1:1）", "Square pixels (SAR 1:1)"
    if rule_id == "edit_list":
        return ("不含多段编辑列表（剪切须真正剪出）", "No multi-segment edit lists (cuts made, not marked)") \
            if "complex" not in rule.allowed else None
    if rule_id == "color_space":
        return f"色彩空间：{'、'.join(rule.allowed)}", f"Colour space: {', '.join(rule.allowed)}"
    if rule_id == "exif" and rule.required:
        return "须保留完整 EXIF 信息（原图）", "The original EXIF record must be kept"
    return None


def describe(profile: Profile) -> list[dict[str, Any]]:
    """Every rule of a profile in one plain sentence per language, required ones first."""
    out: list[dict[str, Any]] = []
    for kind, spec in profile.kinds.items():
        for rule_id, rule in Rules.items(spec):
            first = len(out)
            levels = [(rule, rule.severity)] + ([(rule.recommended, "recommended")] if rule.recommended else [])
            for level, severity in levels:  # a rule with two levels is two lines: the floor, the preference
                words = _words(rule_id, level)
                if words:
                    out.append(
                        {
                            "profile": profile.id,
                            "kind": kind,
                            "rule": rule_id,
                            "severity": severity,
                            "text": {"zh-CN": words[0], "en": words[1]},
                        }
                    )
            for line in out[first:]:
                line["_order"] = rule.severity != "required"
    named: list[tuple[str | None, FilenameRule | None]] = [(None, profile.filename)]
    named += [(k, s.filename) for k, s in profile.kinds.items()]
    for name_kind, name_rule in named:
        if name_rule is None:
            continue
        ex = name_rule.example or name_rule.pattern
        zh = [f"文件名格式：{ex}"] if ex else []
        en = [f"File name like: {ex}"] if ex else []
        if name_rule.forbidden:
            zh.append(f"文件名不得含有：{'、'.join(name_rule.forbidden)}")
            en.append(f"no {', '.join(name_rule.forbidden)} in the file name")
        if name_rule.max_length:
            zh.append(f"文件名不超过 {name_rule.max_length} 个字符")
            en.append(f"at most {name_rule.max_length} characters")
        out.append({"profile": profile.id, "kind": name_kind, "rule": "filename", "severity": name_rule.severity,
                    "text": {"zh-CN": "；".join(zh), "en": "; ".join(en)}})
    for item in profile.manual_items():
        out.append({"profile": profile.id, "kind": None, "rule": "manual", "severity": "manual",
                    "text": item.as_dict()})
    # required first, a preference beside its floor, the manual items last
    out.sort(key=lambda r: r.pop("_order", 2 if r["severity"] == "manual" else r["severity"] != "required"))
    return out


def client_rules(profiles: list[Profile], max_upload_bytes: int) -> dict[str, Any]:
    """What the upload page checks in the browser, by kind (all required rules only)."""
    kinds: dict[str, Any] = {}
    for p in profiles:
        for kind, spec in p.kinds.items():
            if kind in kinds:
                continue
            r: dict[str, Any] = {"profile": p.id}
            allowed = (
                spec.container.allowed
                if spec.container
                else spec.image_format.allowed
                if spec.image_format
                else None
            )
            r["extensions"] = (
                sorted({e for a in allowed for e in EXTENSIONS.get(a, [f".{a}"])})
                if allowed
                else DEFAULT_EXTENSIONS.get(kind, [])
            )
            if spec.file_size and spec.file_size.severity == "required":
                r["min_bytes"] = spec.file_size.min.bytes if spec.file_size.min else None
                r["max_bytes"] = spec.file_size.max.bytes if spec.file_size.max else None
            if spec.duration and spec.duration.severity == "required":
                r["min_duration_s"], r["max_duration_s"] = spec.duration.window()
                # the browser reads the container's duration: it allows the server's default slack at a bound
                r["duration_slack_s"] = spec.duration.bound_tolerance if spec.duration.bound_tolerance is not None \
                    else MAX_AUDIO_PADDING_S
            res = spec.resolution
            if res and res.severity == "required":
                r["min_short_edge"] = res.min.short_edge if res.min else res.min_short_edge
                r["min_long_edge"] = (res.min.long_edge if res.min else None) or res.min_long_edge
            if spec.aspect_ratio and spec.aspect_ratio.severity == "required":
                r["aspect_ratios"] = [{"text": a.text, "value": a.value} for a in spec.aspect_ratio.allowed]
                r["aspect_tolerance"] = spec.aspect_ratio.tolerance
            if spec.orientation and spec.orientation.severity == "required":
                r["orientations"] = list(spec.orientation.allowed)
            kinds[kind] = r
    return {"max_upload_bytes": max_upload_bytes, "kinds": kinds}
