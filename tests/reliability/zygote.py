"""A server zygote for the crash tests: `python -m tests.reliability.zygote`.

Importing the app (Flask, SQLAlchemy, scikit-learn, the intent model, the catalog) takes
seconds; a crash drill restarts the server 20+ times. So this process imports and warms
everything once, and then, for every `start PORT WORKERS WORKER_CLASS DATABASE_URL
[OVERRIDES]` line on stdin, forks a real gunicorn server: arbiter plus workers serving the
production configuration on that database, in a new session and process group of its own, so that
`os.killpg(pid, SIGKILL)` takes the master and every worker down at once, as a power cut
or an OOM kill of the whole service would. It answers each command with the server's pid.

The servers run the production serving model, gunicorn.conf.py's (gthread workers with its
threads and keep-alive), unless the command names `sync`: the one model kept for the case
where one process holds one request (a kill cuts exactly what each worker was doing).

Nothing is shared with the servers but read-only memory: no database connection is open
when it forks (SQLAlchemy pools are created empty and the warm-up disposes of the engine).
"""
from __future__ import annotations

import ctypes
import os
import sys

PR_SET_CHILD_SUBREAPER = 36


def _app_for(database_url: str, overrides: str = ""):
    """The app as `wsgi.py` builds it under APP_ENV=production, on this database (the
    environment gives SECRET_KEY; cookies without the Secure flag, the tests speak http).
    The per-trainee rate limits are off (the crash drills play faster than people) unless
    `overrides` (a JSON object of config values, no spaces) sets them."""
    import json

    from app import create_app
    from config import ProductionConfig, normalise_database_url

    settings = {"SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
                "SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False,
                "DRILL_STARTS_PER_WINDOW": 0, "TURNS_PER_WINDOW": 0}
    settings.update(json.loads(overrides or "{}"))
    config = type("ServerConfig", (ProductionConfig,), settings)
    app = create_app(config)
    _warm(app)
    return app


def _warm(app) -> None:
    from app.extensions import db
    from app.services.content import catalog
    from app.services.engines import analyser_factory, available_kinds, engine_for

    with app.app_context():
        catalog()
        # Every customer kind, as gunicorn.conf.py's warm-up does (app/services/warmup.py):
        # with a model server configured the LLM client is built (and its library imported)
        # here once, not by the first drills of each worker at the same moment.
        for kind in available_kinds():
            engine_for(kind)
        # The crash drills play Chinese scenarios; other languages would load on first use.
        analyser_factory()(os.environ.get("ZYGOTE_WARM_LANGUAGE", "zh-CN"))
        db.engine.dispose()


def production_settings() -> dict:
    """The serving model of gunicorn.conf.py (the README's production command): its worker
    class, threads and keep-alive, read from the file as gunicorn reads it."""
    import runpy

    conf = runpy.run_path(os.path.join(os.path.dirname(__file__), "..", "..", "gunicorn.conf.py"))
    return {key: conf[key] for key in ("worker_class", "threads", "keepalive")}


def _serve(app, port: int, workers: int, worker_class: str, log_path: str) -> None:
    """In the forked child: become a process-group leader and run gunicorn until killed."""
    from gunicorn.app.base import BaseApplication

    model = production_settings() if worker_class == "production" else {"worker_class": worker_class}

    os.setsid()
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)

    class Server(BaseApplication):
        def load_config(self):
            # The server's own timeouts stay short: the tests kill it, they do not wait on it.
            for key, value in {"bind": f"127.0.0.1:{port}", "workers": workers, **model,
                               "timeout": 60, "graceful_timeout": 1, "accesslog": None,
                               "loglevel": "warning"}.items():
                self.cfg.set(key, value)

        def load(self):
            return app

    Server().run()


def main() -> None:
    # Workers are the master's children; when the master is killed they are re-parented to
    # the nearest subreaper. Being it lets this process reap them instead of leaving zombies.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    # Read first for its side effect as under gunicorn: DB_POOL_SIZE follows the threads.
    production_settings()
    _app_for("sqlite://")  # imports and warms everything before saying ready
    apps: dict[tuple[str, str], object] = {}
    log_path = os.environ.get("ZYGOTE_SERVER_LOG", os.devnull)
    print("ready", flush=True)
    for line in sys.stdin:
        _reap()
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "start":
            port, workers, worker_class, url = int(parts[1]), int(parts[2]), parts[3], parts[4]
            overrides = parts[5] if len(parts) > 5 else ""
            if (url, overrides) not in apps:
                apps[url, overrides] = _app_for(url, overrides)
            pid = os.fork()
            if pid == 0:
                _exit_with(_serve, apps[url, overrides], port, workers, worker_class, log_path)
            print(pid, flush=True)
        elif parts[0] == "quit":
            break
    _reap()


def _exit_with(func, *args) -> None:
    """Run `func` in a forked child (gunicorn master, and through it each worker) and end
    that process with its exit code, never returning into this module's stdin loop."""
    code = 0
    try:
        func(*args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - report, then leave the forked process
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


if __name__ == "__main__":
    main()
