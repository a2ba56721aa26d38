"""Simulated trainees for benchmarks/capacity_bench.py (run by it through `locust --headless`).

Unlike benchmarks/locustfile.py (no think time: a CPU-saturation test), each trainee here
behaves like a person in a class: logs in once with its own account, starts a drill
with the LLM customer, and sends the agent lines of one script as the drill page does
(`"stream": true`, NDJSON read to the last line), thinking BENCH_THINK seconds before
every turn; when the customer ends the call it thinks, then starts the next drill.

A turn counts as an error unless its last line is the stored customer turn; the time of
a turn is to the last line of the stream. Environment as benchmarks/locustfile.py, plus
BENCH_THINK (seconds).
"""
from __future__ import annotations

import itertools
import json
import os
import re
import time
from pathlib import Path

import gevent
from locust import HttpUser, constant, events, task

USERS = iter(os.environ.get("BENCH_USERS", "").split(","))
PASSWORD = os.environ.get("BENCH_PASSWORD", "")
SCENARIO = os.environ.get("BENCH_SCENARIO", "billing_complaint")
THINK = float(os.environ.get("BENCH_THINK", "5"))
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


def _last_event(body: str) -> dict:
    lines = [line for line in body.splitlines() if line.strip()]
    return json.loads(lines[-1]) if lines else {}


class Trainee(HttpUser):
    wait_time = constant(THINK)

    def on_start(self):
        self.username = next(USERS)
        page = self.client.get("/login", name="login page").text
        with self.client.post("/login", name="login", allow_redirects=False, catch_response=True,
                              data={"username": self.username, "password": PASSWORD,
                                    "csrf_token": _CSRF_INPUT.search(page).group(1)}) as r:
            if r.status_code != 302:
                r.failure(f"login answered {r.status_code}")

    @task
    def drill(self):
        start = f"/trainee/start/{SCENARIO}"
        token = _CSRF_INPUT.search(self.client.get(start, name="start page").text).group(1)
        with self.client.post(start, name="start", allow_redirects=False, catch_response=True,
                              data={"persona": "calm", "customer": "llm", "seed": str(next(SEEDS)),
                                    "csrf_token": token}) as r:
            if r.status_code != 302:
                r.failure(f"start answered {r.status_code}")
                return
            drill = r.headers["Location"]
        page = self.client.get(drill, name="drill page").text
        headers = {"Accept": "application/x-ndjson", "X-CSRFToken": _CSRF_META.search(page).group(1)}
        for line in LINES:
            gevent.sleep(THINK)  # reading the customer's line and typing the answer
            with self.client.post(drill + "/turns", name="turn", json={"text": line, "stream": True},
                                  headers=headers, catch_response=True) as r:
                if r.status_code != 200:
                    r.failure(f"turn answered {r.status_code}: {r.text[:200]}")
                    return
                last = _last_event(r.text)
                if last.get("type") != "customer":
                    r.failure(f"turn stream ended with {json.dumps(last, ensure_ascii=False)[:200]}")
                    return
                if last["drill"]["status"] == "ended":
                    r.request_meta["name"] = "final turn"  # also scores the drill: timed apart
                    return
        self.client.post(drill + "/end", name="end", json={}, headers={**headers, "Accept": "application/json"})
