from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

from service.cli.main import main
from tests.support.batch_set import build_folder, build_zip, good_mp4, profile_path

EXPECTED = {
    "entries/科普微视频-张三-山西科协.mp4": ("checked", "pass"),
    "entries/第二批/实验-李四-太原一中.mp4": ("checked", "warn"),
    "entries/太长-王五-晋中.mp4": ("checked", "fail"),
    "entries/格式不对.mkv": ("checked", "fail"),
    "entries/损坏.mp4": ("checked", "error"),
    "entries/报名表.docx": ("skipped", "skipped"),
    "entries/说明.txt": ("skipped", "skipped"),
    "entries/Thumbs.db": ("skipped", "skipped"),
    "第一批作品.zip/参赛作品/科普微视频-赵六-运城科协.mp4": ("checked", "pass"),
    "第一批作品.zip/参赛作品/时长超标-钱七-大同.mp4": ("checked", "fail"),
    "第一批作品.zip/参赛作品/报名表.doc": ("skipped", "skipped"),
    "第一批作品.zip/参赛作品/加密作品.mp4": ("rejected", "error"),
    "第一批作品.zip/../越界.mp4": ("rejected", "error"),
    "第一批作品.zip/炸弹.mp4": ("rejected", "error"),
    "第一批作品.zip/内层.zip": ("skipped", "skipped"),
}


def _records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]


def _verdict(r: dict) -> str:
    return r["report"]["verdict"] if r["report"] else "skipped"


@pytest.fixture(scope="module")
def batch_run(tmp_path_factory):
    """One batch over a folder and a GBK zip, shared by the assertions below."""
    root = tmp_path_factory.mktemp("batch")
    folder, archive, prof = build_folder(root), build_zip(root), profile_path(root)
    out = root / "out"
    stdout = io.StringIO()
    code = main(["batch", str(folder), str(archive), "--profile", str(prof), "--out", str(out), "--jobs", "2"],
                out=stdout)
    return root, out, code, stdout.getvalue()


def test_every_entry_gets_the_right_verdict(batch_run, validate_report):
    root, out, code, stdout = batch_run
    records = _records(out)
    got = {r["entry"]["name"]: (r["status"], _verdict(r)) for r in records}
    assert got == EXPECTED
    assert code == 1  # some files fail
    assert "通过 2" in stdout and "pass 2" in stdout
    for r in records:
        if r["report"]:
            validate_report(r["report"])


def test_archive_hazards_are_reported_with_their_reason(batch_run):
    _, out, _, _ = batch_run
    by_name = {r["entry"]["name"]: r for r in _records(out)}
    code = {name: (by_name[name]["report"] or {}).get("error", {}) or {} for name in by_name}
    assert code["第一批作品.zip/参赛作品/加密作品.mp4"]["code"] == "encrypted"
    assert code["第一批作品.zip/../越界.mp4"]["code"] == "unsafe_path"
    assert code["第一批作品.zip/炸弹.mp4"]["code"] == "zip_bomb"
    assert by_name["第一批作品.zip/内层.zip"]["entry"]["reason_code"] == "nested_archive"
    assert by_name["entries/损坏.mp4"]["report"]["error"]["code"] in ("truncated", "unrecognised")
    failed = [c["rule"] for c in by_name["第一批作品.zip/参赛作品/时长超标-钱七-大同.mp4"]["report"]["checks"]
              if c["status"] == "fail"]
    assert failed == ["duration"]


def test_nothing_is_written_outside_the_output_folder(batch_run):
    root, out, _, _ = batch_run
    assert sorted(p.name for p in root.iterdir()) == ["entries", "out", "test-batch.yaml", "第一批作品.zip"]
    assert not (root.parent / "越界.mp4").exists()
    assert list((out / ".mediacheck" / "work").iterdir()) == []  # member copies are removed


def test_spreadsheet_has_chinese_names_verdicts_and_links(batch_run):
    _, out, _, _ = batch_run
    ws = load_workbook(out / "summary.xlsx").active
    rows = list(ws.iter_rows(values_only=True))
    head = rows[0]
    assert head[:3] == ("序号 No.", "文件 File", "结论 Verdict")
    assert "时长 Duration" in head and "封装格式 Container" in head
    by_name = {r[1]: r for r in rows[1:]}
    assert set(by_name) == set(EXPECTED)
    zh = {"pass": "通过 Pass", "warn": "通过（有警告） Pass with warnings", "fail": "不通过 Fail",
          "error": "无法检查 Could not check", "skipped": "已跳过 Skipped"}
    assert {name: r[2] for name, r in by_name.items()} == {n: zh[v] for n, (_, v) in EXPECTED.items()}
    long_row = by_name["第一批作品.zip/参赛作品/时长超标-钱七-大同.mp4"]
    assert long_row[head.index("时长 Duration")].startswith("✗ 不符合")
    row_no = 2 + [r[1] for r in rows[1:]].index("entries/科普微视频-张三-山西科协.mp4")
    link_cell = ws.cell(row=row_no, column=2)
    assert (out / link_cell.hyperlink.target).is_file()
    assert "科普微视频-张三-山西科协.mp4" in (out / link_cell.hyperlink.target).read_text(encoding="utf-8")
    assert all(ws.cell(row=i, column=2).hyperlink is None for i, r in enumerate(rows[1:], 2) if r[2] == zh["skipped"])


def test_csv_has_a_bom_and_the_same_rows(batch_run):
    _, out, _, _ = batch_run
    raw = (out / "summary.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    xlsx = list(load_workbook(out / "summary.xlsx").active.iter_rows(values_only=True))
    assert [r[1] for r in rows] == [r[1] for r in xlsx]
    assert [r[2] for r in rows] == [r[2] for r in xlsx]


def test_index_and_report_pages(batch_run):
    _, out, _, _ = batch_run
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "批量检查结果" in index and "Batch check results" in index
    assert "科普微视频-赵六-运城科协.mp4" in index
    assert '<th class="v-pass">通过 <span class="en">Pass</span></th><td>2</td>' in index
    pages = list((out / "reports").glob("*.html"))
    assert len(pages) == sum(1 for s, _ in EXPECTED.values() if s != "skipped")
    records = _records(out)
    page = next(out / r["html"] for r in records if r["entry"]["name"] == "entries/太长-王五-晋中.mp4")
    text = page.read_text(encoding="utf-8")
    assert "太长-王五-晋中.mp4" in text and "不通过" in text and "时长" in text


def test_second_run_reuses_every_record(batch_run):
    root, out, _, _ = batch_run
    before = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    err = io.StringIO()
    sys_stderr, sys.stderr = sys.stderr, err
    try:
        code = main(["batch", str(root / "entries"), str(root / "第一批作品.zip"), "--profile",
                     str(root / "test-batch.yaml"), "--out", str(out)], out=io.StringIO())
    finally:
        sys.stderr = sys_stderr
    after = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert code == 1
    assert "resuming, 7 file(s) already done" in err.getvalue()  # every checked file, the unreadable one too
    checked = [line for line in before if json.loads(line)["status"] == "checked"]
    assert len(checked) == 7 and all(line in after for line in checked)  # reused verbatim, not redone
    assert [json.loads(a)["entry"]["name"] for a in after] == [json.loads(b)["entry"]["name"] for b in before]
    assert (out / "summary.xlsx").exists()


def test_a_new_profile_version_rechecks(batch_run):
    root, out, _, _ = batch_run
    (root / "v2").mkdir()
    prof = root / "v2" / "test-batch.yaml"
    prof.write_text((root / "test-batch.yaml").read_text(encoding="utf-8").replace('version: "1"', 'version: "2"'),
                    encoding="utf-8")
    try:
        code = main(["batch", str(root / "entries"), "--profile", str(prof), "--out", str(out)], out=io.StringIO())
    finally:
        prof.unlink()
        prof.parent.rmdir()
    assert code == 1
    records = _records(out)
    assert len(records) == 8  # only the folder this time
    assert {r["report"]["profile"]["version"] for r in records if r["report"]} == {"2"}


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_exit_code_zero_when_every_file_passes(tmp_path, executor):
    d = tmp_path / "ok"
    d.mkdir()
    (d / "a.mp4").write_bytes(good_mp4().read_bytes())
    (d / "b.mp4").write_bytes(good_mp4().read_bytes() + b"\0")
    (d / "readme.txt").write_text("x")
    code = main(["batch", str(d), "--profile", str(profile_path(tmp_path)), "--out", str(tmp_path / "o"),
                 "--executor", executor], out=io.StringIO())
    assert code == 0
    verdicts = [_verdict(r) for r in _records(tmp_path / "o")]
    assert verdicts == ["pass", "pass", "skipped"]


def test_fix_writes_fixed_copies_apart_and_keeps_the_original(tmp_path):
    from tests.support.batch_set import mkv

    d = tmp_path / "in"
    d.mkdir()
    src = d / "格式不对.mkv"
    src.write_bytes(mkv().read_bytes())
    before = src.read_bytes()
    out = tmp_path / "o"
    code = main(["batch", str(d), "--profile", str(profile_path(tmp_path)), "--out", str(out), "--fix"],
                out=io.StringIO())
    assert code == 1                                  # the entry as submitted still fails
    assert src.read_bytes() == before                 # the original is untouched
    [fix_json] = list((out / "fixed").glob("*/fix.json"))
    result = json.loads(fix_json.read_text(encoding="utf-8"))
    assert result["status"] == "fixed", result.get("reason")
    assert result["after"]["verdict"] in ("pass", "warn")
    assert Path(result["output"]).name == "格式不对.mp4" and Path(result["output"]).exists()


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_deep_runs_the_checkers_analysis(tmp_path, executor):
    """--deep reaches the checker in both executors: the analysis is in the record and the
    profile's content checks are judged; the same run without --deep has neither."""
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.mp4").write_bytes(good_mp4().read_bytes())
    prof = str(profile_path(tmp_path))
    for deep in (True, False):
        out = tmp_path / f"o-{deep}"
        code = main(["batch", str(d), "--profile", prof, "--out", str(out), "--executor", executor,
                     *(["--deep"] if deep else [])], out=io.StringIO())
        assert code in (0, 1)
        (rec,) = _records(out)
        analysis = rec["report"].get("analysis")
        timings = rec["report"]["timings_ms"]
        if deep:
            assert analysis is not None and analysis["video_analyzed"] is True
            assert analysis["loudness"] is not None and "analysis" in timings
        else:
            assert analysis is None and "analysis" not in timings


def test_links_out_of_the_folder_and_fifos_are_listed_not_read(tmp_path):
    """Issue 11.8/11.9 end to end: the batch finishes at once (a FIFO is not opened), lists the
    FIFO and the link to /etc/passwd as skipped with their reasons, and hashes neither."""
    import hashlib

    d = tmp_path / "in"
    d.mkdir()
    (d / "a.mp4").write_bytes(good_mp4().read_bytes())
    (d / "passwd.mp4").symlink_to("/etc/passwd")
    (d / "inside.mp4").symlink_to(d / "a.mp4")
    os.mkfifo(d / "pipe.mp4")
    out = tmp_path / "o"
    t0 = time.monotonic()
    code = main(["batch", str(d), "--profile", str(profile_path(tmp_path)), "--out", str(out), "--executor",
                 "thread"], out=io.StringIO())
    assert time.monotonic() - t0 < 60
    assert code == 0
    got = {r["entry"]["name"]: (r["status"], r["entry"]["reason_code"], _verdict(r)) for r in _records(out)}
    assert got == {"in/a.mp4": ("checked", None, "pass"), "in/inside.mp4": ("checked", None, "pass"),
                   "in/passwd.mp4": ("skipped", "link_outside", "skipped"),
                   "in/pipe.mp4": ("skipped", "not_regular_file", "skipped")}
    passwd_sha = hashlib.sha256(Path("/etc/passwd").read_bytes()).hexdigest()
    assert passwd_sha not in (out / "results.jsonl").read_text(encoding="utf-8")
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "passwd.mp4" in index and "pipe.mp4" in index


def test_missing_path_is_a_usage_error(tmp_path, capsys):
    code = main(["batch", str(tmp_path / "nope"), "--profile", str(profile_path(tmp_path)), "--out",
                 str(tmp_path / "o")])
    assert code == 2 and "no such path" in capsys.readouterr().err


@pytest.mark.parametrize("executor", ["thread", "process"])
def test_ctrl_c_stops_cleanly_and_the_next_run_resumes(tmp_path, executor):
    d = tmp_path / "in"
    d.mkdir()
    for i in range(12):  # distinct content, so every file is its own check
        data = good_mp4().read_bytes() + bytes([i]) * 16
        (d / f"作品{i:02d}.mp4").write_bytes(data)
    prof, out = profile_path(tmp_path), tmp_path / "out"
    cmd = [sys.executable, "-m", "service.cli", "batch", str(d), "--profile", str(prof), "--out", str(out),
           "--jobs", "1", "--executor", executor]
    # its own session, so Ctrl-C can be sent as a terminal does: to the whole process group
    # (workers, the forkserver and the ffprobe children get it too)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=Path(__file__).parent.parent,
                            start_new_session=True)
    results = out / "results.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if results.exists() and results.read_bytes().count(b"\n") >= 3:
            break
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err.decode()
    assert "interrupted" in err.decode() and "Traceback" not in err.decode()
    raw = results.read_bytes()
    assert raw.endswith(b"\n")
    first = [json.loads(line) for line in raw.splitlines()]
    assert 3 <= len(first) < 12
    assert all(r["report"]["verdict"] == "pass" for r in first)
    assert not (out / "summary.xlsx").exists() and not (out / "index.html").exists()

    done = subprocess.run(cmd, capture_output=True, cwd=Path(__file__).parent.parent, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert f"resuming, {len(first)} file(s) already done" in done.stderr.decode()
    final = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(final) == 12
    first_lines = raw.decode("utf-8").splitlines()
    assert all(line in final for line in first_lines)  # finished files were not redone
    assert (out / "summary.xlsx").exists()


def test_output_folder_inside_the_input_is_not_walked(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.mp4").write_bytes(good_mp4().read_bytes())
    prof = profile_path(tmp_path)
    for _ in range(2):
        code = main(["batch", str(d), "--profile", str(prof), "--out", str(d / "out")], out=io.StringIO())
        assert code == 0
    names = [json.loads(line)["entry"]["name"] for line in (d / "out" / "results.jsonl").read_text().splitlines()]
    assert names == ["in/a.mp4"]


def test_work_dir_leftovers_from_a_killed_run_are_removed(tmp_path):
    out = tmp_path / "out"
    (out / ".mediacheck" / "work").mkdir(parents=True)
    (out / ".mediacheck" / "work" / "dead.mp4").write_bytes(b"x")
    d = tmp_path / "in"
    d.mkdir()
    main(["batch", str(d), "--profile", str(profile_path(tmp_path)), "--out", str(out)], out=io.StringIO())
    assert os.listdir(out / ".mediacheck" / "work") == []


def test_a_second_run_on_the_same_output_folder_is_refused(tmp_path, capsys):
    from service.batch.state import BatchState

    d = tmp_path / "in"
    d.mkdir()
    holder = BatchState(tmp_path / "o")
    holder.lock()  # a run in progress
    try:
        code = main(["batch", str(d), "--profile", str(profile_path(tmp_path)), "--out", str(tmp_path / "o")])
    finally:
        holder.unlock()
    err = capsys.readouterr().err
    assert code == 2 and "另一个批量检查正在写入" in err and "another batch is writing" in err
    assert main(["batch", str(d), "--profile", str(profile_path(tmp_path)), "--out", str(tmp_path / "o")],
                out=io.StringIO()) == 0
