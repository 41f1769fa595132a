"""The service's commands: ``serve``, ``worker``, ``migrate``, ``campaign``, ``apikey``, ``cleanup``.
Only argparse is imported here; the web stack, SQLAlchemy and RQ are imported inside each
command, so ``mediacheck check`` stays fast."""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import Any, TextIO

from service.settings import Settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000

STRAY_TMP_AGE_S = 24 * 3600.0
"""A temporary upload file this old belongs to no live request (uploads stream straight through)."""


def add_parsers(sub: Any) -> None:
    serve = sub.add_parser("serve", help="run the web service (API and upload pages)")
    serve.add_argument("--host", default=DEFAULT_HOST)
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    serve.set_defaults(run=cmd_serve)

    worker = sub.add_parser("worker", help="run an RQ worker for jobs (needs MEDIACHECK_REDIS_URL)")
    worker.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    worker.add_argument("--simple", action="store_true", help="run jobs in this process (no fork)")
    worker.add_argument(
        "--with-scheduler", action="store_true", help="also run RQ's scheduler (retry intervals)"
    )
    worker.set_defaults(run=cmd_worker)

    mig = sub.add_parser("migrate", help="create or upgrade the database tables")
    mig.set_defaults(run=cmd_migrate)

    camp = sub.add_parser("campaign", help="create, list, close or open campaigns")
    camp.add_argument("action", choices=("create", "list", "close", "open"))
    camp.add_argument("campaign_id", nargs="?")
    camp.add_argument("--profile", action="append", default=[], help="profile id (repeat for several kinds)")
    camp.add_argument("--title-zh")
    camp.add_argument("--title-en")
    camp.add_argument("--deadline", help="ISO date-time, e.g. 2023-04-28T23:59:59+08:00")
    camp.add_argument("--autofix", action="store_true")
    camp.add_argument("--deep", action="store_true")
    camp.add_argument("--max-upload", type=int, help="bytes")
    camp.add_argument("--field", action="append", default=[], metavar="KEY:中文:ENGLISH[:TYPE[:required]]",
                      help="an entry detail to collect (repeatable), e.g. 'author:第一作者:First author:text:required'")
    camp.add_argument("--limit", action="append", default=[], metavar="FIELD=N",
                      help="at most N entries per value of a field (repeatable), e.g. author=2")
    camp.add_argument("--file-name-pattern", help="the file-name rule built from fields, e.g. '{作品名称}-{作者}'")
    camp.add_argument("--profile-yaml", help="a profile file of the organiser's own, checked and kept with the data")
    camp.add_argument("--json", help="a JSON file as POST /api/campaigns takes (applied after the options)")
    camp.set_defaults(run=cmd_campaign)

    clean = sub.add_parser("cleanup", help="delete expired resumable uploads and stray temporary files")
    clean.add_argument("--tmp-age", type=float, default=STRAY_TMP_AGE_S, help="seconds (default: a day)")
    clean.set_defaults(run=cmd_cleanup)

    key = sub.add_parser("apikey", help="create, list or revoke API keys of reviewers and admins")
    key.add_argument("action", choices=("create", "list", "revoke"))
    key.add_argument("key_id", nargs="?", help="revoke: the key's id (from apikey list)")
    key.add_argument("--name")
    key.add_argument("--role", choices=("reviewer", "admin"), default="reviewer")
    key.add_argument("--campaign", action="append", default=[], help="campaign id, or * for all (repeatable)")
    key.set_defaults(run=cmd_apikey)


def cmd_serve(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    import uvicorn

    from service.store.database import Database, migrate
    from service.web.server import server_limits

    db = Database(settings.db_url)
    migrate(db.engine)
    db.dispose()
    out.write(
        f"mediacheck: http://{args.host}:{args.port}/  "
        f"(jobs: {'RQ' if settings.redis_url else 'in-process'})\n"
    )
    out.flush()
    uvicorn.run(
        "service.web.asgi:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
        timeout_graceful_shutdown=10,
        **server_limits(settings, spawned=True),
    )
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    if not settings.redis_url:
        raise SystemExit("mediacheck: 请设置 MEDIACHECK_REDIS_URL / set MEDIACHECK_REDIS_URL to run a worker")
    from redis import Redis
    from rq import Queue, SimpleWorker, Worker

    from service.store.abandoned import MAINTENANCE_INTERVAL_S, recovering_worker
    from service.store.database import migrate
    from service.store.runtime import Context, use_context

    ctx = Context.from_settings(settings)
    migrate(ctx.db.engine)
    use_context(ctx)
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    cls = recovering_worker(SimpleWorker if args.simple else Worker)  # jobs of a worker that died: at once
    while True:  # RQ's worker dies when Redis goes away under a running job: a new one once it is back
        conn = Redis.from_url(settings.redis_url)
        w = cls([Queue(settings.queue_name, connection=conn)], connection=conn,
                maintenance_interval=MAINTENANCE_INTERVAL_S)
        try:
            w.work(burst=args.burst, with_scheduler=args.with_scheduler)
            return 0
        except (RedisConnectionError, RedisTimeoutError) as exc:
            import sys

            sys.stderr.write(f"mediacheck worker: Redis 连接中断，等待其恢复 / lost Redis ({exc}); waiting for it\n")
            if not _wait_for_redis(conn, REDIS_WAIT_S):
                raise SystemExit(f"mediacheck worker: Redis {REDIS_WAIT_S:.0f} 秒内未恢复 / Redis did not come back "
                                 f"within {REDIS_WAIT_S:.0f} s") from None


REDIS_WAIT_S = 300.0
"""How long ``mediacheck worker`` waits for a Redis that went away (a restart) before it gives up."""


def _wait_for_redis(conn: Any, limit_s: float) -> bool:
    import time

    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            conn.ping()
            return True
        except Exception:  # noqa: BLE001 - not back yet
            time.sleep(1.0)
    return False


def cmd_migrate(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from service.store.database import Database, current_revision, migrate

    db = Database(settings.db_url)
    migrate(db.engine)
    out.write(f"database at revision {current_revision(db.engine)}\n")
    return 0


def _entry_patch(args: argparse.Namespace) -> dict[str, Any]:
    """The organiser options of ``campaign create`` as the JSON of ``PATCH /api/campaigns/{id}``."""
    import json
    from pathlib import Path

    patch: dict[str, Any] = {}
    if args.field:
        fields = []
        for spec in args.field:
            parts = spec.split(":")
            if len(parts) < 2:
                raise SystemExit(f"mediacheck: --field {spec!r}: KEY:中文[:English[:type[:required]]]")
            key, zh, en, kind = (parts + ["", ""])[:4]
            fields.append({"key": key, "label": {"zh-CN": zh, "en": en}, "type": kind or "text",
                           "required": "required" in parts[4:]})
        patch["fields"] = fields
    if args.limit:
        try:
            patch["limits"] = [{"field": f, "max_entries": int(n)} for f, n in (x.split("=", 1) for x in args.limit)]
        except ValueError:
            raise SystemExit("mediacheck: --limit FIELD=N, e.g. author=2") from None
    if args.file_name_pattern is not None:
        patch["file_name_pattern"] = args.file_name_pattern or None
    if args.json:
        patch |= {k: v for k, v in json.loads(Path(args.json).read_text(encoding="utf-8")).items() if k != "id"}
    return patch


def cmd_campaign(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from pathlib import Path

    from service.core.profiles import ProfileStore
    from service.store.database import Database, migrate
    from service.submissions.campaign_admin import parse_spec, save_campaign, save_pasted_profile
    from service.submissions.campaigns import CampaignBook, create_campaign

    db = Database(settings.db_url)
    migrate(db.engine)
    store = ProfileStore(*settings.profile_dirs)
    if args.action in ("close", "open"):
        if not args.campaign_id:
            raise SystemExit("mediacheck: give a campaign id")
        with db.session() as s:
            save_campaign(s, store, parse_spec({"closed": args.action == "close"}), campaign_id=args.campaign_id)
        out.write(f"campaign {args.campaign_id} {'closed' if args.action == 'close' else 'open'}\n")
        return 0
    if args.action == "create":
        if not args.campaign_id:
            raise SystemExit("mediacheck: give a campaign id")
        profiles = list(args.profile)
        if args.profile_yaml:
            text = Path(args.profile_yaml).read_text(encoding="utf-8")
            profiles.append(save_pasted_profile(store, settings.pasted_profiles_dir, text))
        deadline = datetime.fromisoformat(args.deadline) if args.deadline else None
        patch = _entry_patch(args)
        with db.session() as s:
            create_campaign(
                s,
                store,
                campaign_id=args.campaign_id,
                profiles=profiles or [args.campaign_id],
                title_zh=args.title_zh,
                title_en=args.title_en,
                deadline=deadline,
                autofix=args.autofix,
                deep=args.deep,
                max_upload_bytes=args.max_upload,
            )
            if patch:  # the entry details, limits and naming rule: the organisers' API's checks (or nothing saved)
                s.flush()
                save_campaign(s, store, parse_spec(patch), campaign_id=args.campaign_id,
                              pasted_dir=settings.pasted_profiles_dir)
        out.write(f"campaign {args.campaign_id} saved\n")
        return 0
    with db.session() as s:
        for c in CampaignBook(store, settings.upload_limit).all(s):
            out.write(
                f"{c.id:<32} {','.join(c.profiles):<48} {'closed' if c.is_closed() else 'open':<6} "
                f"{c.title['zh-CN']}\n"
            )
    return 0


def cmd_apikey(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from service.store.database import Database, aware, migrate
    from service.submissions.access import create_api_key, list_keys, revoke_key

    db = Database(settings.db_url)
    migrate(db.engine)
    if args.action == "list":
        with db.session() as s:
            for k in list_keys(s, args.campaign[0] if args.campaign else None):
                revoked = aware(k.revoked_at)
                state = f"revoked {revoked.isoformat(timespec='minutes')}" if revoked else "active"
                out.write(f"{k.id:<24} {k.role:<8} {','.join(k.campaigns):<32} {state:<30} {k.name}\n")
        return 0
    if args.action == "revoke":
        if not args.key_id:
            raise SystemExit("mediacheck: 请给出密钥编号 / give the key id (see: mediacheck apikey list)")
        with db.session() as s:
            row = revoke_key(s, args.key_id)
            if row is None:
                raise SystemExit(f"mediacheck: 没有该密钥 / no key {args.key_id!r}")
        out.write(f"key {args.key_id} revoked (its sign-in sessions end now)\n")
        return 0
    if not args.name:
        raise SystemExit("mediacheck: 请用 --name 给密钥命名 / give the key a --name")
    with db.session() as s:
        row, secret = create_api_key(s, name=args.name, role=args.role, campaigns=args.campaign)
    out.write(f"{secret}\n")
    out.write(
        f"# key id {row.id}, role {row.role}, campaigns {','.join(row.campaigns)}; "
        "shown once, stored hashed\n"
    )
    return 0


def cmd_cleanup(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from service.fix.transcode import sweep_job_dirs
    from service.store.database import Database, migrate
    from service.store.storage import Storage
    from service.submissions.upload import expire_abandoned

    db = Database(settings.db_url)
    migrate(db.engine)
    storage = Storage(settings.storage_dir)
    expired = expire_abandoned(db, storage, settings.tus_expiry_s)
    stray = storage.stray_temporaries(args.tmp_age)
    for p in stray:
        p.unlink(missing_ok=True)
    # a fix whose worker was killed, and that ended failed, leaves its partial output in a hidden
    # job folder beside where the fixed copy would have gone (derived/<submission>/)
    derived = storage.root / "derived"
    swept = sum(len(sweep_job_dirs(d, args.tmp_age)) for d in derived.iterdir() if d.is_dir()) \
        if derived.is_dir() else 0
    exports = storage.old_exports(settings.export_keep_s)
    for p in exports:
        p.unlink(missing_ok=True)
    out.write(f"expired resumable uploads: {expired}; stray temporary files removed: {len(stray)}; "
              f"abandoned fix folders removed: {swept}; background exports removed: {len(exports)}\n")
    return 0
