"""Gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Threads, not processes, wait for the language model. A drill turn with the LLM customer
spends about all of its time waiting for the provider (seconds) and a few milliseconds
computing; a sync worker is a whole process held for those seconds, so 4 of them hold
a handful of trainees (benchmarks/RESULTS.md, "Capacity"). gthread workers park each
waiting request on a thread and keep idle keep-alive connections in a poller, so one
process per core serves a class. gevent was measured too (capacity_bench.py --configs
gevent): with this file's preloaded app it answered no turn at all in 75 s at 96
trainees, on SQLite and PostgreSQL, and even made to work it needs the whole stack to
cooperate: SQLite's busy wait and scikit-learn's CPU work block every greenlet of a
worker, where a thread only blocks itself.

Every value below can be overridden from the environment (or the command line, which
wins over this file):
  WEB_CONCURRENCY    worker processes (default: the cores this process may run on)
  GUNICORN_THREADS   threads per worker (default 32): requests in flight per worker
  GUNICORN_BIND      address (default 127.0.0.1:8000, behind the reverse proxy)
  GUNICORN_WARM_UP   1 (default) loads models and dictionaries before the first request
"""
from __future__ import annotations

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# One process per core: the threads of a process share one interpreter lock, so more
# processes than cores only add memory; fewer leave a core idle.
workers = _int("WEB_CONCURRENCY", _cores())
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 32)
# Every thread may hold a database connection at once (config.py reads this when the app
# loads, after this file). On PostgreSQL, workers × (threads + DB_MAX_OVERFLOW) must stay
# below the server's max_connections (100 by default).
os.environ.setdefault("DB_POOL_SIZE", str(threads))

# The drill page streams the customer's reply (NDJSON over one response); a turn lasts
# as long as the model takes, up to OPENAI_TIMEOUT (20 s) per call. A gthread worker's
# `timeout` only notices a worker whose main loop is stuck, so it never cuts a stream;
# it stays generous for anyone who switches back to sync workers, where it would.
_model_timeout = float(os.environ.get("OPENAI_TIMEOUT") or 20)
timeout = max(120, int(3 * _model_timeout) + 30)
# A restart (SIGHUP, deploy) lets the replies being streamed finish.
graceful_timeout = int(_model_timeout) + 10
# The drill page sends a turn every few seconds; behind the proxy, a parked keep-alive
# connection costs a socket in the poller, not a thread.
keepalive = 10

# Load the app in the master and warm it there, once: the workers fork with the act
# models and jieba's dictionary already in memory (shared copy-on-write).
preload_app = True
_warm = os.environ.get("GUNICORN_WARM_UP", "1").strip().lower() not in {"0", "false", "no", "off"}


def when_ready(server):
    """Before the first worker is forked (preload_app): warm the app in the master."""
    if _warm and server.cfg.preload_app:
        _warm_up(server.log, server.app.wsgi())


def post_worker_init(worker):
    """Without preload_app (e.g. --reload), each worker warms its own copy."""
    if _warm and not worker.cfg.preload_app:
        _warm_up(worker.log, worker.wsgi)


def _warm_up(logger, app) -> None:
    import time

    from app.services.warmup import warm_up

    start = time.monotonic()
    timings = warm_up(app)
    logger.info("warm-up done in %.1f s: %s", time.monotonic() - start,
                ", ".join(f"{step} {seconds:.2f} s" for step, seconds in timings.items()))
