"""Shared helpers of the HTTP and export benchmarks: the machine line, percentiles, a
marker section of RESULTS.md, a throwaway PostgreSQL, a prepared database and a gunicorn
server on 127.0.0.1.

Nothing here times anything; the benchmarks do, always against a baseline measured in
the same run (the machines are shared and noisy, so only ratios travel).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import platform
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
PYTHON = sys.executable
# Throwaway accounts and sessions of one benchmark run: fresh values every run.
BENCH_PASSWORD = secrets.token_urlsafe(12)
BENCH_SECRET = secrets.token_hex(16)


# --- reporting ------------------------------------------------------------------------------

def machine_line() -> str:
    """Cores, memory, load average now, Python version: the facts a figure depends on."""
    mem = "unknown"
    with contextlib.suppress(OSError, StopIteration, ValueError):
        kb = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{cpus} cores (nproc), {mem} RAM, load average at start {load}; "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


def now_utc() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def command_line(script: str, argv: list[str] | None) -> str:
    """The command that reproduces a run, as a reader would type it."""
    args = sys.argv[1:] if argv is None else argv
    return " ".join(["python", f"benchmarks/{script}", *map(shlex.quote, args)])


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (0-100) by linear interpolation between closest ranks."""
    if not values:
        raise ValueError("no values")
    data = sorted(values)
    k = (len(data) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def write_section(name: str, body: str, results: Path = RESULTS) -> None:
    """Replace the `<!-- name:start -->`…`<!-- name:end -->` section (append it if absent);
    the rest of the file stays byte for byte."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    section = f"{start}\n{body.strip()}\n{end}"
    text = results.read_text(encoding="utf-8") if results.exists() else "# Benchmark results\n"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    results.write_text(text, encoding="utf-8")


# --- PostgreSQL -------------------------------------------------------------------------------

@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server URL: TEST_DATABASE_URL if set, else a throwaway cluster started
    with scripts/pg-throwaway.sh and stopped on exit."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    script = ROOT / "scripts" / "pg-throwaway.sh"
    out = subprocess.run(
        ["bash", "-c", f'source {shlex.quote(str(script))} && pg_throwaway_start && '
                       'printf "%s\\n%s\\n%s\\n%s\\n" "$TEST_DATABASE_URL" "$PG_THROWAWAY_DIR" '
                       '"$PG_THROWAWAY_BIN" "$PG_THROWAWAY_AS"'],
        check=True, capture_output=True, text=True).stdout.splitlines()
    url, pg_dir, pg_bin, pg_as = (out + [""] * 4)[:4]
    try:
        yield url
    finally:
        subprocess.run(["bash", "-c", f"source {shlex.quote(str(script))} && PG_THROWAWAY_DIR={shlex.quote(pg_dir)} "
                        f"PG_THROWAWAY_BIN={shlex.quote(pg_bin)} PG_THROWAWAY_AS={shlex.quote(pg_as)} "
                        "pg_throwaway_stop"], check=False)


@contextlib.contextmanager
def fresh_database(kind: str) -> Iterator[str]:
    """An empty database URL of `kind` ("postgres" or "sqlite"), removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="hc-bench-") as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from config import normalise_database_url

    with postgres_server() as server:
        server = normalise_database_url(server)
        name = f"hc_bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


# --- the app ----------------------------------------------------------------------------------

def bench_env(database_url: str, workdir: Path, **extra: str) -> dict:
    """Environment of every app process of a benchmark: the development config (the bench
    routes are refused in production), one database, one intent-model cache."""
    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": database_url,
           "SECRET_KEY": BENCH_SECRET, "INSTANCE_PATH": str(workdir / "instance"),
           "HOTLINE_CACHE_DIR": os.environ.get("HOTLINE_CACHE_DIR", str(ROOT / "instance" / "cache")),
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "FLASK_APP": "wsgi:app", "BENCH_ROUTES": "1",
           # A benchmark plays far faster than a person: the per-trainee limits stay on (their
           # checks are part of what a turn costs) but set where a benchmark never meets them.
           "DRILL_STARTS_PER_WINDOW": "1000000", "TURNS_PER_WINDOW": "1000000", **extra}
    env.pop("TEST_DATABASE_URL", None)
    return env


def prepare_database(env: dict, trainees: int) -> list[str]:
    """Migrate and load the content through the real `flask` commands, fit (or load from
    the cache) the zh-CN intent model the drills use, so no worker fits it on a request,
    and create `trainees` trainee accounts (password BENCH_PASSWORD), all in one child
    process with the benchmark's environment. Returns the usernames."""
    names = [f"bench{i:03d}" for i in range(trainees)]
    script = f"""
import sys
from app import create_app
from app.extensions import db
from app.services.accounts import create_user

app = create_app()
runner = app.test_cli_runner()
for args in (["db", "upgrade"], ["scenarios", "load"]):
    result = runner.invoke(args=args)
    if result.exit_code:
        sys.exit("flask " + " ".join(args) + " failed: " + result.output + repr(result.exception))
with app.app_context():
    from app.services.engines import analyser_factory

    analyser_factory()("zh-CN")
    for name in {names!r}:
        create_user(name, {BENCH_PASSWORD!r}, "trainee")
    db.session.commit()
"""
    proc = subprocess.run([PYTHON, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"preparing the database failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return names


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gunicorn(env: dict, workers: int, log_path: Path, threads: int = 1,
             options: list[str] | None = None) -> Iterator[str]:
    """A gunicorn server of the app on a free 127.0.0.1 port; yields its base URL once it
    answers, stops it (SIGTERM, then SIGKILL) on exit. `options`, when given, replace the
    worker options (e.g. `["-c", "gunicorn.conf.py"]`: the production configuration)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    if options is None:
        # `-c /dev/null`: gunicorn reads ./gunicorn.conf.py unless told otherwise, and these
        # runs measure the worker options given here, not the production file.
        options = ["-c", os.devnull, "--workers", str(workers), "--threads", str(threads), "--timeout", "120"]
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", *options, "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
             "wsgi:app"],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {proc.returncode}; see {log_path}")
            try:
                with urllib.request.urlopen(base + "/login", timeout=5) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer within 120 s; see {log_path}")
            time.sleep(0.3)
        # A few requests so every worker has served once before anything is timed.
        for _ in range(workers * 4):
            with contextlib.suppress(Exception):
                urllib.request.urlopen(base + "/login", timeout=10).read()
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
