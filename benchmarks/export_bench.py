"""Certification exports at size: the app's CSV and XLSX writers (app/services/exports.py,
streamed) against plain `csv.writer` over one SQL query, on SQLite and PostgreSQL.

The rows are generated with bulk inserts (users in cohorts, one marked attempt and one
result each), first 10,000 then up to 100,000, and every variant is exported at both
sizes, so "flat memory" is a comparison, not a claim. Each export runs in its own child
process: time is the export alone (from the first query to the last byte written to a
file), memory is that process's peak resident set (getrusage ru_maxrss) minus its resident
set just before the export started (after imports and app start-up; the peak is reset
there through /proc/self/clear_refs, so start-up's own peak does not count).

Usage: python benchmarks/export_bench.py [--rows 10000,100000] [--repeat 3] [--db sqlite,postgres]
                                         [--results PATH] [--no-write] [--ttfb]
Writes the section between <!-- export:start --> and <!-- export:end --> of RESULTS.md;
with --ttfb, the HR request's time to first byte, streamed against prepared as a job
(<!-- export-ttfb:start --> … <!-- export-ttfb:end -->).
"""
from __future__ import annotations

import argparse
import csv
import gc
import json
import random
import re
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import (PYTHON, RESULTS, command_line, fresh_database, machine_line,  # noqa: E402
                               now_utc, write_section)

VARIANTS = ("baseline", "csv", "xlsx")
# The baseline: the same columns and order as the app's results query, written by hand.
BASELINE_SQL = """
SELECT r.id, u.username, u.display_name,
       (SELECT min(c.name) FROM cohort_members m JOIN cohorts c ON c.id = m.cohort_id WHERE m.user_id = u.id),
       r.track_id, r.grade, r.total,
       a.exam_score, a.drill_score, a.case_score, r.awarded_at, r.attempt_id
FROM certification_results r
JOIN users u ON r.user_id = u.id
JOIN certification_attempts a ON r.attempt_id = a.id
ORDER BY r.awarded_at DESC, r.id DESC
"""
NOTE = ("XLSX time is openpyxl's write-only mode: every cell goes through its XML writer (a profile of the\n"
        "export puts most of its time there; lxml, now a dependency, makes it ~1.4× faster than openpyxl's\n"
        "pure-Python fallback). Its memory is a fixed cost (openpyxl and lxml loaded on first use), the same\n"
        "at every size. All three stream: memory does not follow the row count.")
HEADER = ("result_id", "username", "name", "cohort", "track", "grade", "total", "exam", "drills", "cases",
          "awarded_at", "attempt_id")


def _app(url: str):
    from app import create_app
    from config import DevelopmentConfig

    config = type("ExportBench", (DevelopmentConfig,), {
        "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secrets.token_hex(16), "LOAD_CONTENT_ON_START": False})
    return create_app(config)


# --- data ---------------------------------------------------------------------------------------

def grow(url: str, total: int, batch: int = 5000) -> int:
    """Add users, marked attempts and results until the database holds `total` results."""
    from flask_migrate import upgrade
    from sqlalchemy import func, insert, select

    from app.extensions import db
    from app.models import CertificationAttempt, CertificationResult, Cohort, User, cohort_members

    app = _app(url)
    with app.app_context():
        upgrade()
        have = db.session.scalar(select(func.count()).select_from(CertificationResult))
        if not db.session.scalar(select(func.count()).select_from(Cohort)):
            db.session.execute(insert(Cohort), [{"name": f"班组 {i:02d} Cohort {i}"} for i in range(20)])
        cohorts = list(db.session.scalars(select(Cohort.id)))
        rnd = random.Random(total)
        start = datetime(2026, 1, 1, tzinfo=timezone.utc)
        grades = [("excellent", 185.0), ("good", 165.0), ("pass", 140.0), ("retake", 95.0)]
        for lo in range(have, total, batch):
            n = min(batch, total - lo)
            users = [{"username": f"agent{lo + i:06d}", "display_name": f"坐席{lo + i:06d} Agent {lo + i}",
                      "password_hash": "x", "role": "trainee"} for i in range(n)]
            user_ids = list(db.session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), users))
            db.session.execute(insert(cohort_members), [
                {"user_id": uid, "cohort_id": cohorts[(lo + i) % len(cohorts)]} for i, uid in enumerate(user_ids)])
            when = [start + timedelta(minutes=rnd.randrange(0, 300 * 24 * 60)) for _ in range(n)]
            picks = [grades[rnd.randrange(4)] for _ in range(n)]
            attempts = [{"user_id": uid, "track_id": "frontline", "status": "marked", "exam_score": g[1] * 0.3,
                         "drill_score": g[1] * 0.5, "case_score": g[1] * 0.2, "total": g[1], "grade": g[0],
                         "details": {}, "started_at": w - timedelta(hours=2), "finished_at": w}
                        for uid, w, g in zip(user_ids, when, picks)]
            attempt_ids = list(db.session.scalars(
                insert(CertificationAttempt).returning(CertificationAttempt.id, sort_by_parameter_order=True),
                attempts))
            db.session.execute(insert(CertificationResult), [
                {"user_id": uid, "attempt_id": aid, "track_id": "frontline", "grade": g[0], "total": g[1],
                 "awarded_at": w} for uid, aid, w, g in zip(user_ids, attempt_ids, when, picks)])
            db.session.commit()
        count = db.session.scalar(select(func.count()).select_from(CertificationResult))
        db.session.remove()
        db.engine.dispose()
    return count


# --- one export, in a child process ----------------------------------------------------------------

def _status_kb(field: str) -> int:
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def _reset_peak() -> bool:
    """Reset this process's peak RSS (VmHWM) to its current RSS (Linux >= 4.0), so the peak
    read after the export is the export's own, not start-up's."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def child(variant: str, url: str, out: Path) -> dict:
    from sqlalchemy import text

    from app.extensions import db
    from app.services import exports

    app = _app(url)
    with app.app_context():
        db.session.execute(text("SELECT 1"))  # connect before the clock starts, as a warm server would be
        gc.collect()
        reset = _reset_peak()
        before = _status_kb("VmRSS")
        t0 = time.perf_counter()
        if variant == "baseline":
            with db.engine.connect() as conn, open(out, "w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(HEADER)
                for row in conn.execution_options(stream_results=True, yield_per=1000).exec_driver_sql(BASELINE_SQL):
                    writer.writerow(row)
        else:
            with open(out, "wb") as fh:
                for chunk in exports.writer(variant).write(exports.ResultFilter(), exports.words("zh-CN")):
                    fh.write(chunk)
        seconds = time.perf_counter() - t0
    # Without the reset (not Linux), the lifetime peak: an upper bound that includes start-up.
    peak = _status_kb("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "rss_before_kb": before, "peak_kb": peak, "growth_kb": max(0, peak - before),
            "bytes": out.stat().st_size, "peak_reset": reset}


def rows_in(path: Path, variant: str) -> int:
    """Data rows of an export file, read back (the header excluded)."""
    if variant == "xlsx":
        with zipfile.ZipFile(path) as zf:
            sheet = next(n for n in zf.namelist() if n.startswith("xl/worksheets/sheet"))
            with zf.open(sheet) as fh:
                # The carried 4 bytes are too short to hold a whole match: nothing counts twice.
                count, carry = 0, b""
                while chunk := fh.read(1 << 20):
                    data = carry + chunk
                    count += len(re.findall(rb"<row[ >]", data))
                    carry = data[-4:]
        return count - 1
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


def run_child(variant: str, url: str, out: Path) -> dict:
    proc = subprocess.run([PYTHON, __file__, "--child", variant, "--url", url, "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"{variant} export failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(url: str, rows: int, repeat: int, tmp: Path) -> dict:
    results = {}
    for variant in VARIANTS:
        runs = []
        for i in range(repeat):
            out = tmp / f"{variant}-{rows}-{i}.{'xlsx' if variant == 'xlsx' else 'csv'}"
            runs.append(run_child(variant, url, out))
            if i == 0:
                got = rows_in(out, variant)
                if got != rows:
                    raise RuntimeError(f"{variant} export holds {got} rows, expected {rows}")
            out.unlink()
        results[variant] = {"seconds": statistics.median(r["seconds"] for r in runs),
                            "growth_kb": statistics.median(r["growth_kb"] for r in runs),
                            "peak_kb": statistics.median(r["peak_kb"] for r in runs),
                            "bytes": runs[0]["bytes"], "peak_reset": all(r["peak_reset"] for r in runs)}
        print(f"  {rows:>7} rows {variant:<8} {results[variant]['seconds']:.2f} s  "
              f"+{results[variant]['growth_kb'] / 1024:.1f} MiB  {results[variant]['bytes'] / 1e6:.1f} MB", flush=True)
    return results


def render(all_results: dict, sizes: list[int], repeat: int, command: str, machine: str, date: str) -> str:
    lines = [
        "## Exports (`benchmarks/export_bench.py`)",
        "",
        f"- Command: `{command}`",
        f"- Date: {date}",
        f"- Machine: {machine}",
        "- Data: generated certification results (users in 20 cohorts, one marked attempt and one result",
        "  each), exported unfiltered, newest first. Every variant runs in its own child process; the",
        f"  median of {repeat} runs. Time: the export alone, to a file. Memory: the process's peak RSS during",
        "  the export (VmHWM, reset just before it via /proc/self/clear_refs) minus its RSS at that moment",
        "  (after imports, app start-up and connecting); whole-process RSS, so C allocations count (not tracemalloc).",
        "- Baseline: `csv.writer` over one hand-written SQL query (same joins, columns and order),",
        "  streamed with a server-side cursor (`stream_results`), no formatting of cells.",
        "- App: `exports.writer('csv'|'xlsx').write(ResultFilter())`, as the HR route streams it.",
        "",
    ]
    if not all(r["peak_reset"] for by_size in all_results.values() for res in by_size.values() for r in res.values()):
        lines += ["(The peak could not be reset here: memory growth includes start-up's own peak.)", ""]
    for db_kind, by_size in all_results.items():
        lines += [f"### {'PostgreSQL' if db_kind == 'postgres' else 'SQLite'}", "",
                  "| rows | variant | time | time ratio | memory growth | output |",
                  "|---:|---|---:|---:|---:|---:|"]
        for rows in sizes:
            res = by_size[rows]
            base = res["baseline"]
            for variant in VARIANTS:
                r = res[variant]
                lines.append(f"| {rows:,} | {variant} | {r['seconds']:.3f} s | {r['seconds'] / base['seconds']:.2f} "
                             f"| {r['growth_kb'] / 1024:.1f} MiB | {r['bytes'] / 1e6:.2f} MB |")
        lines.append("")
        small, big = by_size[sizes[0]], by_size[sizes[-1]]
        if len(sizes) > 1:
            # Flat memory means the growth does not follow the row count; a ratio to the
            # baseline's growth (a fraction of a MiB) would only magnify noise.
            growth = ", ".join(
                f"{v} {small[v]['growth_kb'] / 1024:.1f} → {big[v]['growth_kb'] / 1024:.1f} MiB" for v in VARIANTS)
            lines += [f"From {sizes[0]:,} to {sizes[-1]:,} rows ({sizes[-1] // sizes[0]}× the rows), memory growth: "
                      f"{growth}.", ""]
    lines.append(NOTE)
    return "\n".join(lines)


# --- time to first byte: the streamed request against the prepared export's request ---------------

def ttfb(url: str, rows: int, repeat: int) -> dict:
    """For CSV and XLSX at `rows` rows, through the HR routes (Flask test client, an HR user
    logged in): the streamed export's time to its first byte (GET /hr/export/<fmt>, the
    threshold lifted), the prepare request's whole time (POST /hr/exports with a broker: it
    counts, stores the job and queues it), and the worker's time to write the file."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Job
    from app.services import export_jobs
    from app.services.accounts import create_user

    app = _app(url)
    app.config.update(WTF_CSRF_ENABLED=False, EXPORT_STREAM_MAX_ROWS=10**9, CELERY_ALWAYS_EAGER=False,
                      EXPORT_DIR=tempfile.mkdtemp(prefix="hc-export-jobs-"))
    celery = app.extensions["celery"]
    celery.conf.task_always_eager = False
    celery.conf.broker_url = "memory://"
    out = {}
    with app.app_context():
        # A random password: no literal credential in tracked files (tests/security/test_no_secrets.py).
        login = secrets.token_urlsafe(12)
        hr = create_user(f"hr-bench-{secrets.token_hex(3)}", login, "hr")
        db.session.commit()
        client = app.test_client()
        assert client.post("/login", data={"username": hr.username, "password": login}).status_code == 302
        for fmt in ("csv", "xlsx"):
            streamed, queued, written = [], [], []
            for _ in range(repeat):
                t0 = time.perf_counter()
                response = client.get(f"/hr/export/{fmt}", buffered=False)
                chunks = iter(response.response)
                next(chunks)
                streamed.append(time.perf_counter() - t0)
                for _chunk in chunks:  # the rest of the file, as a browser would read it
                    pass
                response.close()
                t0 = time.perf_counter()
                r = client.post("/hr/exports", data={"format": fmt})
                queued.append(time.perf_counter() - t0)
                assert r.status_code == 302, r.status_code
                job_id = int(r.headers["Location"].rsplit("/", 1)[1])
                t0 = time.perf_counter()
                export_jobs.run_export(job_id)  # what the worker does, here in this process
                written.append(time.perf_counter() - t0)
                job = db.session.scalar(select(Job).where(Job.id == job_id))
                assert job.status == "done" and job.done == rows, (job.status, job.done, job.error)
            out[fmt] = {"streamed": statistics.median(streamed), "queued": statistics.median(queued),
                        "written": statistics.median(written)}
            print(f"  {fmt}: first byte streamed {out[fmt]['streamed']:.3f} s, prepare request "
                  f"{out[fmt]['queued']:.3f} s, file written by the job in {out[fmt]['written']:.2f} s", flush=True)
        db.session.remove()
        db.engine.dispose()
    return out


def render_ttfb(results: dict, rows: int, repeat: int, command: str, machine: str, date: str) -> str:
    lines = [
        "## Large exports as a job: the request's time to first byte (`benchmarks/export_bench.py --ttfb`)",
        "",
        f"- Command: `{command}`",
        f"- Date: {date}",
        f"- Machine: {machine}",
        f"- Data: {rows:,} generated certification results (as above), exported unfiltered; median of {repeat}.",
        "- Before (baseline): `GET /hr/export/<fmt>` streamed in the request, time to its first byte (Flask",
        "  test client, an HR user logged in; EXPORT_STREAM_MAX_ROWS lifted so it streams).",
        "- After: `POST /hr/exports` (prepare the export) with a broker: the whole request, which counts",
        "  the rows, stores and audits the job and queues it. The file is then written by the job",
        "  (`export_jobs.run_export`, run here in the same process as a worker would) while HR's page",
        "  refreshes itself.",
        "",
        "| format | streamed: first byte | prepare request | ratio (before / after) | file written by the job |",
        "|---|---:|---:|---:|---:|",
    ]
    for fmt, r in results.items():
        lines.append(f"| {fmt} | {r['streamed']:.3f} s | {r['queued']:.3f} s | {r['streamed'] / r['queued']:.1f} "
                     f"| {r['written']:.2f} s |")
    lines += ["", "XLSX cannot send a byte before its whole file is written (a zip), so its streamed request waits",
              "for the whole export; CSV starts sending after its first chunk. Over EXPORT_STREAM_MAX_ROWS",
              "(2,000 by default) the streamed route now sends HR to prepare the export instead."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="10000,100000", help="comma-separated sizes, increasing")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--ttfb", action="store_true",
                        help="measure the request's time to first byte, streamed vs prepared as a job "
                             "(SQLite, the largest --rows; section export-ttfb)")
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.url, args.out)))
        return 0
    sizes = sorted(int(s) for s in args.rows.split(","))
    machine, date = machine_line(), now_utc()
    if args.ttfb:
        with fresh_database("sqlite") as url:
            have = grow(url, sizes[-1])
            section = render_ttfb(ttfb(url, have, args.repeat), have, args.repeat,
                                  command_line("export_bench.py", argv), machine, date)
        print(section)
        if not args.no_write:
            write_section("export-ttfb", section, args.results)
            print(f"wrote {args.results}")
        return 0
    all_results: dict = {}
    with tempfile.TemporaryDirectory(prefix="hc-export-") as tmp:
        for db_kind in args.db.split(","):
            with fresh_database(db_kind) as url:
                all_results[db_kind] = {}
                for rows in sizes:
                    t0 = time.perf_counter()
                    have = grow(url, rows)
                    print(f"{db_kind}: {have:,} results ({time.perf_counter() - t0:.1f} s to generate)", flush=True)
                    all_results[db_kind][rows] = measure(url, rows, args.repeat, Path(tmp))
    section = render(all_results, sizes, args.repeat, command_line("export_bench.py", argv), machine, date)
    print(section)
    if not args.no_write:
        write_section("export", section, args.results)
        print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
