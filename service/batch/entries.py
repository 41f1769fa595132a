"""The entries of a batch: every file under the given folders (recursively) and every
member of the zip archives among them, each with a stable id, a display name and what
the batch will do with it (check it, skip it as non-media, or reject it as unsafe).

Decisions (documented in docs/batch.md):
- media is recognised by extension; loose files with an unknown extension are sniffed
  by their first bytes (members are not: reading them means decompressing);
- zip archives found in folders are opened; a zip inside a zip is listed as skipped
  (unpack it and run again), other archive formats too;
- operating-system litter (``__MACOSX/``, ``.DS_Store``, ``Thumbs.db``…) is skipped;
- the output folder is never walked, even when it lies inside an input folder;
- links are never followed out of the given folders, nor into folders (the folder is walked
  where it is); FIFOs, sockets and devices are never opened: each is listed as skipped."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import BaseModel, ConfigDict

from service.batch.archive import list_members, member_problem
from service.core.errors import ArchiveError
from service.media.probe import not_regular_error

MEDIA_EXTENSIONS = frozenset({
    "mp4", "m4v", "mov", "qt", "avi", "mkv", "webm", "wmv", "asf", "flv", "f4v", "mpg", "mpeg", "vob", "ts", "mts",
    "m2ts", "3gp", "3g2", "mxf", "rm", "rmvb", "ogv", "dv",
    "mp3", "wav", "aac", "m4a", "flac", "ogg", "opus", "wma", "amr",
    "jpg", "jpeg", "jpe", "png", "gif", "bmp", "tif", "tiff", "webp", "heic", "heif", "avif",
})
"""Extensions checked as media; anything else is listed as skipped."""

ZIP_EXTENSIONS = frozenset({"zip"})
"""Archives the batch opens."""

OTHER_ARCHIVE_EXTENSIONS = frozenset({"rar", "7z", "tar", "gz", "tgz", "bz2", "xz", "zipx", "cab", "iso"})
"""Archives the batch does not open: listed as skipped with a hint to unpack them."""

SYSTEM_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini", "ehthumbs.db", ".localized"})
"""Files the operating system leaves behind (compared in lower case)."""

_MAGIC = (b"\x1a\x45\xdf\xa3", b"RIFF", b"\x30\x26\xb2\x75", b"FLV", b"\x00\x00\x01\xba", b"ID3", b"fLaC", b"OggS",
          b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"II*\x00", b"MM\x00*")

Action = Literal["check", "skip", "reject"]


class BatchEntry(BaseModel):
    """One file of a batch. ``id`` is stable across runs (the source path, plus the member
    for archive members); ``stamp`` changes when the content may have changed."""

    model_config = ConfigDict(frozen=True)

    id: str
    source: str
    member: str | None = None
    name: str
    size: int
    stamp: str
    action: Action = "check"
    reason_code: str | None = None
    reason: dict[str, str] | None = None

    @property
    def basename(self) -> str:
        return PurePosixPath(self.name).name

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.name).suffix.lower()


def _ext(name: str) -> str:
    return PurePosixPath(name).suffix.lower().lstrip(".")


def _sniff(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError:
        return False
    return head[4:8] == b"ftyp" or head.startswith(_MAGIC) or (len(head) > 0 and head[0] == 0x47 and
                                                              path.stat().st_size % 188 == 0)


def _classify(name: str) -> tuple[Action, str | None, dict[str, str] | None]:
    """What to do with a file by its name alone (loose files may still be sniffed)."""
    parts = PurePosixPath(name).parts
    base = parts[-1] if parts else name
    if "__MACOSX" in parts or base.lower() in SYSTEM_NAMES or base.startswith("._"):
        return "skip", "system_file", {"zh-CN": "操作系统生成的文件", "en": "a file the operating system made"}
    ext = _ext(base)
    if ext in MEDIA_EXTENSIONS:
        return "check", None, None
    if ext in OTHER_ARCHIVE_EXTENSIONS:
        return "skip", "archive_unsupported", {"zh-CN": f"不支持的压缩格式 .{ext}：请先解压再检查",
                                               "en": f"unsupported archive .{ext}: unpack it and run again"}
    return "skip", "not_media", {"zh-CN": "不是音视频或图片文件", "en": "not a video, audio or image file"}


def _file_entry(path: Path, root_name: str) -> BatchEntry:
    st = path.stat()
    action, code, reason = _classify(root_name)
    if code == "not_media" and _sniff(path):
        action, code, reason = "check", None, None
    return BatchEntry(id=str(path), source=str(path), name=root_name, size=st.st_size,
                      stamp=f"{st.st_size}:{st.st_mtime_ns}", action=action, reason_code=code, reason=reason)


def zip_entries(path: Path, display: str) -> list[BatchEntry]:
    """The members of one archive as entries; an unreadable archive is one rejected entry."""
    st = path.stat()
    try:
        members = list_members(path)
    except ArchiveError as e:
        return [BatchEntry(id=str(path), source=str(path), name=display, size=st.st_size,
                           stamp=f"{st.st_size}:{st.st_mtime_ns}", action="reject", reason_code=e.code,
                           reason=e.message)]
    out = []
    for m in members:
        name = f"{display}/{m.name.lstrip('/')}"
        stamp = f"{m.size}:{m.crc:08x}:{'-'.join(map(str, m.date_time))}"
        problem = member_problem(m)
        if problem is not None:
            action: Action = "reject"
            code: str | None = problem.code
            reason: dict[str, str] | None = problem.message
        else:
            action, code, reason = _classify(m.name)
            if code == "not_media" and _ext(m.name) in ZIP_EXTENSIONS:
                code = "nested_archive"
                reason = {"zh-CN": "压缩包中的压缩包：请先解压外层再检查",
                          "en": "an archive inside an archive: unpack the outer one and run again"}
        out.append(BatchEntry(id=f"{path}::{m.raw_name}", source=str(path), member=m.raw_name, name=name, size=m.size,
                              stamp=stamp, action=action, reason_code=code, reason=reason))
    return out


def _walk(root: Path, exclude: Path | None, errors: list[OSError]) -> Iterator[Path]:
    """Every name under ``root``, files and links to folders alike (never followed: the links
    are judged by ``_not_walked``); sub-folders in order, the output folder left out."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=errors.append):
        here = Path(dirpath)
        links = [d for d in dirnames if os.path.islink(here / d)]
        dirnames[:] = sorted(d for d in dirnames
                             if d not in links and (exclude is None or (here / d).resolve() != exclude))
        for f in sorted(filenames + links):
            yield here / f


def _not_walked(f: Path, folders: list[Path]) -> tuple[str, dict[str, str]] | None:
    """Why ``f`` is listed as skipped rather than read, or None to read it: a link that leaves
    the given ``folders`` (resolved) or leads nowhere, a link to a folder (its folder is walked
    where it is), anything but a regular file (a FIFO would block the reader forever)."""
    if os.path.islink(f):
        target = f.resolve()
        if not target.exists():
            return "broken_link", {"zh-CN": "链接指向的文件不存在", "en": "a link to nothing (its target is missing)"}
        if not any(target.is_relative_to(d) for d in folders):
            return "link_outside", {"zh-CN": f"链接指向所选文件夹之外（{target}），未读取",
                                    "en": f"a link that leaves the given folders ({target}); not followed"}
        if target.is_dir():
            return "linked_folder", {"zh-CN": "指向文件夹的链接：该文件夹已在原处检查",
                                     "en": "a link to a folder; that folder is checked where it is"}
    try:
        refused = not_regular_error(f.stat().st_mode)
    except OSError as e:
        return "io_error", {"zh-CN": f"无法读取：{e.strerror}", "en": f"cannot read: {e.strerror}"}
    return (refused.code, refused.message) if refused is not None else None


def collect_entries(paths: Iterable[str | os.PathLike[str]], *, exclude: str | os.PathLike[str] | None = None
                    ) -> list[BatchEntry]:
    """All entries under ``paths`` (folders, zip archives, single files), in a stable order.
    Missing paths raise FileNotFoundError before any work starts."""
    ex = Path(exclude).resolve() if exclude is not None else None
    roots = [Path(p) for p in paths]
    for r in roots:
        if not r.exists():
            raise FileNotFoundError(str(r))
    seen: set[str] = set()
    out: list[BatchEntry] = []
    folders = [r.resolve() for r in roots if r.is_dir()]
    for root in roots:
        root = root.resolve()
        errors: list[OSError] = []
        files = _walk(root, ex, errors) if root.is_dir() else iter([root])
        base = root.parent if root.is_dir() else None
        for f in files:
            display = f.relative_to(base).as_posix() if base is not None else f.name
            if str(f) in seen:
                continue
            seen.add(str(f))
            if (why := _not_walked(f, folders)) is not None:
                out.append(BatchEntry(id=str(f), source=str(f), name=display, size=0, stamp=why[0], action="skip",
                                      reason_code=why[0], reason=why[1]))
                continue
            if _ext(f.name) in ZIP_EXTENSIONS and _classify(display)[1] != "system_file":
                out.extend(zip_entries(f, display))
            else:
                out.append(_file_entry(f, display))
        for e in errors:  # a folder that cannot be listed is reported, not silently left out
            where = Path(e.filename or root)
            display = where.relative_to(base).as_posix() if base is not None and where.is_relative_to(base) \
                else where.name
            out.append(BatchEntry(id=str(where), source=str(where), name=display, size=0, stamp="unlisted",
                                  action="reject", reason_code="io_error",
                                  reason={"zh-CN": f"无法读取文件夹：{e.strerror}",
                                          "en": f"cannot list the folder: {e.strerror}"}))
    return out
