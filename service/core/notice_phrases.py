"""The phrases of a campaign notice that ``mediacheck profile draft`` understands: one clause
of Chinese text in, the rules it states out. Pure and deterministic (regular expressions over
the clause after NFKC and a few traditional → simplified characters); no model, no network.
The sentences, sections and the profile they make are assembled in notice_draft.py.

What each recogniser reads is listed in docs/profiles.md ("Drafting a profile from a notice")."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

_TRADITIONAL = str.maketrans("圖視頻錄時長鐘畫幀碼編須應議薦內於過橫豎為歷與單個檔傳輸聲",
                             "图视频录时长钟画帧码编须应议荐内于过横竖为历与单个档传输声")

VIDEO_WORDS = re.compile(r"视频|录像|影片|短片|微电影|动画片")
IMAGE_WORDS = re.compile(r"图片|照片|相片|图像|摄影作品")
REQUIRED_WORDS = re.compile(r"必须|务必|须|(?<![对相适反响供])应|需要|需|要求|不得|最长|最多|最大|也可|均可|可以")
RECOMMENDED_WORDS = re.compile(r"建议|推荐|最好|为宜|尽量|优先|宜")
CARRIED_WORDS = re.compile(r"^\W*(建议|推荐|最好|尽量|优先|须|必须|应|需要|要求)")
"""A modal word at the head of a clause carries over the clauses after it in the sentence
("建议使用MP4格式，分辨率1080p以上"); one inside a clause ("3-5分钟为宜") is that clause's alone."""
MEDIA_WORDS = re.compile(r"视频|录像|图片|照片|画面|像素|分辨率|格式|时长|大小|帧|码率|编码|音频|声音|拍摄|高清|清晰"
                         r"|画质")
QUANTITY = re.compile(r"\d\s*(像素|兆|[MGK]B?|分钟|秒|fps|帧|[pPiI](?![a-z])|kHz|bps|:|比|%)", re.I)
"""A clause with a media word and a quantity or a modal word looks like a media requirement."""

_N = r"(\d+(?:\.\d+)?)"
_DASH = r"\s*(?:-|–|—|~|～|至|到)\s*"
_MAX_BEFORE = ("不超过", "不得超过", "不多于", "不长于", "不大于", "不高于", "最长", "最多", "最大", "控制在")
_MIN_BEFORE = ("不少于", "不低于", "不短于", "不小于", "至少", "最短", "最少", "最低")
_MAX_AFTER = ("以内", "之内", "以下", "时间内", "内")
_MIN_AFTER = ("以上", "及以上")
_ABOUT = ("左右", "约", "大约", "上下")

ABOUT_TOLERANCE = "10%"
"""The tolerance a draft gives "左右"/"约" (the notice names none; the organiser may change it)."""

AT_LEAST_ABOUT = 0.9
""""至少…左右" (at least about N): the draft's minimum is this share of N."""


@dataclass
class Found:
    """What one clause says: rules (id → body), items a person checks, and derived decisions."""

    rules: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    manual: list[tuple[str, str, str]] = field(default_factory=list)
    decisions: list[tuple[str, str]] = field(default_factory=list)


def normalise(text: str) -> str:
    """NFKC (full-width digits, colons and brackets to ASCII) and the traditional characters
    of the keywords to simplified ones."""
    return unicodedata.normalize("NFKC", text).translate(_TRADITIONAL)


def _num(s: str) -> str:
    f = float(s)
    return str(int(f)) if f == int(f) else f"{f:g}"


def _bound(clause: str, start: int, end: int) -> str | None:
    """'min', 'max', 'about' or None from the words just before and after a quantity."""
    before, after = clause[max(0, start - 6):start], clause[end:end + 4]
    if before.endswith(_ABOUT) or after.startswith(_ABOUT) or "左右" in after:
        return "about"
    if any(w in before for w in _MAX_BEFORE) or after.startswith(_MAX_AFTER):
        return "max"
    if any(w in before for w in _MIN_BEFORE) or after.startswith(_MIN_AFTER):
        return "min"
    return None


_DUR_UNIT = r"(分钟|秒钟|秒|小时)"
_DUR_TEXT = {"分钟": "min", "秒钟": "s", "秒": "s", "小时": "h"}


def _dur(n: str, unit: str) -> str:
    return f"{_num(n)}{_DUR_TEXT[unit]}"


def duration(clause: str, found: Found) -> None:
    m = re.search(_N + r"\s*" + _DUR_UNIT + "?" + _DASH + _N + r"\s*" + _DUR_UNIT, clause)
    if m:
        lo_unit = m.group(2) or m.group(4)
        found.rules.append(("duration", {"min": _dur(m.group(1), lo_unit), "max": _dur(m.group(3), m.group(4))}))
        return
    m = re.search(_N + r"\s*" + _DUR_UNIT, clause)
    if not m:
        return
    value = _dur(m.group(1), m.group(2))
    bound = _bound(clause, m.start(), m.end())
    if bound == "min" or bound == "max":
        found.rules.append(("duration", {bound: value}))
    elif bound == "about" or re.search(r"(时长|时间|长度)\s*(为|是)?\s*$", clause[:m.start()]):
        found.rules.append(("duration", {"about": value, "tolerance": ABOUT_TOLERANCE}))
        found.decisions.append(("duration_about", value))


_SIZE_UNIT = r"(兆字节|兆|GB|G|MB|M|KB)(?![A-Za-z/])"


def _size(n: str, unit: str, factor: float = 1.0) -> str:
    u = unit.upper()
    word = "G" if u in ("G", "GB") else "KB" if u == "KB" else "兆"  # MB/M in a notice: 兆, read by size_unit
    return f"{_num(str(round(float(n) * factor, 1)))}{word}"


def file_size(clause: str, found: Found) -> None:
    if not re.search(r"大小|容量|体积|文件|兆|MB|GB", clause, re.I):
        return
    m = re.search(_N + r"\s*(?:" + _SIZE_UNIT + ")?" + _DASH + _N + r"\s*" + _SIZE_UNIT, clause, re.I)
    if m:
        found.rules.append(("file_size", {"min": _size(m.group(1), m.group(2) or m.group(4)),
                                          "max": _size(m.group(3), m.group(4))}))
        return
    m = re.search(_N + r"\s*" + _SIZE_UNIT, clause, re.I)
    if not m:
        return
    bound = _bound(clause, m.start(), m.end())
    at_least = any(w in clause[:m.start()] for w in _MIN_BEFORE)
    if bound == "about" and at_least:
        found.rules.append(("file_size", {"min": _size(m.group(1), m.group(2), AT_LEAST_ABOUT)}))
        found.decisions.append(("size_at_least_about", _size(m.group(1), m.group(2))))
    elif bound == "about":
        found.rules.append(("file_size", {"about": _size(m.group(1), m.group(2)), "tolerance": ABOUT_TOLERANCE}))
    elif bound in ("min", "max"):
        found.rules.append(("file_size", {bound: _size(m.group(1), m.group(2))}))


_NAMED_RES = (("超高清", "2160p"), ("4K", "2160p"), ("全高清", "1080p"), ("2K", "1440p"), ("高清", "720p"))


def resolution(clause: str, found: Found, kind: str) -> None:
    pairs = list(re.finditer(r"(\d{3,5})\s*[×xX*]\s*(\d{3,5})", clause))
    if pairs:
        edges = {tuple(sorted((int(p.group(1)), int(p.group(2))))) for p in pairs}
        m = pairs[0]
        bound = _bound(clause, m.start(), pairs[-1].end()) or "exact"
        if bound == "about":
            bound = "exact"
        found.rules.append(("resolution", {bound: f"{m.group(1)}x{m.group(2)}"}))
        if len(edges) > 1:
            found.decisions.append(("resolution_first", f"{m.group(1)}x{m.group(2)}"))
        return
    short = re.search(r"(?<!\d)(\d{3,4})\s*([PpIi])(?![A-Za-z])", clause)
    if short:
        found.rules.append(("resolution", {"min": f"{short.group(1)}p"}))
        found.decisions.append(("resolution_p_min", f"{short.group(1)}p"))
        if short.group(2) in "Pp" and kind == "video":
            found.rules.append(("scan_type", {"allowed": ["progressive"]}))
            found.decisions.append(("p_progressive", f"{short.group(1)}p"))
        return
    edge = re.search(r"长边\D{0,6}?(\d{3,5})\s*(像素|px)?", clause)
    if edge and _bound(clause, edge.start(1), edge.end()) == "min":
        found.rules.append(("resolution", {"min_long_edge": int(edge.group(1))}))
        return
    for word, res in _NAMED_RES:
        if word in clause:
            found.rules.append(("resolution", {"min": res}))
            found.decisions.append(("named_resolution", f"{word} = {res}"))
            return


_KNOWN_RATIOS = {"16:9", "9:16", "4:3", "3:4", "1:1", "21:9", "3:2", "2:3"}


def aspect_ratio(clause: str, found: Found) -> None:
    ratios = []
    for m in re.finditer(r"(?<![\d:])(\d{1,2}(?:\.\d+)?)\s*[:比/]\s*(\d{1,2}(?:\.\d+)?)(?![\d:])", clause):
        text = f"{_num(m.group(1))}:{_num(m.group(2))}"
        if float(m.group(2)) and (text in _KNOWN_RATIOS or re.search(r"画幅|比例|宽高比|画面比", clause)):
            ratios.append(text)
    if not ratios:
        return
    found.rules.append(("aspect_ratio", {"allowed": list(dict.fromkeys(ratios))}))
    shapes = {"landscape" if eval_ratio(r) > 1 else "portrait" if eval_ratio(r) < 1 else "square" for r in ratios}
    if not re.search(r"横|竖", clause):
        found.rules.append(("orientation", {"allowed": sorted(shapes)}))
        found.decisions.append(("ratio_orientation", "/".join(ratios)))


def eval_ratio(text: str) -> float:
    w, _, h = text.partition(":")
    return float(w) / float(h)


def orientation(clause: str, found: Found) -> None:
    shapes = []
    if re.search(r"横屏|横版|横向|横拍", clause):
        shapes.append("landscape")
    if re.search(r"竖屏|竖版|竖向|竖拍", clause):
        shapes.append("portrait")
    if shapes:
        found.rules.append(("orientation", {"allowed": shapes}))


_CONTAINERS = {"mp4": "mp4", "m4v": "mp4", "mov": "mov", "avi": "avi", "flv": "flv", "wmv": "asf", "asf": "asf",
               "mkv": "mkv", "webm": "webm", "mpg": "mpeg-ps", "mpeg": "mpeg-ps", "3gp": "3gp"}
_IMAGE_FORMATS = {"jpg": "jpeg", "jpeg": "jpeg", "png": "png", "tif": "tiff", "tiff": "tiff", "webp": "webp",
                  "heic": "heif", "heif": "heif", "gif": "gif"}
_WORD = r"(?<![A-Za-z0-9.])({})(?![A-Za-z0-9])"


def formats(clause: str, found: Found, kind: str) -> None:
    table = _IMAGE_FORMATS if kind == "image" else _CONTAINERS
    names = [table[m.group(1).lower()]
             for m in re.finditer(_WORD.format("|".join(table)), clause, re.I)]
    if names:
        found.rules.append(("image_format" if kind == "image" else "container",
                            {"allowed": list(dict.fromkeys(names))}))


def codecs(clause: str, found: Found) -> None:
    video = [("hevc" if m.group(1).upper() in ("H.265", "H265", "HEVC") else "h264")
             for m in re.finditer(_WORD.format(r"H\.?26[45]|AVC|HEVC|x264"), clause, re.I)]
    if video:
        found.rules.append(("video_codec", {"allowed": list(dict.fromkeys(video))}))
    audio = [m.group(1).lower() for m in re.finditer(_WORD.format("AAC|MP3"), clause, re.I)]
    if audio:
        found.rules.append(("audio_codec", {"allowed": list(dict.fromkeys(audio))}))


def frame_rate(clause: str, found: Found) -> None:
    at = re.search(r"帧率|帧速率|fps|帧/秒|帧每秒", clause, re.I)
    if not at:
        return
    numbers = list(re.finditer(_N + r"\s*(fps|帧/秒|帧每秒|帧)?", clause, re.I))
    values = [m for m in numbers if m.group(2) or m.start() > at.start()]
    if not values:
        return
    bound = _bound(clause, values[0].start(), values[0].end())
    if bound in ("min", "max"):
        found.rules.append(("frame_rate", {bound: float(values[0].group(1))}))
    else:
        found.rules.append(("frame_rate", {"allowed": list(dict.fromkeys(float(m.group(1)) for m in values))}))


_RATE = r"(Mbps|Mb/s|M|kbps|kb/s|Kbps|K)(?![A-Za-z])"


def _rate(n: str, unit: str, factor: float = 1.0) -> str:
    return f"{_num(str(round(float(n) * factor, 3)))}{'Mbps' if unit[0] in 'Mm' else 'kbps'}"


def bitrate(clause: str, found: Found) -> None:
    if not re.search(r"码率|比特率|码流", clause):
        return
    m = re.search(_N + r"\s*(?:" + _RATE + ")?" + _DASH + _N + r"\s*" + _RATE, clause)
    if m:
        found.rules.append(("bitrate", {"min": _rate(m.group(1), m.group(2) or m.group(4)),
                                        "max": _rate(m.group(3), m.group(4))}))
        return
    m = re.search(_N + r"\s*" + _RATE, clause)
    if not m:
        return
    bound = _bound(clause, m.start(), m.end())
    if bound == "about":
        found.rules.append(("bitrate", {"min": _rate(m.group(1), m.group(2), 0.9),
                                        "max": _rate(m.group(1), m.group(2), 1.1)}))
        found.decisions.append(("bitrate_about", _rate(m.group(1), m.group(2))))
    elif bound in ("min", "max"):
        found.rules.append(("bitrate", {bound: _rate(m.group(1), m.group(2))}))


def audio(clause: str, found: Found) -> None:
    if re.search(r"配音|解说|旁白|同期声|音轨|有声音|声音清晰", clause):
        found.rules.append(("audio_present", {"required": True}))


MANUAL = (
    (r"片头|正片|片尾", "structure", "须有片头、正片、片尾", "Opening, body and closing parts"),
    (r"署名|权属", "credits", "片尾署名体现作品权属", "Closing credits show who owns the work"),
    (r"普通话", "mandarin", "配音和解说使用普通话", "Narration and voice-over in Mandarin"),
    (r"简体中文|简体字|字幕", "chinese_text", "画面文字为简体中文", "On-screen text in Simplified Chinese"),
    (r"ppt|幻灯片", "not_slides", "不接受 PPT 生成的视频", "No PPT-generated video"),
    (r"讲课|教学.{0,4}视频", "not_lecture", "不接受教学讲课视频", "No lecture recordings"),
    (r"原创", "original", "须为原创作品", "An original work"),
    (r"水印|台标|logo", "no_watermark", "不得带水印或台标", "No watermark or channel logo"),
)
"""Phrases a person checks (no probe can): pattern, id, Chinese, English."""


def manual(clause: str, found: Found) -> None:
    for pattern, mid, zh, en in MANUAL:
        if re.search(pattern, clause, re.I):
            found.manual.append((mid, zh, en))


def read_clause(clause: str, kind: str) -> Found:
    """Everything one normalised clause states, for media of ``kind`` (video or image)."""
    found = Found()
    duration(clause, found)
    file_size(clause, found)
    resolution(clause, found, kind)
    aspect_ratio(clause, found)
    orientation(clause, found)
    formats(clause, found, kind)
    if kind == "video":
        codecs(clause, found)
        frame_rate(clause, found)
        bitrate(clause, found)
        audio(clause, found)
    manual(clause, found)
    return found
