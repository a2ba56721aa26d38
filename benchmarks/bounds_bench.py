"""Bounded uploads and PDFs (issue 16, finding 3): time and memory of the largest
transcript file the default limits accept, of refusing the 3.25 MB / 100,000-turn file
that used to take a worker down, and of the PDF of a drill holding one turn of 1.5
million characters.

    python benchmarks/bounds_bench.py

Each case runs in its own process (so one case's peak does not hide another's) through
the Flask test client on a migrated SQLite file, with the intent model loaded and one
small file imported first (what a warm worker has). Reported per case: wall time of the
request, the Python allocation peak during it (tracemalloc) and the process's peak
resident set before and after (getrusage), which is what a worker's memory limit sees.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOOD = ROOT / "tests" / "data" / "transcripts" / "billing_complaint.good.json"



# A throwaway password for the benchmark's own accounts (no literal secret in the code).
LOGIN_SECRET = __import__("secrets").token_urlsafe(12)

def _largest_accepted(config) -> bytes:
    """IMPORT_MAX_TURNS turns of real call lines, padded to just under IMPORT_MAX_BYTES."""
    lines = [t["text"] for t in json.loads(GOOD.read_bytes())["turns"]]
    turns = config["IMPORT_MAX_TURNS"]
    doc = {"format": "transcript/1", "scenario": "billing_complaint", "turns": []}
    base = len(json.dumps(doc, ensure_ascii=False).encode())
    per_turn = (config["IMPORT_MAX_BYTES"] - base - 64) // turns  # bytes each turn object may take
    for i in range(turns):
        speaker = "customer" if i % 2 == 0 else "agent"
        text = lines[i % len(lines)]
        item = {"speaker": speaker, "text": text}
        room = per_turn - len(json.dumps(item, ensure_ascii=False).encode()) - 2
        if room > 0:  # pad with more of the line (3 bytes a CJK character)
            item["text"] = (text * (1 + room // max(1, len(text.encode()))))[: len(text) + room // 3]
            item["text"] = item["text"][: config["IMPORT_MAX_TURN_CHARS"]]
        doc["turns"].append(item)
    raw = json.dumps(doc, ensure_ascii=False).encode()
    assert len(raw) <= config["IMPORT_MAX_BYTES"], len(raw)
    return raw


def _attack() -> bytes:
    items = [{"speaker": "customer" if i % 2 == 0 else "agent", "text": "好"} for i in range(100_000)]
    return json.dumps({"format": "transcript/1", "scenario": "billing_complaint", "turns": items},
                      ensure_ascii=False).encode()


def _case(name: str, db_path: str, cache: str) -> dict:
    os.environ["HOTLINE_CACHE_DIR"] = cache
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.models import Cohort, Drill, Turn
    from app.services.accounts import create_user
    from app.services.content import scenario_version
    from config import TestingConfig

    config = type("BenchConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
                                                    "CACHE_DIR": cache})
    app = create_app(config)
    with app.app_context():
        upgrade()
        trainer = create_user("coach", LOGIN_SECRET, "trainer")
        db.session.flush()
        cohort = Cohort(name="c", trainer_id=trainer.id)
        db.session.add(cohort)
        db.session.flush()
        trainee = create_user("xiaowang", LOGIN_SECRET, "trainee", None, cohort)
        db.session.commit()
        trainer_id, trainee_id = trainer.id, trainee.id
    client = app.test_client()

    def login(username: str) -> None:
        client.post("/logout")
        r = client.post("/login", data={"username": username, "password": LOGIN_SECRET})
        assert r.status_code == 302, r.status_code

    login("coach")

    def upload(fname: str, raw: bytes):
        return client.post("/trainer/upload/file", content_type="multipart/form-data",
                           headers={"Accept": "application/json"},
                           data={"trainee_id": str(trainee_id), "files": [(BytesIO(raw), fname)]})

    warm = upload("warm.json", GOOD.read_bytes())  # loads the intent model, the rubric, the scorer
    assert warm.status_code == 201, warm.get_data(as_text=True)[:300]
    if name == "largest":
        raw = _largest_accepted(app.config)
        request = lambda: upload("largest.json", raw)  # noqa: E731
        detail = f"{len(raw):,} bytes, {app.config['IMPORT_MAX_TURNS']:,} turns"
        expect = 201
    elif name == "attack":
        raw = _attack()
        request = lambda: upload("attack.json", raw)  # noqa: E731
        detail = f"{len(raw):,} bytes, 100,000 turns"
        expect = 422
    else:
        with app.app_context():
            version = scenario_version("billing_complaint", "zh-CN")
            drill = Drill(trainee_id=trainee_id, scenario_version_id=version.id, customer_kind="import",
                          mode="practice", status="ended")
            drill.turns = [Turn(position=0, speaker="customer", text="我要投诉。"),
                           Turn(position=1, speaker="agent", text="您好" * 750_000),
                           Turn(position=2, speaker="customer", text="好的，谢谢。")]
            db.session.add(drill)
            db.session.commit()
            drill_id = drill.id
        login("xiaowang")
        request = lambda: client.get(f"/trainee/drills/{drill_id}/transcript.pdf")  # noqa: E731
        # The first PDF of a process loads and parses the CJK font (seconds, once per
        # worker): timed separately, so the figure below is what every later one costs.
        t0 = time.perf_counter()
        assert request().status_code == 200
        first = time.perf_counter() - t0
        detail = f"1 turn of 1,500,000 characters (3 turns); first PDF of the process {first:.2f} s"
        expect = 200
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    t0 = time.perf_counter()
    r = request()
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert r.status_code == expect, (r.status_code, r.get_data(as_text=True)[:300])
    return ({"case": name, "detail": detail, "status": r.status_code, "seconds": round(seconds, 2),
             "py_peak_mib": round(peak / 2**20, 1), "rss_before_mib": round(rss_before / 1024),
             "rss_after_mib": round(rss_after / 1024), "bytes_out": len(r.data)})


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "--case":  # one case, in a process of its own (see main)
        print(json.dumps(_case(args[1], args[2], args[3])))
        return 0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = os.environ.get("HOTLINE_CACHE_DIR") or str(Path(tmp) / "cache")
        for name in ("largest", "attack", "pdf"):
            done = subprocess.run([sys.executable, __file__, "--case", name, str(Path(tmp) / f"{name}.db"), cache],
                                  capture_output=True, text=True, cwd=ROOT)
            if done.returncode != 0:
                sys.stderr.write(done.stderr[-3000:])
                return 1
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print("| case | input | status | time (s) | Python peak (MiB) | RSS peak before → after (MiB) | answer bytes |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['case']} | {r['detail']} | {r['status']} | {r['seconds']} | {r['py_peak_mib']} | "
              f"{r['rss_before_mib']} → {r['rss_after_mib']} | {r['bytes_out']:,} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
