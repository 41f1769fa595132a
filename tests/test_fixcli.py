"""``mediacheck fix``: exit codes, the new report, progress lines, usage errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from service.cli.main import main
from service.core.profiles import load_profile
from service.media.checker import check_file
from tests.support import fixcases as fc


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture()
def tiny_path(tmp_path: Path) -> Path:
    return fc.write_profile(tmp_path)


def test_fix_writes_a_passing_file_and_prints_the_new_report_as_json(tiny_path, tmp_path, capsys) -> None:
    out = tmp_path / "fixed.mp4"
    buf = io.StringIO()
    code = main(["fix", str(fc.rotated()), "--profile", str(tiny_path), "-o", str(out)], out=buf)
    assert code == 0
    result = json.loads(buf.getvalue())
    assert result["status"] == "fixed" and result["after"]["verdict"] == "pass"
    assert result["before"]["verdict"] == "fail" and "rotate" in [s["action"] for s in result["plan"]["steps"]]
    assert check_file(out, load_profile(tiny_path)).verdict == "pass"
    err = capsys.readouterr().err
    assert "进度 100%" in err  # plain progress lines when stderr is not a terminal


def test_fix_table_output_shows_steps_and_both_reports(tiny_path, tmp_path) -> None:
    buf = _Tty()
    code = main(["fix", str(fc.heic_photo()), "-p", str(tiny_path), "-o", str(tmp_path / "p.jpg"), "--lang", "en"],
                out=buf)
    text = buf.getvalue()
    assert code == 0
    assert "Fix steps:" in text and "image format heif → jpeg" in text and "After the fix:" in text
    assert text.rstrip().splitlines()[-1].startswith("[FIXED] → ")


def test_unfixable_exits_1_and_says_why(tiny_path, tmp_path) -> None:
    buf = _Tty()
    code = main(["fix", str(fc.silent()), "-p", str(tiny_path), "-o", str(tmp_path / "x.mp4")], out=buf)
    assert code == 1
    last = buf.getvalue().rstrip().splitlines()[-1]
    assert last.startswith("[无法修复]") and "音轨" in last
    assert not (tmp_path / "x.mp4").exists()


def test_an_already_passing_file_exits_0_and_writes_nothing(tiny_path, tmp_path) -> None:
    src = fc.clip("fix-good.mp4", extra_v=["-movflags", "+faststart"])
    buf = io.StringIO()
    assert main(["fix", str(src), "-p", str(tiny_path), "-o", str(tmp_path / "o.mp4")], out=buf) == 0
    assert json.loads(buf.getvalue())["status"] == "not_needed" and not (tmp_path / "o.mp4").exists()


def test_usage_errors_exit_2(tiny_path, tmp_path, capsys) -> None:
    src = fc.mov()
    existing = tmp_path / "exists.mp4"
    existing.write_bytes(b"keep me")
    assert main(["fix", str(src), "-p", str(tiny_path), "-o", str(existing)], out=io.StringIO()) == 2
    assert existing.read_bytes() == b"keep me"
    assert main(["fix", str(src), "-p", str(tiny_path), "-o", str(src)], out=io.StringIO()) == 2
    assert main(["fix", str(src), "-p", str(tiny_path), "-o", str(tmp_path / "no" / "dir.mp4")],
                out=io.StringIO()) == 2
    assert main(["fix", str(src), "-p", str(tiny_path)], out=io.StringIO()) == 2  # no -o, no --dry-run
    assert main(["fix", str(src), "-p", "no-such-profile", "-o", str(tmp_path / "o.mp4")], out=io.StringIO()) == 2
    assert "usage error" in capsys.readouterr().err


def test_the_installed_command_runs(tiny_path, tmp_path) -> None:
    out = tmp_path / "fixed.mp4"
    proc = subprocess.run([sys.executable, "-m", "service.cli", "fix", str(fc.mov()), "-p", str(tiny_path),
                           "-o", str(out), "-f", "json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["plan"]["mode"] == "remux"


FIXABLE = [fc.mov, fc.mkv, fc.rotated, fc.too_small, fc.too_large, fc.interlaced, fc.four_by_three, fc.vfr,
           fc.heic_photo, fc.webp_photo, fc.cmyk_photo, fc.big_png_with_alpha]


@pytest.mark.parametrize("make", FIXABLE, ids=[f.__name__ for f in FIXABLE])
def test_mediacheck_check_passes_what_mediacheck_fix_wrote(make, tiny_path, tmp_path) -> None:
    src = make()
    assert main(["check", str(src), "-p", str(tiny_path)], out=io.StringIO()) == 1
    out = tmp_path / ("fixed.jpg" if src.suffix in (".heic", ".jpg", ".webp", ".png") else "fixed.mp4")
    assert main(["fix", str(src), "-p", str(tiny_path), "-o", str(out)], out=io.StringIO()) == 0
    buf = io.StringIO()
    assert main(["check", str(out), "-p", str(tiny_path)], out=buf) == 0
    assert json.loads(buf.getvalue())["verdict"] == "pass"
