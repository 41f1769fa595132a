"""Pure: canned ffprobe/MediaInfo output → facts. Both rotation readings, SAR, brands."""

import pytest

from service.core.facts import (
    container_from,
    detect_frame_rate_mode,
    normalize_rotation,
    parse_av_facts,
    parse_mp4_boxes,
)


def _probe(*, rotation=None, tag_rotate=None, sar="1:1", w=1920, h=1080, brand="isom", field_order="progressive",
           extra_streams=(), packets=()):
    v = {"index": 0, "codec_type": "video", "codec_name": "h264", "profile": "High", "width": w, "height": h,
         "pix_fmt": "yuv420p", "sample_aspect_ratio": sar, "avg_frame_rate": "30000/1001",
         "r_frame_rate": "30000/1001", "field_order": field_order, "duration": "10.0", "disposition": {}}
    if rotation is not None:
        v["side_data_list"] = [{"side_data_type": "Display Matrix", "rotation": rotation}]
    if tag_rotate is not None:
        v["tags"] = {"rotate": str(tag_rotate)}
    fmt = {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "10.0", "bit_rate": "8000000",
           "tags": {"major_brand": brand} if brand else {}}
    return {"format": fmt, "streams": [v, *extra_streams], "packets": list(packets)}


@pytest.mark.parametrize(("ffprobe_rotation", "expected_cw"), [(-90, 90), (90, 270), (180, 180), (-180, 180),
                                                               (270, 90), (0, 0)])
def test_display_matrix_rotation_is_counter_clockwise(ffprobe_rotation, expected_cw):
    f = parse_av_facts(_probe(rotation=ffprobe_rotation), [], size_bytes=1000)
    assert f.rotation == expected_cw
    if expected_cw in (90, 270):
        assert (f.width, f.height, f.orientation) == (1080, 1920, "portrait")
        assert (f.coded_width, f.coded_height) == (1920, 1080)
    else:
        assert (f.width, f.height, f.orientation) == (1920, 1080, "landscape")


def test_old_rotate_tag_is_clockwise():
    f = parse_av_facts(_probe(tag_rotate=90), [], size_bytes=1000)
    assert f.rotation == 90 and f.orientation == "portrait"


def test_mediainfo_rotation_agrees_with_ffprobe_in_its_own_sign():
    # A file ffprobe calls 90 (counter-clockwise) MediaInfo calls 270 (clockwise): no disagreement.
    mi = [{"track_type": "General"}, {"track_type": "Video", "rotation": "270.000"}]
    f = parse_av_facts(_probe(rotation=90), mi, size_bytes=1000)
    assert f.rotation == 270
    assert not any("rotation" in d for d in f.disagreements)
    f2 = parse_av_facts(_probe(rotation=-90), mi, size_bytes=1000)
    assert any("rotation" in d for d in f2.disagreements)


def test_mediainfo_rotation_used_when_ffprobe_has_none():
    mi = [{"track_type": "General"}, {"track_type": "Video", "rotation": "90.000"}]
    assert parse_av_facts(_probe(), mi, size_bytes=1).rotation == 90


@pytest.mark.parametrize(("w", "h", "sar", "dw", "dh"), [
    (1440, 1080, "4:3", 1920, 1080),   # HDV anamorphic → 16:9
    (720, 576, "64:45", 1024, 576),    # PAL widescreen
    (1920, 1080, "1:1", 1920, 1080),
    (1920, 1440, "3:4", 1920, 1920),   # SAR < 1 heightens
    (1920, 1080, "0:1", 1920, 1080),   # unknown SAR is square
])
def test_sample_aspect_ratio_gives_displayed_size(w, h, sar, dw, dh):
    f = parse_av_facts(_probe(w=w, h=h, sar=sar), [], size_bytes=1)
    assert (f.width, f.height) == (dw, dh)


def test_rotation_and_sar_together():
    f = parse_av_facts(_probe(w=1440, h=1080, sar="4:3", rotation=-90), [], size_bytes=1)
    assert (f.width, f.height) == (1080, 1920)


@pytest.mark.parametrize(("fmt", "brand", "mi_profile", "expected"), [
    ("mov,mp4,m4a,3gp,3g2,mj2", "isom", "Base Media", "mp4"),
    ("mov,mp4,m4a,3gp,3g2,mj2", "mp42", None, "mp4"),
    ("mov,mp4,m4a,3gp,3g2,mj2", "qt  ", "QuickTime", "mov"),
    ("mov,mp4,m4a,3gp,3g2,mj2", None, None, "mov"),       # no ftyp: old QuickTime
    ("mov,mp4,m4a,3gp,3g2,mj2", "3gp4", None, "3gp"),
    ("matroska,webm", None, None, "mkv"),
    ("avi", None, None, "avi"),
    ("mpegts", None, None, "mpegts"),
])
def test_container_from_content(fmt, brand, mi_profile, expected):
    mi = {"format_profile": mi_profile} if mi_profile else {}
    assert container_from(fmt, brand, mi)[0] == expected


def test_webm_told_from_matroska_by_mediainfo():
    assert container_from("matroska,webm", None, {"format": "WebM"})[0] == "webm"


def test_attached_picture_is_not_the_video_stream():
    cover = {"index": 1, "codec_type": "video", "codec_name": "mjpeg", "width": 600, "height": 600,
             "disposition": {"attached_pic": 1}}
    audio = {"index": 2, "codec_type": "audio", "codec_name": "aac", "channels": 2, "sample_rate": "48000"}
    data = _probe(extra_streams=[cover, audio])
    data["streams"] = data["streams"][1:]  # audio + cover only
    f = parse_av_facts(data, [], size_bytes=1)
    assert f.kind == "audio" and f.attached_pictures == 1 and f.width is None
    data2 = _probe(extra_streams=[cover, audio])
    data2["streams"] = [cover, *data2["streams"]]  # cover listed first
    f2 = parse_av_facts(data2, [], size_bytes=1)
    assert f2.video_codec == "h264" and f2.width == 1920


def test_interlaced_from_field_order_and_mediainfo():
    assert parse_av_facts(_probe(field_order="tt"), [], size_bytes=1).scan_type == "interlaced"
    mi = [{"track_type": "Video", "scan_type": "MBAFF"}]
    f = parse_av_facts(_probe(field_order=None), mi, size_bytes=1)
    assert f.scan_type == "interlaced" and "MBAFF" in f.scan_detail


def test_frame_rate_is_rational():
    f = parse_av_facts(_probe(), [], size_bytes=1)
    assert f.frame_rate == "30000/1001" and f.frame_rate_fps == pytest.approx(29.97)


def test_frame_rate_mode_from_timestamps():
    assert detect_frame_rate_mode(list(range(0, 512 * 100, 512))) == "constant"
    assert detect_frame_rate_mode([0, 1001, 2002, 3003, 4004]) == "constant"
    # timestamps rounded to a 1/15360 time base stay constant
    assert detect_frame_rate_mode([round(i * 15360 * 1001 / 30000) for i in range(300)]) == "constant"
    vfr = [0, 33, 66, 100, 150, 183, 250, 283, 316, 400, 433, 466]
    assert detect_frame_rate_mode(vfr) == "variable"
    assert detect_frame_rate_mode([0, 1]) == "unknown"


def test_vfr_packets_reach_the_facts():
    packets = [{"stream_index": 0, "pts": p} for p in (0, 100, 200, 260, 400, 420, 600, 700, 730, 900)]
    assert parse_av_facts(_probe(packets=packets), [], size_bytes=1).frame_rate_mode == "variable"


def test_duration_is_the_container_s_and_says_so():
    data = _probe()
    data["format"]["duration"] = "12.5"
    f = parse_av_facts(data, [], size_bytes=1)
    assert (f.duration_s, f.duration_source, f.video_duration_s) == (12.5, "container", 10.0)
    del data["format"]["duration"]
    f = parse_av_facts(data, [], size_bytes=1)
    assert (f.duration_s, f.duration_source) == (10.0, "video_stream")


def test_mp4_boxes_faststart_and_truncation():
    def boxes_of(layout):
        blob = b"".join(size.to_bytes(4, "big") + name.encode() + b"\0" * (min(size, 64) - 8)
                        for name, size in layout)

        def header_at(off):
            # synthesize headers at the offsets the layout implies
            pos = 0
            for name, size in layout:
                if pos == off:
                    return size.to_bytes(4, "big") + name.encode() + b"\0" * 8
                pos += size
            return b""
        return parse_mp4_boxes(header_at, sum(s for _, s in layout)), blob

    boxes, _ = boxes_of([("ftyp", 32), ("moov", 1000), ("mdat", 50000)])
    assert [b[0] for b in boxes] == ["ftyp", "moov", "mdat"]
    f = parse_av_facts(_probe(), [], size_bytes=51032, boxes=boxes)
    assert f.faststart is True and f.truncated is False
    late = [("ftyp", 32, 32), ("mdat", 32, 50000), ("moov", 50032, 1000)]
    assert parse_av_facts(_probe(), [], size_bytes=51032, boxes=late).faststart is False
    cut = [("ftyp", 0, 32), ("moov", 32, 1000), ("mdat", 1032, 50000)]
    assert parse_av_facts(_probe(), [], size_bytes=20000, boxes=cut).truncated is True


def test_normalize_rotation():
    assert [normalize_rotation(x) for x in (-90, 90, 270, -270, 359.6, 44)] == [270, 90, 270, 90, 0, 0]
