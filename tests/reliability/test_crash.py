"""Crash during drills: SIGKILL the whole server (gunicorn master and workers) at random
moments while trainees play drills over HTTP, restart it, and prove that

* every turn a client saw acknowledged is in the database, with its text;
* no turn is stored twice (a resend after a crash returns the stored exchange);
* every drill resumes: the client carries it to its end after the restart, including
  drills whose start the client never saw answered (found in the database).

Runs on a SQLite file and on PostgreSQL, against the production serving model
(gunicorn.conf.py: gthread workers, each request on a thread: a kill cuts every request a
process holds at once). One shorter case keeps sync workers (one request per process), the
model of the README's command before gunicorn.conf.py, on SQLite. The soak variant (`-m slow`, HOTLINE_SOAK=1)
kills more often over more turns and records its figures in benchmarks/RESULTS.md when
HOTLINE_RECORD_RESULTS=1.
"""
from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.reliability import results
from tests.reliability.conftest import TRAINEE_PASSWORD, prepare_database
from tests.reliability.drill_client import Ledger, Trainee

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "tests" / "data" / "agent_scripts"
# One script per scenario, so a drill found in the database alone (an orphan) can be
# resumed: good calls end with the customer hanging up satisfied, bad ones run out of
# lines and are ended by the trainee.
SCENARIO_SCRIPTS = {
    "billing_complaint": "good", "broadband_outage": "good", "signal_complaint": "good",
    "vas_unordered": "bad", "intl_roaming": "good", "call_forwarding": "bad",
}


def _lines(scenario_id: str) -> list[str]:
    from app.core.operators import fill_text, get_operator

    path = SCRIPTS / f"{scenario_id}.{SCENARIO_SCRIPTS[scenario_id]}.txt"
    # scripts name codes and numbers through {operator.…} placeholders, as scenarios do
    text = fill_text(path.read_text(encoding="utf-8"), get_operator())
    return [line.strip() for line in text.splitlines() if line.strip()]


def crash_drill(database_url: str, server_factory, cache_dir, *, kills: int, players: int, seed: int,
                uptime: tuple[float, float], worker_class: str = "production") -> dict:
    """Play drills with `players` trainees while the server is killed `kills` times, each
    after an uptime drawn from `uptime` seconds; then restart once more, finish every
    drill and check the database against the clients' ledger. Returns the figures."""
    names = [f"crash{i}" for i in range(players)]
    personas = prepare_database(database_url, cache_dir, names)
    scripts = {sid: _lines(sid) for sid in SCENARIO_SCRIPTS}
    server = server_factory(database_url, worker_class=worker_class)
    server.start()
    ledger = Ledger()
    stop = threading.Event()
    rng = random.Random(seed)
    deadline = time.monotonic() + 120 + kills * 10
    trainees = [Trainee(server.base_url, name, TRAINEE_PASSWORD, ledger, random.Random(seed * 100 + i), deadline)
                for i, name in enumerate(names)]
    failures: list[BaseException] = []

    def player(t: Trainee) -> None:
        try:
            t.login()
            while not stop.is_set():
                sid = t.rng.choice(sorted(SCENARIO_SCRIPTS))
                drill_id = t.start(sid, t.rng.choice(personas[sid]), t.rng.randrange(1000))
                if drill_id is not None:
                    t.play(drill_id, scripts[sid], after=0)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)
            stop.set()

    threads = [threading.Thread(target=player, args=(t,), daemon=True) for t in trainees]
    for th in threads:
        th.start()
    try:
        for _ in range(kills):
            if stop.wait(rng.uniform(*uptime)):
                break
            server.kill()
            server.start()
    finally:
        stop.set()  # players finish the drill in hand against the server now up, then stop
        for th in threads:
            th.join(timeout=max(1.0, deadline - time.monotonic()))
    assert not failures, f"{failures[0]!r}\n--- server log ---\n{server.log_tail()}"
    assert server.kills == kills

    engine = create_engine(database_url)
    try:
        resumed = _resume_orphans(engine, trainees, scripts)
        unscored = _open_reports(engine, trainees)
        figures = _check(engine, ledger, scripts)
    finally:
        engine.dispose()
        for t in trainees:
            t.close()
    figures.update(kills=server.kills, restarts=server.starts, orphans_resumed=resumed, unscored_repaired=unscored,
                   interrupted=ledger.interrupted, requests=ledger.requests)
    return figures


def _resume_orphans(engine, trainees: list[Trainee], scripts: dict) -> int:
    """Drills still active after the players stopped were started by a request whose
    answer a crash swallowed: their owner continues each from the page, as after a reload."""
    by_name = {t.username: t for t in trainees}
    with engine.connect() as conn:
        rows = conn.execute(text(
            "select d.id, u.username, v.scenario_id from drills d join users u on u.id = d.trainee_id "
            "join scenario_versions v on v.id = d.scenario_version_id where d.status = 'active'")).all()
    for drill_id, username, scenario_id in rows:
        trainee = by_name[username]
        positions, status, _ = trainee.page(drill_id)
        # The last customer turn is where the conversation stands; an agent turn after it
        # is pending and is sent again (the server answers it instead of storing it twice).
        after = max(p for p in positions if p % 2 == 0)
        assert trainee.play(drill_id, scripts[scenario_id], from_line=after // 2, after=after) == "ended"
    return len(rows)


def _open_reports(engine, trainees: list[Trainee]) -> int:
    """Each owner opens every drill's report, as the page invites at the end of a call.
    Returns how many ended drills had no score before (killed between end and scoring)."""
    by_name = {t.username: t for t in trainees}
    with engine.connect() as conn:
        rows = conn.execute(text(
            "select d.id, u.username, (select count(*) from scores s where s.drill_id = d.id) "
            "from drills d join users u on u.id = d.trainee_id")).all()
    for drill_id, username, _ in rows:
        by_name[username].report(drill_id)
    return sum(1 for *_, n in rows if n == 0)


def _check(engine, ledger: Ledger, scripts: dict) -> dict:
    with engine.connect() as conn:
        turns = conn.execute(text("select drill_id, position, speaker, text from turns order by drill_id, position")).all()
        drills = conn.execute(text(
            "select d.id, d.status, v.scenario_id, (select count(*) from scores s where s.drill_id = d.id) "
            "from drills d join scenario_versions v on v.id = d.scenario_version_id")).all()
    stored = {(d, p): (s, t) for d, p, s, t in turns}
    lost = [a for a in ledger.acks if stored.get((a.drill_id, a.position)) != (a.speaker, a.text)]
    assert not lost, f"{len(lost)} acknowledged turn(s) missing or changed: {sorted(lost, key=str)[:5]}"

    by_drill: dict[int, list] = {}
    for d, p, s, t in turns:
        by_drill.setdefault(d, []).append((p, s, t))
    unscored = []
    for drill_id, status, scenario_id, n_scores in drills:
        rows = by_drill.get(drill_id, [])
        assert [p for p, _, _ in rows] == list(range(len(rows))), f"drill {drill_id}: gaps in positions"
        assert [s for _, s, _ in rows] == ["customer" if p % 2 == 0 else "agent" for p, _, _ in rows], \
            f"drill {drill_id}: speakers do not alternate (a turn stored twice?)"
        agent_lines = [t for _, s, t in rows if s == "agent"]
        assert agent_lines == scripts[scenario_id][:len(agent_lines)], \
            f"drill {drill_id}: agent turns are not the script in order (duplicated or lost)"
        assert status == "ended", f"drill {drill_id} did not reach its end"
        if not n_scores:
            unscored.append(drill_id)
    assert not unscored, f"ended drills still unscored after their report was opened: {unscored}"
    assert ledger.drills <= {d for d, *_ in drills}
    return {"drills": len(drills), "turns": len(turns), "acknowledged": len(ledger.acks), "lost": len(lost),
            "ended": sum(1 for _, status, *_ in drills if status == "ended")}


def test_sigkill_during_drills_loses_no_acknowledged_turn(database_url, server_factory, cache_dir):
    figures = crash_drill(database_url, server_factory, cache_dir, kills=20, players=3, seed=6,
                          uptime=(0.05, 0.35))
    assert figures["lost"] == 0 and figures["kills"] == 20
    assert figures["interrupted"] > 0, "no request was ever cut: the kills missed the traffic"
    assert figures["acknowledged"] > 0 and figures["ended"] == figures["drills"]


def test_sigkill_with_sync_workers_loses_no_acknowledged_turn(tmp_path, sqlite_template, server_factory, cache_dir):
    """The same drill against sync workers, fewer kills: each process holds one request,
    so a kill meets a request at any point of its own life rather than many at once."""
    path = tmp_path / "crash-sync.db"
    path.write_bytes(sqlite_template.read_bytes())
    figures = crash_drill(f"sqlite:///{path}", server_factory, cache_dir, kills=8, players=3, seed=7,
                          uptime=(0.05, 0.35), worker_class="sync")
    assert figures["lost"] == 0 and figures["kills"] == 8
    assert figures["acknowledged"] > 0 and figures["ended"] == figures["drills"]


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("HOTLINE_SOAK") != "1", reason="soak: set HOTLINE_SOAK=1 (and -m slow)")
def test_crash_soak(database_url, server_factory, cache_dir):
    kills = int(os.environ.get("HOTLINE_SOAK_KILLS", "40"))
    started = time.monotonic()
    figures = crash_drill(database_url, server_factory, cache_dir, kills=kills, players=4, seed=11,
                          uptime=(0.2, 1.5))
    assert figures["lost"] == 0 and figures["ended"] == figures["drills"]
    if results.recording():
        db_name = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite (file)"
        part = "crash-" + ("postgres" if db_name == "PostgreSQL" else "sqlite")
        results.record(part, "\n".join([
            f"### Crash soak on {db_name}",
            "",
            "- Command: `HOTLINE_SOAK=1 HOTLINE_RECORD_RESULTS=1 python -m pytest "
            f"'tests/reliability/test_crash.py::test_crash_soak[{'postgres' if db_name == 'PostgreSQL' else 'sqlite'}]' -m slow`"
            + (" (with TEST_DATABASE_URL set)" if db_name == "PostgreSQL" else ""),
            f"- Date: {results.now()}; machine: {results.machine()}",
            f"- Setup: gunicorn, 2 workers of gunicorn.conf.py's model (gthread, threads), {len(SCENARIO_SCRIPTS)} scenarios, 4 trainees posting turns "
            "(half streamed), the whole process group SIGKILLed after 0.2–1.5 s of uptime each time.",
            "",
            "| kills | requests sent | requests cut by a kill | drills | turns stored | acknowledged turns | lost | "
            "drills resumed from the database alone | ended unscored by a kill, scored on the next request | "
            "drills ended | wall time |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {figures['kills']} | {figures['requests']} | {figures['interrupted']} | {figures['drills']} | "
            f"{figures['turns']} | {figures['acknowledged']} | {figures['lost']} | {figures['orphans_resumed']} | "
            f"{figures['unscored_repaired']} | {figures['ended']} / {figures['drills']} | "
            f"{time.monotonic() - started:.0f} s |",
            "",
            "\"Requests cut\" counts every request that met a refused or broken connection (retries "
            "while the server was down included). Lost = acknowledged turns missing from the database "
            "or stored with other text; the test fails unless it is 0, no turn is stored twice and "
            "every drill reaches its end.",
        ]))
