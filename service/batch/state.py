"""What a batch has already done, kept in its output folder so that a run stopped halfway
resumes where it stopped.

- ``.mediacheck/state.jsonl``: entry id + stamp (size, mtime or CRC) → sha256, so a file
  seen before is not hashed again;
- ``results.jsonl``: one ``Record`` per line, appended as files finish (one ``write`` of a
  whole line, flushed). A record is reused when its key (sha256 + name + profile version
  + tool versions) matches what this run would produce.

At the end of a complete run ``results.jsonl`` is rewritten (to a temporary file, then
renamed) with exactly one record per current entry, in entry order."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from service.batch.entries import BatchEntry
from service.batch.task import Record, TaskOptions, result_key
from service.core.errors import MediaCheckError

STATE_DIR = ".mediacheck"
"""Hidden folder in the output folder holding the resume state and the work area."""

RESULTS_NAME = "results.jsonl"
"""The records of a batch, one per line."""


class BatchBusyError(MediaCheckError):
    """Another batch is already writing to the same output folder."""

    def __init__(self, out_dir: Path) -> None:
        self.message = {"zh-CN": f"另一个批量检查正在写入 {out_dir}，请等待它结束或换一个输出文件夹。",
                        "en": f"another batch is writing to {out_dir}; wait for it or choose another output folder."}
        super().__init__(self.message["en"])


class BatchState:
    """The resume state of one output folder. Keeps offsets into results.jsonl, not the
    records themselves, so memory stays flat however many files a batch has."""

    def __init__(self, out_dir: str | os.PathLike[str]) -> None:
        self.out_dir = Path(out_dir)
        self.state_dir = self.out_dir / STATE_DIR
        self.work_dir = self.state_dir / "work"
        self.state_path = self.state_dir / "state.jsonl"
        self.results_path = self.out_dir / RESULTS_NAME
        self._sha: dict[tuple[str, str], str] = {}
        self._by_key: dict[str, int] = {}
        self._latest: dict[str, int] = {}
        self._results_fh = None
        self._state_fh = None
        self._lock_fd: int | None = None

    # ------------------------------------------------------------ loading

    def lock(self) -> None:
        """Hold the output folder for this run (released by ``close`` or at exit);
        BatchBusyError when another run holds it."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.state_dir / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise BatchBusyError(self.out_dir) from None
        self._lock_fd = fd

    def load(self) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        for leftover in self.work_dir.iterdir():  # members copied out by a run that was killed
            leftover.unlink(missing_ok=True)
        if self.state_path.exists():
            with self.state_path.open(encoding="utf-8") as fh:
                for line in fh:
                    try:
                        d = json.loads(line)
                        self._sha[(d["id"], d["stamp"])] = d["sha256"]
                    except (ValueError, KeyError, TypeError):
                        continue  # a line cut by a crash: ignore it
        if self.results_path.exists():
            with self.results_path.open("rb") as fh:
                offset = 0
                for raw in fh:
                    record = _parse(raw)
                    if record is not None:
                        self._latest[record.entry.id] = offset
                        if record.reusable and record.key:
                            self._by_key[record.key] = offset
                    offset += len(raw)

    def known_sha256(self, entry: BatchEntry) -> str | None:
        return self._sha.get((entry.id, entry.stamp))

    def reusable(self, entry: BatchEntry, options: TaskOptions) -> Record | None:
        """The record of a previous run for this entry, if it is still valid (it then
        becomes the entry's record for this run)."""
        sha = self.known_sha256(entry)
        if sha is None or entry.action != "check":
            return None
        offset = self._by_key.get(result_key(sha, entry, options))
        if offset is None:
            return None
        record = self.read_at(offset)
        if record is None or record.entry.id != entry.id or record.entry.stamp != entry.stamp:
            return None
        self._latest[entry.id] = offset  # the summaries use this record, not a later one of another profile
        return record

    def read_at(self, offset: int) -> Record | None:
        with self.results_path.open("rb") as fh:
            fh.seek(offset)
            return _parse(fh.readline())

    # ------------------------------------------------------------ writing

    def open(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._results_fh = self.results_path.open("ab")  # type: ignore[assignment]
        self._state_fh = self.state_path.open("a", encoding="utf-8")  # type: ignore[assignment]

    def append(self, record: Record) -> None:
        """Write one record as one whole line (never half a line), then its sha256."""
        assert self._results_fh is not None and self._state_fh is not None
        line = (record.model_dump_json() + "\n").encode("utf-8")
        offset = self._results_fh.tell()
        self._results_fh.write(line)
        self._results_fh.flush()
        self._latest[record.entry.id] = offset
        sha = record.report.file.sha256 if record.report is not None else None
        if record.key and sha:
            self._by_key[record.key] = offset
            if (record.entry.id, record.entry.stamp) not in self._sha:
                self._sha[(record.entry.id, record.entry.stamp)] = sha
                self._state_fh.write(json.dumps({"id": record.entry.id, "stamp": record.entry.stamp,
                                                 "sha256": sha}, ensure_ascii=False) + "\n")
                self._state_fh.flush()

    def close(self) -> None:
        for fh in (self._results_fh, self._state_fh):
            if fh is not None:
                fh.close()
        self._results_fh = self._state_fh = None

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def compact(self, entries: list[BatchEntry]) -> None:
        """Rewrite results.jsonl with the latest record of each current entry, in order."""
        tmp = self.results_path.with_name(RESULTS_NAME + ".tmp")
        with self.results_path.open("rb") as src, tmp.open("wb") as dst:
            for entry in entries:
                offset = self._latest.get(entry.id)
                if offset is None:
                    continue
                src.seek(offset)
                dst.write(src.readline())
        os.replace(tmp, self.results_path)
        self._latest.clear()
        self._by_key.clear()

    def records(self) -> Iterator[Record]:
        """The records of results.jsonl, streamed."""
        if not self.results_path.exists():
            return
        with self.results_path.open("rb") as fh:
            for raw in fh:
                record = _parse(raw)
                if record is not None:
                    yield record


def _parse(raw: bytes) -> Record | None:
    if not raw.endswith(b"\n"):
        return None
    try:
        return Record.model_validate_json(raw)
    except ValidationError:
        return None
