"""Bilingual one-line descriptions of fix steps, for people (CLI, report pages)."""

from __future__ import annotations

from service.fix.plan import FixStep

_STEP_TEXT = {
    "remux": ("无损重封装为 {container}（索引前置）", "lossless remux to {container} (index first)"),
    "encode_video": ("重新编码视频为 H.264 High / yuv420p（{preset}）",
                     "re-encode video to H.264 High / yuv420p ({preset})"),
    "encode_audio": ("音频编码为 AAC-LC 48 kHz", "encode audio to AAC-LC 48 kHz"),
    "rotate": ("按旋转标记（{degrees_cw}°）转正画面并清除标记",
               "bake in the {degrees_cw}° rotation and clear the flag"),
    "deinterlace": ("去隔行（bwdif）", "deinterlace (bwdif)"),
    "change_frame_rate": ("帧率转换为 {fps}", "convert the frame rate to {fps}"),
    "constant_frame_rate": ("转为恒定帧率 {fps}", "make the frame rate constant at {fps}"),
    "scale": ("画面缩放为 {width}×{height}（方形像素）",
              "scale the picture to {width}×{height} (square pixels)"),
    "upscale": ("画面放大为 {width}×{height}", "upscale the picture to {width}×{height}"),
    "pad": ("加黑边到 {width}×{height}", "pad to {width}×{height}"),
    "crop": ("裁切到 {width}×{height}", "crop to {width}×{height}"),
    "set_bitrate": ("视频码率 {kbps} kbps，目标大小 {mib} MiB",
                    "video bitrate {kbps} kbps, target size {mib} MiB"),
    "loudnorm": ("响度标准化（EBU R128，{integrated} LUFS）",
                 "loudness normalisation (EBU R128, {integrated} LUFS)"),
    "faststart": ("MP4 索引前置", "MP4 index first (faststart)"),
    "convert_image": ("图片格式 {from} → {to}", "image format {from} → {to}"),
    "apply_exif_orientation": ("按 EXIF 方向转正", "apply the EXIF orientation"),
    "convert_color": ("色彩模式 {from} → sRGB", "colour mode {from} → sRGB"),
    "convert_to_srgb": ("色彩空间 {from} → sRGB（按 ICC 配置文件转换像素，嵌入 sRGB 配置文件）",
                        "colour space {from} → sRGB (pixels converted through the ICC profile; sRGB profile embedded)"),
    "downscale": ("缩小到 {width}×{height}", "downscale to {width}×{height}"),
    "set_dpi": ("写入 {dpi} DPI", "write {dpi} DPI"),
    "reduce_size": ("压缩到大小上限以内", "compress below the size limit"),
}


def describe_step(step: FixStep) -> dict[str, str]:
    """A bilingual one-line description of a step, for people."""
    zh, en = _STEP_TEXT.get(step.action, (step.action, step.action))
    params = dict(step.params)
    if step.action == "trim":
        return _trim_text(params)
    if step.action == "encode_audio" and (params.get("sample_rate") not in (None, 48000) or params.get("channels")):
        hz = f"{int(params.get('sample_rate') or 48000) / 1000:g} kHz"
        ch = {1: ("单声道", "mono"), 2: ("立体声", "stereo")}.get(params.get("channels") or 0)  # type: ignore[call-overload]
        zh_ch = f"，{ch[0] if ch else str(params.get('channels')) + ' 声道'}" if params.get("channels") else ""
        en_ch = f", {ch[1] if ch else str(params.get('channels')) + ' channels'}" if params.get("channels") else ""
        kbps = round(int(params.get("bitrate") or 0) / 1000)  # type: ignore[call-overload]
        return {"zh-CN": f"音频重新编码为 AAC-LC {hz}{zh_ch}，{kbps} kbps",
                "en": f"re-encode the audio to AAC-LC {hz}{en_ch}, {kbps} kbps"}
    if step.action == "set_bitrate":
        params["kbps"] = round((params.get("video_bitrate") or 0) / 1000)
        params["mib"] = f"{(params.get('target_bytes') or 0) / 2**20:.1f}"
    try:
        return {"zh-CN": zh.format(**params), "en": en.format(**params)}
    except (KeyError, IndexError):
        return {"zh-CN": zh, "en": en}


def _trim_text(params: dict[str, object]) -> dict[str, str]:
    """What a trim does, truthfully: where it cuts, how much picture goes, whether it re-encodes."""
    end = float(params.get("end_s") or 0)  # type: ignore[arg-type]
    picture = float(params.get("picture_cut_s") or 0)  # type: ignore[arg-type]
    lossless = bool(params.get("lossless"))
    minutes, sec = divmod(end, 60)
    at = f"{int(minutes)}:{sec:06.3f}"
    zh = f"在 {at} 处截断结尾（" + (f"剪掉最后 {picture:.3f} 秒画面和声音" if picture > 0.0005
                                  else "只剪掉画面结束后的音频，画面不变")
    en = f"cut the end at {at} (" + (f"the last {picture:.3f} s of picture and sound go" if picture > 0.0005
                                     else "only the sound after the picture ends goes; the picture is kept whole")
    if lossless and params.get("exact_audio"):
        zh += "；画面流复制、无损，音频重新编码为 AAC 以精确到采样截断）"
        en += "; the picture stream-copied, lossless; the audio re-encoded to AAC to end on the sample)"
    elif lossless:
        zh += "；流复制，无损，不重新编码）"
        en += "; stream copy, lossless, nothing re-encoded)"
    else:
        zh += "；随重新编码一并完成）"
        en += "; done in the re-encode)"
    return {"zh-CN": zh, "en": en}
