"""Read zip archives of entries safely, without unpacking them to disk: list the members
with their names decoded right (Chinese Windows writes GBK/CP936 names without the
UTF-8 flag), judge each member (encrypted, unsafe path, zip bomb), and stream one member
at a time to a temporary file while hashing and counting the bytes actually produced.

Nothing here ever uses a member's name as a path: members are written only to the file
the caller names."""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from service.core.errors import ArchiveError

UTF8_FLAG = 0x800
"""General-purpose flag bit 11: the member name is UTF-8."""

ENCRYPTED_FLAG = 0x1
"""General-purpose flag bit 0: the member is encrypted."""

UNICODE_PATH_EXTRA = 0x7075
"""Info-ZIP Unicode Path extra field: a UTF-8 copy of the name (7-Zip and WinRAR write it)."""

MAX_MEMBER_BYTES = 8 * 2**30
"""Largest uncompressed member accepted (declared or actual): 8 GiB, far above any entry."""

MAX_ARCHIVE_BYTES = 256 * 2**30
"""Largest total uncompressed size of one archive's members."""

MAX_RATIO = 100
"""Largest compression ratio accepted for a member over RATIO_MIN_BYTES (video barely compresses)."""

RATIO_MIN_BYTES = 16 * 2**20
"""Members smaller than this are not judged by their ratio (text compresses well)."""

MAX_MEMBERS = 100_000
"""Archives with more members are refused whole."""

SUPPORTED_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate", zipfile.ZIP_BZIP2: "bzip2",
                     zipfile.ZIP_LZMA: "lzma"}
"""Compression methods Python's zipfile can read. Windows Explorer writes Deflate64 (9) for
large members, which it cannot."""

_METHOD_NAMES = {9: "Deflate64", 93: "Zstandard", 95: "XZ", 98: "PPMd", 99: "AES"}

STREAM_CHUNK = 1 << 20
"""Bytes copied at a time when streaming a member out."""

_FALLBACK_ENCODINGS = ("utf-8", "gb18030", "big5", "shift_jis")
"""Tried in order on names without the UTF-8 flag; gb18030 is a superset of GBK/CP936."""


@dataclass(frozen=True)
class Member:
    """One file inside an archive, as listed in the central directory."""

    name: str
    """The decoded name, with '/' separators."""
    raw_name: str
    """The name as ``zipfile`` gives it (the key to open the member)."""
    size: int
    compressed_size: int
    crc: int
    date_time: tuple[int, int, int, int, int, int]
    encrypted: bool
    is_dir: bool
    method: int = zipfile.ZIP_STORED
    """The compression method number."""


def _unicode_path_extra(extra: bytes) -> str | None:
    """The UTF-8 name in an Info-ZIP Unicode Path extra field, if present."""
    i = 0
    while i + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, i)
        body = extra[i + 4:i + 4 + size]
        if tag == UNICODE_PATH_EXTRA and len(body) > 5 and body[0] == 1:
            try:
                return body[5:].decode("utf-8")
            except UnicodeDecodeError:
                return None
        i += 4 + size
    return None


def decode_name(info: zipfile.ZipInfo) -> str:
    """The member's real name. Without the UTF-8 flag ``zipfile`` decodes the raw bytes as
    CP437; we re-encode them to the raw bytes and try UTF-8, then GB18030 (GBK), then
    other East-Asian code pages."""
    name = info.filename
    if info.flag_bits & UTF8_FLAG:
        return name.replace("\\", "/")
    unicode_extra = _unicode_path_extra(info.extra)
    if unicode_extra:
        return unicode_extra.replace("\\", "/")
    try:
        raw = name.encode("cp437")
    except UnicodeEncodeError:  # zipfile was given a metadata_encoding: keep its reading
        return name.replace("\\", "/")
    if raw.isascii():
        return name.replace("\\", "/")
    for encoding in _FALLBACK_ENCODINGS:
        try:
            return raw.decode(encoding).replace("\\", "/")
        except UnicodeDecodeError:
            continue
    return name.replace("\\", "/")


def is_unsafe_path(name: str) -> bool:
    """A member path that would land outside the folder it is unpacked into: absolute
    (``/x``, ``C:/x``, ``//server``) or climbing with ``..``."""
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return True
    return ".." in PurePosixPath(name).parts


def list_members(path: str | os.PathLike[str]) -> list[Member]:
    """The file members of the archive at ``path`` (directories left out). Raises
    ArchiveError when the archive cannot be read or is out of limits as a whole."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, NotImplementedError) as e:
        raise ArchiveError("无法读取压缩包（文件损坏或不是 zip 格式）", f"cannot read the archive ({e})",
                           code="archive_unreadable") from None
    if len(infos) > MAX_MEMBERS:
        raise ArchiveError(f"压缩包内文件过多（{len(infos)} 个，上限 {MAX_MEMBERS}）",
                           f"too many members ({len(infos)}, the limit is {MAX_MEMBERS})", code="archive_limit")
    total = sum(i.file_size for i in infos)
    if total > MAX_ARCHIVE_BYTES:
        raise ArchiveError(f"压缩包解压后总大小 {total / 2**30:.1f} GiB 超过上限（疑似压缩炸弹）",
                           f"uncompressed total {total / 2**30:.1f} GiB is over the limit (a zip bomb?)",
                           code="zip_bomb")
    return [_member(i) for i in infos if not i.is_dir()]


def _member(i: zipfile.ZipInfo) -> Member:
    return Member(name=decode_name(i), raw_name=i.filename, size=i.file_size, compressed_size=i.compress_size,
                  crc=i.CRC, date_time=i.date_time, encrypted=bool(i.flag_bits & ENCRYPTED_FLAG), is_dir=i.is_dir(),
                  method=i.compress_type)


def find_member(path: str | os.PathLike[str], raw_name: str) -> Member:
    """The member ``raw_name`` of the archive at ``path``; ArchiveError when it is gone."""
    try:
        with zipfile.ZipFile(path) as zf:
            return _member(zf.getinfo(raw_name))
    except KeyError:
        raise ArchiveError("压缩包内找不到该文件（压缩包已被改动？）", "the member is gone (was the archive changed?)",
                           code="member_missing") from None
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise ArchiveError("无法读取压缩包（文件损坏或不是 zip 格式）", f"cannot read the archive ({e})",
                           code="archive_unreadable") from None


def member_problem(m: Member) -> ArchiveError | None:
    """Why ``m`` must not be unpacked (encrypted, unsafe path, bomb limits), or None."""
    if is_unsafe_path(m.name):
        return ArchiveError(f"压缩包内路径不安全（指向压缩包之外）：{m.name}",
                            f"unsafe member path (points outside the archive): {m.name}", code="unsafe_path")
    if m.encrypted:
        return ArchiveError("压缩包内文件已加密，无法检查；请提交未加密的压缩包",
                            "the member is encrypted and cannot be checked; submit an unencrypted archive",
                            code="encrypted")
    if m.method not in SUPPORTED_METHODS:
        name = _METHOD_NAMES.get(m.method, f"method {m.method}")
        return ArchiveError(f"不支持的压缩方式 {name}：请先用解压软件解压，或用 7-Zip/WinRAR 重新压缩为普通 zip",
                            f"unsupported compression method {name}: unpack the archive first, or re-zip it "
                            "with plain deflate", code="unsupported_compression")
    if m.size > MAX_MEMBER_BYTES:
        return ArchiveError(f"解压后大小 {m.size / 2**30:.1f} GiB 超过上限（疑似压缩炸弹）",
                            f"uncompressed size {m.size / 2**30:.1f} GiB is over the limit (a zip bomb?)",
                            code="zip_bomb")
    if m.size >= RATIO_MIN_BYTES and m.size > MAX_RATIO * max(m.compressed_size, 1):
        ratio = m.size / max(m.compressed_size, 1)
        return ArchiveError(f"压缩比 {ratio:.0f}:1 异常（上限 {MAX_RATIO}:1，疑似压缩炸弹）",
                            f"compression ratio {ratio:.0f}:1 is over the limit {MAX_RATIO}:1 (a zip bomb?)",
                            code="zip_bomb")
    return None


def stream_member(archive: str | os.PathLike[str], member: Member, dest: str | os.PathLike[str], *,
                  max_bytes: int = MAX_MEMBER_BYTES) -> str:
    """Copy ``member`` out of ``archive`` into ``dest`` and return its sha256. Counts the
    bytes actually produced and stops past the declared size or ``max_bytes``; refuses
    when the disk holding ``dest`` lacks room. On any failure ``dest`` is removed and
    ArchiveError raised."""
    problem = member_problem(member)
    if problem is not None:
        raise problem
    dest = Path(dest)
    free = shutil.disk_usage(dest.parent).free
    if member.size > free:
        raise ArchiveError(f"磁盘空间不足，无法取出该文件（需要 {member.size / 2**20:.0f} MiB）",
                           f"not enough disk space to take the member out ({member.size / 2**20:.0f} MiB needed)",
                           code="disk_full")
    limit = min(member.size, max_bytes)
    h = hashlib.sha256()
    written = 0
    try:
        with zipfile.ZipFile(archive) as zf, zf.open(member.raw_name) as src, open(dest, "wb") as out:
            while chunk := src.read(STREAM_CHUNK):
                written += len(chunk)
                if written > limit:
                    raise ArchiveError("解压出的数据超过声明的大小（疑似压缩炸弹）",
                                       "the member produced more bytes than declared (a zip bomb?)",
                                       code="zip_bomb")
                h.update(chunk)
                out.write(chunk)
    except ArchiveError:
        dest.unlink(missing_ok=True)
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError, KeyError) as e:
        dest.unlink(missing_ok=True)
        raise ArchiveError("压缩包内文件损坏，无法取出", f"the member is corrupt and cannot be read ({e})",
                           code="member_corrupt") from None
    if written != member.size:
        dest.unlink(missing_ok=True)
        raise ArchiveError("压缩包内文件不完整", "the member is shorter than declared", code="member_corrupt")
    return h.hexdigest()
