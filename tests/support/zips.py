"""Zip archives built the way the field makes them: names written by Chinese Windows in
GBK without the UTF-8 flag, encrypted members (the header flag), path-escaping names."""

from __future__ import annotations

import zipfile
from pathlib import Path


class RawZipInfo(zipfile.ZipInfo):
    """A ZipInfo whose name is written as the given raw bytes, with extra flag bits
    (``zipfile`` would otherwise write non-ASCII names as UTF-8 with flag 0x800)."""

    def __init__(self, raw_name: bytes, *, extra_flags: int = 0) -> None:
        super().__init__(raw_name.decode("cp437"), date_time=(2023, 4, 20, 10, 0, 0))
        self._raw_name = raw_name
        self._extra_flags = extra_flags
        self.compress_type = zipfile.ZIP_DEFLATED

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # noqa: N802 - zipfile's name
        return self._raw_name, self.flag_bits | self._extra_flags


def gbk_zip(path: Path, members: list[tuple[str, bytes]], *, encrypted: tuple[str, ...] = (),
            utf8: tuple[str, ...] = ()) -> Path:
    """A zip whose members are named in GBK without the UTF-8 flag (as Chinese Windows'
    built-in zip tool writes them). Names in ``utf8`` are written with the flag set; names
    in ``encrypted`` get the encryption flag (their data stays plain: nothing may read it)."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members:
            if name in utf8:
                zf.writestr(zipfile.ZipInfo(name, date_time=(2023, 4, 20, 10, 0, 0)), data)
                continue
            info = RawZipInfo(name.encode("gbk"), extra_flags=0x1 if name in encrypted else 0)
            zf.writestr(info, data)
    return path
