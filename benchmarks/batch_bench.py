"""Batch scoring of uploaded transcripts: two Celery workers against a plain loop in one
process, and a worker killed with SIGKILL in the middle of a batch.

The same N transcript files (copies of tests/data/transcripts/*.json, each stored as its
own call) are imported and scored three times, each on a fresh database:

  loop    one process calls `scoring.import_transcript` on each file in turn (parse, store,
          score, commit): what the upload request did before jobs;
  celery  `jobs.start_import_batch` stores the files with a job and queues one task per
          file on a throwaway Redis; two `celery worker` processes (one pool process
          each) score them. Timed from the call to the job's last item, so storing the
          files and queueing the tasks count;
  kill    as celery, but one worker is killed with SIGKILL (its whole process group)
          when the batch is KILL_AT done, and a new worker started in its place. Checked
          afterwards: every file has one item finished once, one drill, one score and
          one import record; nothing more, nothing missing.

Workers are started and warmed (their act models loaded) before the clock starts, and the
loop's process is warmed the same way. Throughput is files per second; the ratio is the
loop's time over the workers' time.

Usage: python benchmarks/batch_bench.py [--n 10000] [--db postgres|sqlite] [--workers 2]
                                        [--skip-kill] [--results PATH] [--no-write]
Writes the section between <!-- batch:start --> and <!-- batch:end --> of RESULTS.md.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import (PYTHON, RESULTS, bench_env, command_line, fresh_database, free_port,  # noqa: E402
                               machine_line, now_utc, write_section)

SOURCES = sorted((ROOT / "tests" / "data" / "transcripts").glob("*.json"))
KILL_AT = 0.4
AGENT = "batch-bench"


def transcripts(n: int) -> list[tuple[str, bytes]]:
    sources = [(p.stem, p.read_bytes()) for p in SOURCES if p.name != "manifest.json"]
    return [(f"{i:05d}-{sources[i % len(sources)][0]}.json", sources[i % len(sources)][1]) for i in range(n)]


def _app(url: str, **extra):
    import secrets

    from app import create_app
    from config import DevelopmentConfig

    attrs = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": secrets.token_hex(16), "LOAD_CONTENT_ON_START": False,
             "DEMO_ACCOUNTS": False, "CELERY_ALWAYS_EAGER": True, "CELERY_BROKER_URL": None, **extra}
    return create_app(type("BatchBench", (DevelopmentConfig,), attrs))


def _migrate_and_trainer(app):
    from flask_migrate import upgrade

    from app.extensions import db
    from app.services.accounts import create_user

    upgrade()
    user = create_user("bench-trainer", "bench-password-1", "trainer")
    db.session.commit()
    return user


# --- the plain loop ---------------------------------------------------------------------

def run_loop(url: str, files: list[tuple[str, bytes]]) -> dict:
    from app.extensions import db
    from app.services import scoring
    from app.services.warmup import warm_up

    app = _app(url)
    warm_up(app)
    with app.app_context():
        trainer = _migrate_and_trainer(app)
        ok = failed = 0
        refusals: set[str] = set()
        start = time.perf_counter()
        for name, raw in files:
            try:
                scoring.import_transcript(raw, name, trainer, external_agent=AGENT)
                ok += 1
            except Exception as exc:  # noqa: BLE001 - counted, as the batch counts its failures
                failed += 1
                refusals.add(str(exc).splitlines()[0][:200])
        seconds = time.perf_counter() - start
        db.session.remove()
        db.engine.dispose()
    return {"seconds": seconds, "ok": ok, "failed": failed, "refusals": sorted(refusals)[:5]}


# --- Redis and the workers --------------------------------------------------------------

class Redis:
    def __init__(self, workdir: Path):
        server = shutil.which("redis-server")
        if server is None:
            raise SystemExit("redis-server is not installed (apt-get install redis-server)")
        self.port = free_port()
        self.proc = subprocess.Popen([server, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                                      "--appendonly", "no", "--dir", str(workdir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def start_worker(env: dict, log: Path, name: str) -> subprocess.Popen:
    out = open(log, "wb")
    proc = subprocess.Popen([PYTHON, "-m", "celery", "-A", "make_celery", "worker", "--loglevel=INFO",
                             "--concurrency=1", "--pool=prefork", "-n", f"{name}@%h", "--without-gossip",
                             "--without-mingle", "--without-heartbeat"],
                            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 300
    while b" ready." not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"worker {name} did not start; see {log}")
        time.sleep(0.2)
    return proc


def kill9(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def _progress(job_id: int):
    from app.extensions import db
    from app.models import Job

    db.session.rollback()
    job = db.session.get(Job, job_id)
    db.session.refresh(job)
    return job


def run_celery(url: str, files: list[tuple[str, bytes]], workers: int, workdir: Path, kill: bool) -> dict:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import AuditEvent, Drill, JobItem, Score
    from app.services import jobs

    redis = Redis(workdir)
    procs: list[subprocess.Popen] = []
    try:
        app = _app(url, CELERY_ALWAYS_EAGER=False, CELERY_BROKER_URL=redis.url)
        with app.app_context():
            trainer = _migrate_and_trainer(app)
            env = bench_env(url, workdir, CELERY_BROKER_URL=redis.url, CELERY_VISIBILITY_TIMEOUT="10",
                            DEMO_ACCOUNTS="0", LOAD_CONTENT_ON_START="0")
            procs = [start_worker(env, workdir / f"worker-{i}.log", f"w{i}") for i in range(workers)]
            start = time.perf_counter()
            job_id = jobs.start_import_batch(files, trainer, external_agent=AGENT).id
            queued = time.perf_counter() - start
            killed_at = None
            while True:
                job = _progress(job_id)
                finished = job.done + job.failed
                if kill and killed_at is None and finished >= KILL_AT * len(files):
                    kill9(procs[0])
                    killed_at = finished
                    procs[0] = start_worker(env, workdir / "worker-replacement.log", "replacement")
                if finished >= len(files):
                    break
                time.sleep(0.5)
            seconds = time.perf_counter() - start
            items = db.session.scalars(select(JobItem).where(JobItem.job_id == job_id)).all()
            drill_ids = [i.drill_id for i in items if i.status == "done"]
            count = lambda model, *w: db.session.scalar(select(func.count()).select_from(model).where(*w))  # noqa: E731
            check = {"items": len(items), "finished": sum(i.status in ("done", "failed") for i in items),
                     "done": job.done, "failed": job.failed, "distinct_drills": len(set(drill_ids)),
                     "drills": count(Drill), "scores": count(Score),
                     "imports": count(AuditEvent, AuditEvent.action == "transcript_imported"),
                     "refusals": sorted({f["reason"] for i in items if i.status == "failed"
                                         for f in (i.result or {}).get("faults", [])})[:5]}
            check["exactly_once"] = (check["finished"] == len(files) == check["items"]
                                     and check["done"] == check["distinct_drills"] == check["drills"]
                                     == check["scores"] == check["imports"])
            db.session.remove()
            db.engine.dispose()
        return {"seconds": seconds, "queued": queued, "ok": job.done, "failed": job.failed,
                "killed_at": killed_at, "check": check}
    finally:
        for proc in procs:
            if proc.poll() is None:
                kill9(proc)
        redis.stop()


# --- report -----------------------------------------------------------------------------

def report(args, loop: dict, celery: dict, kill: dict | None, machine: str, started: str) -> str:
    n = args.n
    lines = [
        f"## Batch scoring on Celery (`benchmarks/batch_bench.py`)", "",
        f"Measured {started} on {args.db}; {machine}.",
        f"Command: `{command_line('batch_bench.py', args.argv)}` (Redis {args.redis_version}).", "",
        f"{n:,} transcript files (copies of the {len(SOURCES) - 1} files in tests/data/transcripts), each imported as "
        "a call and scored, on a fresh database per run.", "",
        "| run | files | scored | refused | seconds | files/s |",
        "|---|---|---|---|---|---|",
        f"| plain loop, one process | {n} | {loop['ok']} | {loop['failed']} | {loop['seconds']:.1f} | "
        f"{n / loop['seconds']:.1f} |",
        f"| Celery, {args.workers} workers | {n} | {celery['ok']} | {celery['failed']} | {celery['seconds']:.1f} | "
        f"{n / celery['seconds']:.1f} |",
        "",
        f"Ratio (loop time / workers' time): **{loop['seconds'] / celery['seconds']:.2f}×**. Storing the files with "
        f"the job and queueing {n:,} tasks took {celery['queued']:.1f} s of the workers' time.",
    ]
    if kill is not None:
        c = kill["check"]
        lines += [
            "",
            f"SIGKILL run: worker w0 (and its pool process) killed with SIGKILL when {kill['killed_at']:,} of {n:,} "
            f"files were finished, a new worker started in its place; the batch ended in {kill['seconds']:.1f} s.",
            f"Afterwards: {c['finished']:,} of {c['items']:,} items finished, {c['done']:,} scored and "
            f"{c['failed']:,} refused; {c['drills']:,} drills, {c['scores']:,} scores, {c['imports']:,} import "
            f"records, {c['distinct_drills']:,} distinct drills on the items. "
            f"Every transcript scored exactly once: **{'yes' if c['exactly_once'] else 'NO'}**.",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-kill", action="store_true")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else argv
    args.redis_version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()[2].removeprefix("v=")
    machine, started = machine_line(), now_utc()
    files = transcripts(args.n)
    with tempfile.TemporaryDirectory(prefix="hc-batch-") as tmp:
        work = Path(tmp)
        with fresh_database(args.db) as url:
            loop = run_loop(url, files)
        print(f"loop: {loop}", flush=True)
        with fresh_database(args.db) as url:
            celery = run_celery(url, files, args.workers, work / "celery", kill=False) if (work / "celery").mkdir() is None else None
        print(f"celery: {celery}", flush=True)
        kill = None
        if not args.skip_kill:
            with fresh_database(args.db) as url:
                (work / "kill").mkdir()
                kill = run_celery(url, files, args.workers, work / "kill", kill=True)
            print(f"kill: {kill}", flush=True)
    body = report(args, loop, celery, kill, machine, started)
    print(body)
    if not args.no_write:
        write_section("batch", body, args.results)
    return 0 if kill is None or kill["check"]["exactly_once"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
