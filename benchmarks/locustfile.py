"""Simulated trainees for benchmarks/load_bench.py (run by it through `locust --headless`).

Each simulated trainee logs in through the login form with its own account, then plays
full scripted drills back to back: start a drill, send the agent lines of one script as
turns until the customer ends the call (or the lines run out, then end it), start the
next. No think time: a trainee sends its next turn as soon as the reply arrives, so N
users are N requests in flight at all times (harder than N people typing).

Environment: BENCH_USERS (comma-separated usernames), BENCH_PASSWORD, BENCH_SCRIPT (a
file of agent lines), BENCH_SCENARIO, BENCH_SAMPLES (where every request's name, start,
duration in ms and error go as JSON lines when the run ends).
"""
from __future__ import annotations

import itertools
import json
import os
import re
from pathlib import Path

from locust import HttpUser, constant, events, task

USERS = iter(os.environ.get("BENCH_USERS", "").split(","))
PASSWORD = os.environ.get("BENCH_PASSWORD", "")
SCENARIO = os.environ.get("BENCH_SCENARIO", "billing_complaint")
LINES = [line.strip() for line in Path(os.environ["BENCH_SCRIPT"]).read_text(encoding="utf-8").splitlines()
         if line.strip()]
SEEDS = itertools.count(1)
SAMPLES: list[dict] = []
_CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@events.request.add_listener
def _record(request_type, name, response_time, response_length, exception=None, start_time=None, **_):
    SAMPLES.append({"name": name, "start": start_time, "ms": response_time,
                    "error": None if exception is None else repr(exception)[:200]})


@events.quitting.add_listener
def _dump(environment, **_):
    with open(os.environ["BENCH_SAMPLES"], "w", encoding="utf-8") as fh:
        for sample in SAMPLES:
            fh.write(json.dumps(sample) + "\n")


class Trainee(HttpUser):
    wait_time = constant(0)

    def on_start(self):
        self.username = next(USERS)
        page = self.client.get("/login", name="login page").text
        with self.client.post("/login", name="login", allow_redirects=False, catch_response=True,
                              data={"username": self.username, "password": PASSWORD,
                                    "csrf_token": _CSRF_INPUT.search(page).group(1)}) as r:
            if r.status_code != 302:
                r.failure(f"login answered {r.status_code}")

    @task
    def full_drill(self):
        start = f"/trainee/start/{SCENARIO}"
        token = _CSRF_INPUT.search(self.client.get(start, name="start page").text).group(1)
        with self.client.post(start, name="start", allow_redirects=False, catch_response=True,
                              data={"persona": "calm", "customer": "scripted", "seed": str(next(SEEDS)),
                                    "csrf_token": token}) as r:
            if r.status_code != 302:
                r.failure(f"start answered {r.status_code}")
                return
            drill = r.headers["Location"]
        page = self.client.get(drill, name="drill page").text
        headers = {"Accept": "application/json", "X-CSRFToken": _CSRF_META.search(page).group(1)}
        for line in LINES:
            with self.client.post(drill + "/turns", name="turn", json={"text": line}, headers=headers,
                                  catch_response=True) as r:
                if r.status_code != 200:
                    r.failure(f"turn answered {r.status_code}: {r.text[:200]}")
                    return
                if r.json()["drill"]["status"] == "ended":
                    # The turn that ends the call also scores the drill: timed apart.
                    r.request_meta["name"] = "final turn"
                    return
        self.client.post(drill + "/end", name="end", json={}, headers=headers)
