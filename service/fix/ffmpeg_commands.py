"""The ffmpeg command lines of a fix, built with ffmpeg-python (kept behind this module and
``transcode``, so it can be swapped for its maintained successor). Pure: paths and the plan
in, an argument list out; ``process.run_with_progress`` runs them."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import ffmpeg

from service.core.errors import ToolError
from service.fix.plan import FixPlan, VideoTarget


def _global(cmd: Any, loglevel: str = "error") -> list[str]:
    args: list[str] = cmd.global_args("-hide_banner", "-nostdin", "-nostats", "-v", loglevel,
                                      "-progress", "pipe:1").overwrite_output().compile()
    return args


def remux_command(src: Path, out: Path, v: VideoTarget, has_audio: bool,
                  loudnorm_measured: dict[str, str] | None = None) -> list[str]:
    """Copy the video stream into MP4/MOV with its index first; audio copied or encoded."""
    inp = ffmpeg.input(str(src))
    streams = [inp["V:0"]]
    kwargs: dict[str, Any] = {"c:v": "copy", "movflags": "+faststart", "f": v.container, "map_chapters": -1}
    if v.end_s:
        kwargs["t"] = f"{v.end_s:.6f}"  # packets from there on are dropped: a lossless trim of the end
    if has_audio:
        streams.append(_audio_stream(inp, v, loudnorm_measured))
        kwargs.update(_audio_args(v))
    return _global(ffmpeg.output(*streams, str(out), **kwargs), "info" if v.loudnorm else "error")


def _audio_stream(inp: Any, v: VideoTarget, measured: dict[str, str] | None) -> Any:
    a = inp["a:0"]
    if v.audio == "aac" and v.audio_end_s:
        a = a.filter("atrim", end=f"{v.audio_end_s:.6f}")
    if v.loudnorm is not None and measured:
        a = a.filter("loudnorm", I=v.loudnorm.integrated, TP=v.loudnorm.true_peak, LRA=v.loudnorm.loudness_range,
                     measured_I=measured["input_i"], measured_TP=measured["input_tp"],
                     measured_LRA=measured["input_lra"], measured_thresh=measured["input_thresh"],
                     offset=measured["target_offset"], linear="true", print_format="json")
    return a


def _audio_args(v: VideoTarget) -> dict[str, Any]:
    if v.audio != "aac":
        return {"c:a": "copy"}
    args: dict[str, Any] = {"c:a": "aac", "profile:a": "aac_low", "b:a": v.audio_bitrate or 160_000,
                            "ar": v.sample_rate or 48000}
    if v.audio_channels:
        args["ac"] = v.audio_channels  # down- or upmixed by ffmpeg's default matrix
    return args


def _rate_args(v: VideoTarget, bitrate: int | None) -> tuple[dict[str, Any], str]:
    """Encoder rate-control options and x264-params for the plan's rate control."""
    x264 = "force-cfr=1" if v.fps else ""
    if v.rate_control in ("cbr", "two_pass") and bitrate:
        x264 = ":".join(p for p in ("nal-hrd=cbr", x264) if p)
        return {"b:v": bitrate, "minrate": bitrate, "maxrate": bitrate, "bufsize": bitrate}, x264
    if v.rate_control == "capped_crf" and bitrate:
        return {"crf": v.crf or 20, "maxrate": bitrate, "bufsize": 2 * bitrate}, x264
    return {"crf": v.crf or 20}, x264


def encode_command(src: Path, out: Path, plan: FixPlan, *, bitrate: int | None, has_audio: bool,
                   pass_no: int | None = None, passlog: Path | None = None,
                   loudnorm_measured: dict[str, str] | None = None, audio_file: Path | None = None) -> list[str]:
    """The re-encode: filters (deinterlace, constant rate, scale, pad/crop, square pixels,
    yuv420p) on the autorotated picture, H.264 High, AAC-LC 48 kHz, MP4 with the index first.
    ``pass_no`` 1 writes only the two-pass log (no audio, null output)."""
    v = plan.video
    assert v is not None
    inp = ffmpeg.input(str(src))  # autorotate (ffmpeg's default) bakes the rotation in and drops the flag
    vs = inp["V:0"]
    if v.deinterlace:
        vs = vs.filter("bwdif", mode="send_frame", parity="auto", deint="interlaced")
    if v.fps:
        vs = vs.filter("fps", fps=v.fps)
    pw, ph = v.picture_width or v.width, v.picture_height or v.height
    if v.scale and pw and ph:
        vs = vs.filter("scale", pw, ph, flags="bicubic")
    vs = vs.filter("setsar", 1)
    if v.width and v.height and (v.width, v.height) != (pw, ph):
        if v.fit == "pad":
            vs = vs.filter("pad", v.width, v.height, ((v.width - (pw or 0)) // 2), ((v.height - (ph or 0)) // 2),
                           color="black")
        else:
            vs = vs.filter("crop", v.width, v.height)
    vs = vs.filter("format", "yuv420p")
    rate, x264 = _rate_args(v, bitrate)
    kwargs: dict[str, Any] = {"c:v": "libx264", "preset": v.preset, "profile:v": "high", "pix_fmt": "yuv420p",
                              **rate, "map_chapters": -1}
    if x264:
        kwargs["x264-params"] = x264
    if v.fps:
        kwargs["fps_mode"] = "cfr"
    if pass_no is not None:
        kwargs.update({"pass": pass_no, "passlogfile": str(passlog)})
    if pass_no == 1:
        return _global(ffmpeg.output(vs, os.devnull, f="null", **kwargs))
    streams = [vs]
    if audio_file is not None:  # encoded beforehand (its exact size sets the video bitrate)
        streams.append(ffmpeg.input(str(audio_file))["a:0"])
        kwargs["c:a"] = "copy"
    elif has_audio and v.audio != "none":
        streams.append(_audio_stream(inp, v, loudnorm_measured))
        kwargs.update(_audio_args(v))
    kwargs.update({"movflags": "+faststart", "f": v.container})
    if v.end_s:
        kwargs["t"] = f"{v.end_s:.6f}"
    loud = v.loudnorm is not None and audio_file is None
    return _global(ffmpeg.output(*streams, str(out), **kwargs), "info" if loud else "error")


def audio_command(src: Path, out: Path, v: VideoTarget, loudnorm_measured: dict[str, str] | None) -> list[str]:
    """The audio alone, AAC-LC 48 kHz (with the second loudnorm pass), into an M4A beside the job."""
    stream = _audio_stream(ffmpeg.input(str(src)), v, loudnorm_measured)
    return _global(ffmpeg.output(stream, str(out), f="mp4", map_chapters=-1, **_audio_args(v)),
                   "info" if v.loudnorm else "error")


def loudnorm_measure_command(src: Path, v: VideoTarget) -> list[str]:
    """First loudnorm pass: measure the audio (printed as JSON on stderr)."""
    assert v.loudnorm is not None
    a = ffmpeg.input(str(src))["a:0"].filter("loudnorm", I=v.loudnorm.integrated, TP=v.loudnorm.true_peak,
                                               LRA=v.loudnorm.loudness_range, print_format="json")
    return _global(ffmpeg.output(a, os.devnull, f="null"), "info")


def parse_loudnorm_json(stderr: str) -> dict[str, str]:
    """The last JSON object loudnorm printed (its measurement or its summary)."""
    blocks = re.findall(r"\{[^{}]*\}", stderr)
    for text in reversed(blocks):
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict) and "input_i" in data:
            return {k: str(v) for k, v in data.items()}
    raise ToolError("loudnorm printed no measurement", stderr=stderr[-500:])
