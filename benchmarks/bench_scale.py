"""Scale benchmark (issue 14): a campaign filled to 1,000 / 10,000 / 50,000 entries, on SQLite
and on PostgreSQL. Run: ``.venv/bin/python benchmarks/bench_scale.py [--sizes 1000,10000,50000]
[--db sqlite,postgresql] [--peer /path/to/old/checkout] [--json OUT]``.

1. Real entries first: the six scenes of the reviewer tests (tests/support/scenes.py) uploaded
   to a campaign with deep analysis through a live server and analysed by the real deep job,
   plus a reviewer key (tests/support/review_setup.py).
2. Cloned in the database in bulk (executemany, 2,000 rows a statement) up to each size: a new
   submission row per clone (Chinese name and entry details), its report (the source's JSON),
   a decision for one clone in five, and its summary row made by the same function the write
   paths use (``store.summaries.values``), the kept counts rebuilt from them (``summary_counts.recount``);
   then ANALYZE (SQLite) or VACUUM ANALYZE (PostgreSQL), as the service's statistics upkeep and
   autovacuum would have done while the entries arrived.
3. Measured through the live server over loopback (httpx, a signed-in reviewer):
   - dashboard first page, server time (median of 5), and each filter, sort, search, next page;
   - in headless Chromium: navigation start to the first row shown (median of 3), and a filter
     change until the new rows are in;
   - listing API page of 100;
   - export CSV and XLSX: time to the first byte, total, rows/s, RSS growth of the process
     (the server runs in it: peak VmHWM − VmRSS before, the peak reset first);
   - three reviewers opening dashboard pages while an XLSX export runs: each page's time,
     the process's peak RSS.
4. At 10,000: migration 0005's fill of the summary rows of entries already there, timed.
5. ``--peer DIR``: the same SQLite database (a copy, its migration stamp set back to 0004)
   served by the code in DIR (main before this change) for the dashboard and both exports, at
   sizes up to 10,000 (the old code needs minutes and gigabytes beyond).
6. ``--http-process``: instead of 3-5, the CSV export as a deployment serves it: ``mediacheck
   serve`` in its own process on the run's data directory and database, curl as the client
   (another process), 3 runs per size (benchmarks/scale_process.py); with ``--peer``, the old
   code served the same way on a SQLite copy, up to 10,000.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
from sqlalchemy import create_engine, delete, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import scale_process  # noqa: E402
from service.settings import DEFAULT_PROFILES_DIR, Settings  # noqa: E402
from service.store import sort_keys  # noqa: E402
from service.store.models import Campaign, Decision, EntrySortKey, ReportRow, Submission, SubmissionSummary  # noqa: E402
from service.store.summaries import values  # noqa: E402
from service.store.summary_counts import recount  # noqa: E402
from tests.support.review_setup import CAMPAIGN, populate  # noqa: E402
from tests.support.server import live_server  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
BATCH = 2000
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
SCHOOLS = ("第一中学", "实验小学", "科技馆", "师范大学附属中学", "少年宫")
FIELDS = [{"key": "作者", "label": {"zh-CN": "作者", "en": "Author"}},
          {"key": "单位", "label": {"zh-CN": "单位", "en": "School"}}]
"""The entry fields the campaign declares (the clones' details)."""
PEER_MAX = 10_000
MIGRATION_AT = int(os.environ.get("BENCH_MIGRATION_AT", "10000"))


def rss() -> tuple[int, int]:
    """(VmRSS, VmHWM) of this process in bytes."""
    got = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS", "VmHWM")):
            got[line.split(":")[0]] = int(line.split()[1]) * 1024
    return got["VmRSS"], got["VmHWM"]


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


def ms(t: float) -> float:
    return round(t * 1000, 1)


class Filler:
    """Clones the real entries of the campaign up to a number of entries."""

    def __init__(self, live: Any, key_id: str, key_name: str) -> None:
        self.db = live.services.db
        self.key_id, self.key_name = key_id, key_name
        with self.db.session() as s:
            # the campaign declares the entry details the clones carry: the dashboard shows them and
            # the export has a column for each, as in a campaign with entry fields (issue 13)
            s.get(Campaign, CAMPAIGN).fields = FIELDS
            subs = s.scalars(select(Submission).where(Submission.campaign_id == CAMPAIGN)).all()
            self.sources = []
            for sub in subs:
                rep = s.scalar(select(ReportRow).where(ReportRow.submission_id == sub.id, ReportRow.subject != "fixed")
                               .order_by(ReportRow.id.desc()).limit(1))
                self.sources.append((sub, rep))
            self.count = len(subs)
        self.rnd = random.Random(14)
        self.t0 = datetime(2026, 9, 1, tzinfo=UTC)

    def fill_to(self, n: int) -> float:
        start = time.perf_counter()
        engine = self.db.engine
        while self.count < n:
            k = min(BATCH, n - self.count)
            subs, reports, decisions, summaries, keys = [], [], [], [], []
            for _ in range(k):
                i = self.count
                self.count += 1
                src, rep = self.sources[i % len(self.sources)]
                sub_id = uuid.uuid4().hex
                name = f"{i:06d}-{self.rnd.choice(SURNAMES)}同学的作品-{src.file_name}"
                details = {"作者": self.rnd.choice(SURNAMES) + self.rnd.choice("明华强丽军芳"),
                           "单位": self.rnd.choice(SCHOOLS)}
                created = self.t0 + timedelta(seconds=i * 7)
                size = src.size_bytes + self.rnd.randrange(1000)
                sub = SimpleNamespace(id=sub_id, campaign_id=CAMPAIGN, profile_id=src.profile_id, file_name=name,
                                      content_type=src.content_type, size_bytes=size,
                                      sha256=src.sha256, storage_key=src.storage_key, receipt_hash=uuid.uuid4().hex,
                                      status="checked", verdict=src.verdict, details=details, created_at=created,
                                      checked_at=created)
                subs.append(dict(vars(sub)))
                reports.append({"submission_id": sub_id, "subject": rep.subject, "verdict": rep.verdict,
                                "report": rep.report, "created_at": created})
                trail = []
                if i % 5 == 0:
                    d = SimpleNamespace(id=1, submission_id=sub_id, key_id=self.key_id, kind="decision",
                                        decision=self.rnd.choice(["accept", "reject", "needs_fix"]), rule=None,
                                        reviewer=self.key_name, note="批量", created_at=created)
                    trail.append(d)
                    decisions.append({k2: v for k2, v in vars(d).items() if k2 != "id"})
                summaries.append(values(sub, rep.report, trail, thumbnail=True, fixed_verdict=None))
                keys += sort_keys.rows(sub_id, CAMPAIGN, details)  # refresh writes them with the summary row
            with engine.begin() as conn:
                conn.execute(insert(Submission), subs)
                conn.execute(insert(ReportRow), reports)
                if decisions:
                    conn.execute(insert(Decision), decisions)
                conn.execute(insert(SubmissionSummary), summaries)
                conn.execute(insert(EntrySortKey), keys)
        with engine.begin() as conn:  # the rows above bypassed store.summaries.refresh, which keeps the counts
            recount(conn, CAMPAIGN)
        # planner statistics and (PostgreSQL) the visibility map, as a live service has them after the
        # entries arrived over days: PostgreSQL's autovacuum (without it the counts read every row of the
        # table, 46 ms at 50k, instead of the counts index alone, 8 ms); SQLite's PRAGMA optimize as
        # connections go back to the pool (store/database.py)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
        return time.perf_counter() - start


def migration_fill(db: Any) -> dict[str, Any]:
    """Migration 0005's fill of the summary rows, timed on the entries there now (rows emptied first)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "m0005", ROOT / "service" / "store" / "migrations" / "versions" / "0005_scale.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with db.engine.begin() as conn:
        conn.execute(delete(SubmissionSummary))
    t = time.perf_counter()
    with db.engine.begin() as conn:
        n = module.fill(conn, SubmissionSummary.__table__)
    took = time.perf_counter() - t
    with db.engine.begin() as conn:  # the counts of the rows just written (the same values as before)
        recount(conn)
    return {"entries": n, "s": round(took, 1), "per_s": round(n / took)}


def timed(c: httpx.Client, url: str, n: int = 5, **kw: Any) -> tuple[float, httpx.Response]:
    times = []
    r = None
    for _ in range(n):
        t = time.perf_counter()
        r = c.get(url, **kw)
        times.append(time.perf_counter() - t)
        assert r.status_code == 200, (url, r.status_code, r.text[:300])
    return statistics.median(times), r  # type: ignore[return-value]


def dashboard(c: httpx.Client, key: str) -> dict[str, Any]:
    base = f"/review/c/{CAMPAIGN}"
    first, r = timed(c, base)
    out: dict[str, Any] = {"first_page_ms": ms(first), "html_bytes": len(r.content),
                           "rows": r.text.count("<tr data-id=")}
    cases = {"filter_verdict_fail": "?verdict=fail", "filter_warning_any": "?warning=any",
             "filter_decision_none": "?decision=none", "sort_size_desc": "?sort=size&dir=desc",
             "sort_name": "?sort=name", "sort_verdict": "?sort=verdict", "search_name_zh": "?q=王同学",
             "search_detail_zh": "?q=师范大学", "search_rare": "?q=000123-", "sort_detail": "?sort=detail:作者"}
    for name, q in cases.items():
        t, _ = timed(c, base + q, 3)
        out[name + "_ms"] = ms(t)
    nxt = r.text.split('id="next-page" rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    t, _ = timed(c, nxt, 3)
    out["next_page_ms"] = ms(t)
    t, _ = timed(c, f"/api/campaigns/{CAMPAIGN}/submissions?limit=100", 3, headers={"Authorization": f"Bearer {key}"})
    out["api_page_100_ms"] = ms(t)
    return out


def export(c: httpx.Client, fmt: str) -> dict[str, Any]:
    before, _ = rss()
    reset_peak()
    t = time.perf_counter()
    first = None
    size = 0
    with c.stream("GET", f"/api/campaigns/{CAMPAIGN}/export.{fmt}") as r:
        assert r.status_code == 200
        for chunk in r.iter_raw():
            if first is None:
                first = time.perf_counter() - t
            size += len(chunk)
    total = time.perf_counter() - t
    _, peak = rss()
    return {"first_byte_ms": ms(first or total), "total_s": round(total, 2), "bytes": size,
            "rss_growth_mb": round((peak - before) / 2**20, 1)}


def concurrent(url: str, cookies: httpx.Cookies) -> dict[str, Any]:
    reset_peak()
    times: list[float] = []

    def reviewer(q: str) -> None:
        with httpx.Client(base_url=url, cookies=cookies, timeout=600) as c:
            for extra in ("", "?sort=size&dir=desc", "?verdict=fail", "?q=中学"):
                t = time.perf_counter()
                assert c.get(f"/review/c/{CAMPAIGN}{extra}{'&' if extra else '?'}{q}").status_code == 200
                times.append(time.perf_counter() - t)

    def exporter() -> None:
        with httpx.Client(base_url=url, cookies=cookies, timeout=600) as c, \
                c.stream("GET", f"/api/campaigns/{CAMPAIGN}/export.xlsx") as r:
            for _ in r.iter_raw():
                pass

    threads = [threading.Thread(target=exporter)] + [threading.Thread(target=reviewer, args=(f"r={i}",))
                                                     for i in range(3)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    _, peak = rss()
    return {"page_max_ms": ms(max(times)), "page_median_ms": ms(statistics.median(times)),
            "process_peak_mb": round(peak / 2**20, 1)}


def chromium(url: str, cookies: httpx.Cookies) -> dict[str, Any] | None:
    try:
        from playwright.sync_api import sync_playwright

        from tests.support.browser import ARGS, CHROMIUM
    except ImportError:
        return None
    host = url.split("//")[1].split(":")[0]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        ctx = browser.new_context()
        ctx.add_cookies([{"name": k, "value": v, "domain": host, "path": "/"} for k, v in cookies.items()])
        page = ctx.new_page()
        loads = []
        for _ in range(3):
            t = time.perf_counter()
            page.goto(f"{url}/review/c/{CAMPAIGN}", wait_until="domcontentloaded")
            page.wait_for_selector("#entries tbody tr")
            loads.append(time.perf_counter() - t)
        t = time.perf_counter()
        page.select_option("#f-verdict", "fail")
        page.wait_for_function("!document.body.dataset.loading")
        change = time.perf_counter() - t
        dom = page.evaluate("document.getElementsByTagName('*').length")
        browser.close()
    return {"usable_ms": ms(statistics.median(loads)), "filter_change_ms": ms(change), "dom_nodes": dom}


PEER_SCRIPT = r"""
import json, sys, time, httpx
from pathlib import Path
from service.settings import Settings
from tests.support.server import live_server
data, db_url, campaign, key = sys.argv[1:5]
out = {}
with live_server(Settings(data_dir=Path(data), database_url=db_url, profiles_dir=Path(sys.argv[5]),
                          check_wait_s=30.0)) as live:
    with httpx.Client(base_url=live.url, timeout=900) as c:
        r = c.post("/review/login", data={"key": key, "next": "/review/"})
        for name, url in (("dashboard", f"/review/c/{campaign}"), ("csv", f"/api/campaigns/{campaign}/export.csv"),
                          ("xlsx", f"/api/campaigns/{campaign}/export.xlsx")):
            t = time.perf_counter()
            with c.stream("GET", url) as resp:
                first = None
                for chunk in resp.iter_raw():
                    if first is None:
                        first = time.perf_counter() - t
            out[name] = {"first_byte_ms": round(first * 1000, 1), "total_s": round(time.perf_counter() - t, 2)}
print(json.dumps(out))
"""


def peer(peer_dir: Path, data: Path, db_file: Path, key: str, profiles: Path) -> dict[str, Any]:
    """The old code on a copy of the SQLite database."""
    copy_dir = Path(tempfile.mkdtemp(prefix="peer-", dir=data.parent))
    db_copy = scale_process.peer_db(db_file, copy_dir)
    env = os.environ | {"PYTHONPATH": str(peer_dir)}
    r = subprocess.run([sys.executable, "-c", PEER_SCRIPT, str(copy_dir), f"sqlite:///{db_copy}", CAMPAIGN, key,
                        str(profiles)], cwd=peer_dir, env=env, capture_output=True, text=True, timeout=3600)
    shutil.rmtree(copy_dir, ignore_errors=True)
    if r.returncode != 0:
        return {"error": r.stderr[-1500:]}
    return json.loads(r.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run(backend: str, sizes: list[int], peer_dir: Path | None, http_process: bool = False) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-scale-{backend}-"))
    profiles = tmp / "profiles"
    shutil.copytree(DEFAULT_PROFILES_DIR, profiles)
    for p in (ROOT / "tests" / "profiles").glob("*.yaml"):
        shutil.copy(p, profiles / p.name)
    db_url, pg_name = "", None
    if backend == "postgresql":
        pg_name = f"mediacheck_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{pg_name}"'))
        db_url = PG_ADMIN.rsplit("/", 1)[0] + f"/{pg_name}"
    settings = Settings(data_dir=tmp / "data", profiles_dir=profiles, database_url=db_url, check_wait_s=30.0)
    results: dict[str, Any] = {}
    try:
        with live_server(settings) as live:
            review = populate(live)
            with live.services.db.session() as s:
                from service.store.models import ApiKey

                key = s.scalars(select(ApiKey).where(ApiKey.name == "评审甲")).one()
                filler = Filler(live, key.id, key.name)
            c = httpx.Client(base_url=live.url, timeout=900)
            assert c.post("/review/login", data={"key": review.key, "next": "/review/"}).status_code in (200, 303)
            for n in sizes:
                fill_s = filler.fill_to(n)
                print(f"[{backend}] {n} entries (filled in {fill_s:.1f} s)", flush=True)
                res: dict[str, Any] = {"fill_s": round(fill_s, 1)}
                if http_process:
                    res["http_process"] = scale_process.measure(settings, CAMPAIGN, review.key, n, ROOT)
                    if peer_dir is not None and backend == "sqlite" and n <= PEER_MAX:
                        db_file = Path(live.services.db.engine.url.database or "")
                        res["peer_http_process"] = scale_process.measure_peer(peer_dir, settings, db_file, CAMPAIGN,
                                                                              review.key, n)
                    results[str(n)] = res
                    print(json.dumps(res, ensure_ascii=False), flush=True)
                    continue
                res["dashboard"] = dashboard(c, review.key)
                res["chromium"] = chromium(live.url, c.cookies)
                res["export_csv"] = export(c, "csv")
                res["export_xlsx"] = export(c, "xlsx")
                rows = n
                for fmt in ("csv", "xlsx"):
                    e = res[f"export_{fmt}"]
                    e["rows_per_s"] = round(rows / e["total_s"])
                res["three_reviewers_and_an_export"] = concurrent(live.url, c.cookies)
                if n == MIGRATION_AT:
                    res["migration_fill"] = migration_fill(live.services.db)
                if peer_dir is not None and backend == "sqlite" and n <= PEER_MAX:
                    db_file = Path(live.services.db.engine.url.database or "")
                    res["peer"] = peer(peer_dir, settings.data_dir, db_file, review.key, profiles)
                results[str(n)] = res
                print(json.dumps(res, ensure_ascii=False), flush=True)
            c.close()
    finally:
        if pg_name:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{pg_name}" WITH (FORCE)'))
            admin.dispose()
        shutil.rmtree(tmp, ignore_errors=True)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000,50000")
    ap.add_argument("--db", default="sqlite,postgresql")
    ap.add_argument("--peer", type=Path, help="a checkout of the code before the change (its dashboard and export)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--http-process", action="store_true",
                    help="only the CSV export, served by `mediacheck serve` in its own process, fetched by curl")
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    out = {backend: run(backend, sizes, args.peer, args.http_process) for backend in args.db.split(",")}
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
