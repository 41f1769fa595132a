"""Receiving an upload body: streamed in chunks to a temporary file in storage while it is
hashed, never held in memory, never spooled by FastAPI first. Raw bodies (``curl -T``) and
multipart forms (the web page, ``curl -F``) are both streamed. Blocking writes run in a
thread, a megabyte at a time, so the event loop keeps serving other requests."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import anyio
from python_multipart.multipart import MultipartParser, parse_options_header
from sqlalchemy import select
from starlette.requests import ClientDisconnect

from service.core.errors import RequestError, StorageFullError
from service.store.database import Database
from service.store.models import Upload
from service.store.storage import DIRECT_BLOCK, Incoming, Storage

MAX_FORM_FIELD = 64 * 1024
"""Largest non-file field a multipart form may carry (bytes)."""

MAX_FORM_FIELDS = 16
"""Most non-file fields a multipart form may carry (the page sends one or two)."""

MAX_FORM_TOTAL = 128 * 1024
"""Largest sum of the non-file fields of a multipart form (bytes): they are kept in memory."""

MAX_PART_HEADERS = 8 * 1024
"""Largest headers of one multipart part (bytes)."""

FILE_FIELD = "file"
"""The form field that carries the file."""

BATCH = DIRECT_BLOCK
"""Bytes handed to the writing thread at a time: one aligned O_DIRECT block. With 1 MiB
batches the network waited on every block's hash and write (~630 MB/s for a 1 GB upload
here); with 8 MiB ones the next batch arrives while the last is written (~830 MB/s).
Received chunks are held until then: at most two batches and the block buffer, ~24 MiB,
per upload."""

MAX_PARTS = 512
"""Most chunks in one batch (without O_DIRECT a batch is one ``writev``; the system allows 1024)."""


@dataclass
class Received:
    """What came with the body besides the bytes."""

    file_name: str | None = None
    content_type: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


class _Sink:
    """Gathers network chunks (kept as they are, not copied) into BATCH-sized batches that a
    worker thread hashes and writes (see ``Incoming``). One batch is written while the next
    is received (at most one in flight), so disk and hash overlap the network."""

    def __init__(self, incoming: Incoming) -> None:
        self.incoming = incoming
        self.parts: list[bytes] = []
        self.pending = 0
        self.inflight: asyncio.Future[None] | None = None

    async def add(self, data: bytes) -> None:
        limit = self.incoming.limit
        if limit is not None and self.incoming.size + self.pending + len(data) > limit:
            await self.flush()
            self.incoming.write(data)  # raises UploadTooLargeError before anything more is read
        self.parts.append(data)
        self.pending += len(data)
        if self.pending >= BATCH or len(self.parts) >= MAX_PARTS:
            await self._wait()
            parts, self.parts, self.pending = self.parts, [], 0
            self.inflight = asyncio.get_running_loop().run_in_executor(None, self.incoming.write_many, parts)

    async def _wait(self) -> None:
        if self.inflight is not None:
            fut, self.inflight = self.inflight, None
            await fut

    async def flush(self) -> None:
        """Write everything received so far (raises what a write raised)."""
        await self._wait()
        if self.parts:
            parts, self.parts, self.pending = self.parts, [], 0
            await anyio.to_thread.run_sync(self.incoming.write_many, parts)

    async def drain(self) -> None:
        """After an error: let a write in flight end before the file is discarded."""
        if self.inflight is not None:
            fut, self.inflight = self.inflight, None
            with contextlib.suppress(Exception):
                await asyncio.shield(fut)


class _Part:
    """The headers of the multipart part being parsed."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.headers: dict[bytes, bytes] = {}
        self.field = b""
        self.value = b""
        self.kind: str | None = None
        self.name = ""


def ensure_room(db: Database, storage: Storage, reserve: int, needed: int) -> None:
    """Refuse (507) a new upload of ``needed`` bytes when the storage's free space, less what the
    resumable uploads in flight may still write, would fall under ``reserve``."""
    free = storage.free_bytes()
    with db.session() as s:
        rows = s.execute(select(Upload.id, Upload.length).where(Upload.submission_id.is_(None))).all()
    pending = 0
    for upload_id, length in rows:
        try:
            have = storage.tus_path(upload_id).stat().st_size
        except OSError:
            have = 0
        pending += max(0, (length or 0) - have)
    if free - pending - needed < reserve:
        raise StorageFullError(free)


def idle_error(idle_s: float, kept_offset: int | None = None, min_rate: int = 0) -> RequestError:
    """408 for a body that stopped (``min_rate`` 0) or trickled under ``min_rate`` bytes a second
    for ``idle_s``; ``kept_offset``: a resumable upload kept the bytes up to there."""
    if min_rate:
        zh_what = f"{idle_s:g} 秒内每秒不足 {min_rate} 字节"
        en_what = f"under {min_rate} bytes a second for {idle_s:g} s"
    else:
        zh_what, en_what = f"超过 {idle_s:g} 秒没有发送数据", f"nothing for {idle_s:g} s"
    extra: dict[str, object] = {"min_rate": min_rate} if min_rate else {}
    if kept_offset is None:
        return RequestError(408, "body_idle", f"上传{zh_what}，已中止，未保存任何内容。",
                            f"The upload sent {en_what} and was dropped; nothing was kept.", **extra)
    return RequestError(
        408,
        "body_idle",
        f"上传{zh_what}，已中止；已收到的 {kept_offset} 字节已保存，可从此处继续。",
        f"The upload sent {en_what} and was stopped; the {kept_offset} bytes received are kept: resume from there.",
        upload_offset=kept_offset,
        **extra,
    )


async def idle_limited(
    stream: AsyncIterator[bytes], idle_s: float | None, min_rate: int = 0
) -> AsyncIterator[bytes]:
    """The chunks of ``stream``; a 408 RequestError when none comes for ``idle_s`` seconds, or when
    fewer than ``min_rate`` × ``idle_s`` bytes came in the last ``idle_s`` seconds (a client that
    trickles a byte at a time holds a connection as long as one that sends nothing)."""
    it = aiter(stream)
    window_start, window_bytes = time.monotonic(), 0
    while True:
        try:
            if idle_s:
                with anyio.fail_after(idle_s):
                    chunk = await anext(it)
            else:
                chunk = await anext(it)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise idle_error(idle_s or 0) from None
        if idle_s and min_rate:
            window_bytes += len(chunk)
            now = time.monotonic()
            if now - window_start >= idle_s:
                if window_bytes < min_rate * (now - window_start):
                    raise idle_error(idle_s, min_rate=min_rate)
                window_start, window_bytes = now, 0
        yield chunk


def _disconnected() -> RequestError:
    return RequestError(
        400, "upload_aborted", "上传中断，未保存任何内容。", "The upload was interrupted; nothing was kept."
    )


async def receive_raw(stream: AsyncIterator[bytes], incoming: Incoming) -> None:
    sink = _Sink(incoming)
    try:
        async for chunk in stream:
            if chunk:
                await sink.add(chunk)
        await sink.flush()
    except ClientDisconnect:
        raise _disconnected() from None
    finally:
        await sink.drain()


def boundary_of(content_type: str) -> bytes:
    ctype, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise RequestError(
            400, "bad_multipart", "表单格式无效（缺少 boundary）。", "Invalid multipart form (no boundary)."
        )
    return boundary


async def receive_multipart(stream: AsyncIterator[bytes], content_type: str, incoming: Incoming,
                            before_file: Callable[[Received], Awaitable[None]] | None = None) -> Received:
    """Stream a multipart form: the part named ``file`` goes to ``incoming``; other small
    fields are returned. Exactly one file part is accepted. ``before_file`` is awaited with the
    fields seen so far and the file's name once the file part's headers are read, before any
    of its bytes are written (it may refuse the upload by raising)."""
    received = Received()
    file_seen = False
    sink = _Sink(incoming)
    part = _Part()
    files = 0
    fields = 0
    field_bytes = 0
    header_bytes = 0
    pending: list[bytes] = []
    text = bytearray()

    def on_part_begin() -> None:
        nonlocal header_bytes
        part.reset()
        text.clear()
        header_bytes = 0

    def count_header(n: int) -> None:
        nonlocal header_bytes
        header_bytes += n
        if header_bytes > MAX_PART_HEADERS:
            raise RequestError(
                400, "bad_multipart", "表单某部分的头过大。", "The headers of a form part are too large."
            )

    def on_header_field(data: bytes, start: int, end: int) -> None:
        count_header(end - start)
        part.field += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        count_header(end - start)
        part.value += data[start:end]

    def on_header_end() -> None:
        part.headers[part.field.lower()] = part.value
        part.field, part.value = b"", b""

    def on_headers_finished() -> None:
        nonlocal files, fields, file_seen
        _, opts = parse_options_header(part.headers.get(b"content-disposition", b""))
        name = opts.get(b"name", b"").decode("utf-8", "replace")
        filename = opts.get(b"filename*") or opts.get(b"filename")
        part.name = name
        if name == FILE_FIELD or filename is not None:
            files += 1
            if files != 1:
                raise RequestError(
                    400, "one_file_only", "一次只能上传一个文件。", "Upload one file at a time."
                )
            part.kind = "file"
            file_seen = True
            raw = (filename or b"").decode("utf-8", "replace")
            if raw.lower().startswith("utf-8''"):
                raw = unquote(raw[7:])
            received.file_name = raw
            ct = part.headers.get(b"content-type")
            received.content_type = ct.decode("latin-1") if ct else None
        else:
            part.kind = "field"
            fields += 1
            if fields > MAX_FORM_FIELDS:
                raise RequestError(
                    400,
                    "too_many_fields",
                    f"表单字段过多（最多 {MAX_FORM_FIELDS} 个，文件除外）。",
                    f"The form has too many fields (at most {MAX_FORM_FIELDS} besides the file).",
                    max_fields=MAX_FORM_FIELDS,
                )

    def on_part_data(data: bytes, start: int, end: int) -> None:
        nonlocal field_bytes
        if part.kind == "file":
            pending.append(data[start:end])
        else:
            text.extend(data[start:end])
            field_bytes += end - start
            if len(text) > MAX_FORM_FIELD:
                raise RequestError(
                    413,
                    "field_too_large",
                    f"表单字段过大（每个最多 {MAX_FORM_FIELD // 1024} KiB）。",
                    f"A form field is too large (at most {MAX_FORM_FIELD // 1024} KiB each).",
                )
            if field_bytes > MAX_FORM_TOTAL:
                raise RequestError(
                    413,
                    "fields_too_large",
                    f"表单字段合计过大（最多 {MAX_FORM_TOTAL // 1024} KiB，文件除外）。",
                    f"The form's fields are too large together (at most {MAX_FORM_TOTAL // 1024} KiB "
                    "besides the file).",
                )

    def on_part_end() -> None:
        if part.kind == "field":
            received.fields[part.name] = text.decode("utf-8", "replace")

    parser = MultipartParser(
        boundary_of(content_type),
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        async for chunk in stream:
            if not chunk:
                continue
            try:
                parser.write(chunk)
            except RequestError:
                raise
            except Exception as e:  # python-multipart raises its own errors on malformed input
                raise RequestError(
                    400, "bad_multipart", "表单格式无效。", f"Invalid multipart form: {e}"
                ) from None
            if file_seen and before_file is not None:
                hook, before_file = before_file, None
                await hook(received)
            for piece in pending:
                await sink.add(piece)
            pending.clear()
        parser.finalize()
        await sink.flush()
    except ClientDisconnect:
        raise _disconnected() from None
    finally:
        await sink.drain()
    if not files:
        raise RequestError(
            400, "no_file", "表单中没有文件（字段名 file）。", "The form has no file (field 'file')."
        )
    return received


def expire_abandoned(db: Database, storage: Storage, expiry_s: float, now: datetime | None = None) -> int:
    """Delete the tus uploads (resumable, service/web/routes/tus.py) whose last byte is older than
    ``expiry_s``, with their partial files; returns how many were unfinished."""
    cutoff = (now or datetime.now(UTC)) - timedelta(seconds=expiry_s)
    with db.session() as s:
        rows = s.scalars(select(Upload).where(Upload.updated_at < cutoff)).all()
        for up in rows:  # completed ones too: their receipt token must not stay in plain text
            storage.tus_path(up.id).unlink(missing_ok=True)
            s.delete(up)
        return sum(1 for up in rows if up.submission_id is None)
