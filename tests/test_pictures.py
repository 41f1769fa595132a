"""Poster frames, contact sheets and photo thumbnails, from real generated media."""

from __future__ import annotations

import pytest
from PIL import Image, ImageStat

from service.core.analysis import Analysis, Segment
from service.media.pictures import (
    SHEET_NAME,
    contact_sheet,
    in_segments,
    photo_thumbnail,
    pictures_for,
    poster_time,
    sheet_times,
)
from service.media.probe import probe
from tests.support.media import av, ffmpeg_media
from tests.support.scenes import LARGE as scenes


def brightness(img: Image.Image) -> float:
    return ImageStat.Stat(img.convert("L")).mean[0]


def test_sheet_times_spread_over_the_file():
    assert sheet_times(16.0) == [i + 0.5 for i in range(16)]
    assert sheet_times(180.0, 4) == [22.5, 67.5, 112.5, 157.5]


def test_poster_time_skips_a_black_opening():
    a = Analysis(duration_s=180, video_analyzed=True, audio_analyzed=False,
                 black_segments=[Segment(start_s=0, end_s=12)])
    assert poster_time(180) == 10.0
    assert poster_time(180, a) == 12.5
    assert poster_time(5) == 0.5


def test_in_segments():
    assert in_segments(3.0, [(0, 4)]) and not in_segments(4.5, [(0, 4)])


def test_video_pictures(tmp_path):
    path = scenes.black_opening()
    facts = probe(path).facts
    black = Analysis(duration_s=7, video_analyzed=True, audio_analyzed=True,
                     black_segments=[Segment(start_s=0, end_s=4)])
    pics = pictures_for(path, facts, tmp_path / "derived", black)
    assert sorted(p.name for p in (tmp_path / "derived").iterdir()) == ["contact-sheet.jpg", "poster.jpg",
                                                                        "thumbnail.jpg"]
    with Image.open(pics.thumbnail) as thumb:
        assert thumb.size == (320, 180)
    with Image.open(pics.poster) as poster:
        assert poster.size == (1280, 720)
        assert brightness(poster) > 60  # after the black opening: the picture, not black
    with Image.open(pics.contact_sheet) as sheet:
        # 4 tiles of 320×180 across with 5 gaps of 6 px; 4 rows of tile + 24 px label
        assert sheet.size == (4 * 320 + 5 * 6, 4 * (180 + 24) + 5 * 6)
        first = sheet.crop((6, 6, 6 + 320, 6 + 180))
        last = sheet.crop((6 + 3 * 326, 6 + 3 * 210, 6 + 3 * 326 + 320, 6 + 3 * 210 + 180))
        assert brightness(first) < 20 < 60 < brightness(last)
        r, g, b = sheet.getpixel((4, 100))  # the red frame around a tile in the black opening
        assert r > 150 and g < 90 and b < 90
        r, g, b = sheet.getpixel((4 + 3 * 326, 100 + 3 * 210))  # no frame around a picture tile
        assert r < 60


def test_contact_sheet_respects_display_aspect(tmp_path):
    # stored 320×180 with 2:1 pixels: shown 640×180
    path = ffmpeg_media("sar2.mp4", av("320x180", seconds=2, audio=False, extra_v=["-vf", "setsar=2"]))
    sheet = contact_sheet(path, tmp_path, duration_s=2.0, cols=2, rows=1, tile_width=320)
    assert sheet.name == SHEET_NAME
    with Image.open(sheet) as img:
        assert img.size == (2 * 320 + 3 * 6, 90 + 24 + 2 * 6)


def test_photo_thumbnail_is_upright(tmp_path):
    src = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    Image.new("RGB", (1200, 900), (200, 30, 30)).save(src, "JPEG", exif=exif)
    thumb = photo_thumbnail(src, tmp_path / "out")
    with Image.open(thumb) as img:
        assert img.size == (360, 480)
        assert img.format == "JPEG"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["thumbnail.jpg"]  # no temporary left


def test_unreadable_video_leaves_no_picture(tmp_path):
    from service.core.errors import ToolError
    from tests.support.media import written

    bogus = written("bogus.mp4", b"not a video at all" * 100)
    with pytest.raises(ToolError):
        contact_sheet(bogus, tmp_path / "out", duration_s=10)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_heic_photo_thumbnail(tmp_path):
    from pillow_heif import register_heif_opener

    register_heif_opener()
    src = tmp_path / "iphone.heic"
    Image.new("RGB", (400, 300), (10, 200, 30)).save(src, quality=50)
    with Image.open(photo_thumbnail(src, tmp_path / "out", edge=200)) as img:
        assert (img.size, img.format) == ((200, 150), "JPEG")
        r, g, b = img.getpixel((100, 75))
        assert g > 150 and r < 60
