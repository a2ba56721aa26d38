"""A trainee playing drills over real HTTP the way app/static/drill.js does, through
server crashes.

It logs in with the form (CSRF token from the page), starts drills with the start form,
posts each line of an agent script to POST /trainee/drills/<id>/turns with `after` (the
last position it saw) and `X-CSRFToken`, sometimes streamed (NDJSON), sometimes not.
When the connection fails (the server was killed) it waits for the server to come back
and sends the same request again, as the page's retry does. It keeps a ledger of every
turn the server acknowledged to it: a turn in a 200 JSON reply, or an `agent`/`customer`
event fully received from a stream (the service commits before it answers or yields).
"""
from __future__ import annotations

import json
import random
import re
import threading
import time
from dataclasses import dataclass, field

import httpx

_CSRF_FORM = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
_POSITION = re.compile(r'data-position="(\d+)"')
_STATUS = re.compile(r'data-status="(\w+)"')


class ServerError(AssertionError):
    """The server answered a request with a status no correct server gives here (5xx, or
    an unexpected 4xx): the drill test fails on it."""


@dataclass(frozen=True)
class Ack:
    drill_id: int
    position: int
    speaker: str
    text: str


@dataclass
class Ledger:
    """What the server acknowledged and what went wrong, shared by all players."""

    acks: set[Ack] = field(default_factory=set)
    drills: set[int] = field(default_factory=set)  # drills whose start the client saw
    interrupted: int = 0  # requests cut by a crash (connection refused, reset, stream cut)
    cuts: list[str] = field(default_factory=list)  # what cut them (the first few)
    requests: int = 0
    conflicts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ack(self, drill_id: int, turn: dict) -> None:
        with self.lock:
            self.acks.add(Ack(drill_id, turn["position"], turn["speaker"], turn["text"]))


class Trainee:
    """One browser session. Every method retries through crashes until `deadline`."""

    def __init__(self, base_url: str, username: str, password: str, ledger: Ledger, rng: random.Random,
                 deadline: float, stream_share: float = 0.5):
        self.http = httpx.Client(base_url=base_url, timeout=httpx.Timeout(15.0, connect=2.0),
                                 headers={"User-Agent": f"crash-drill/{username}"})
        self.username, self.password = username, password
        self.ledger, self.rng, self.deadline = ledger, rng, deadline
        self.stream_share = stream_share
        self.csrf = ""

    def close(self) -> None:
        self.http.close()

    # -- transport ------------------------------------------------------------------------
    def _call(self, method: str, url: str, **kwargs) -> httpx.Response:
        """One request, repeated while the server is down or the connection breaks."""
        while True:
            self._check_deadline(url)
            with self.ledger.lock:
                self.ledger.requests += 1
            try:
                return self.http.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                self._interrupted(exc)

    def _interrupted(self, exc: BaseException | None = None) -> None:
        with self.ledger.lock:
            self.ledger.interrupted += 1
            if len(self.ledger.cuts) < 20:
                self.ledger.cuts.append(repr(exc) if exc else "a stream ended before its reply")
        time.sleep(0.02 + self.rng.random() * 0.05)

    def _check_deadline(self, what: str) -> None:
        if time.monotonic() > self.deadline:
            raise TimeoutError(f"{self.username}: gave up on {what}: the server did not come back in time")

    def _fail(self, response: httpx.Response, what: str) -> None:
        message = f"{self.username}: {what}: HTTP {response.status_code}: {response.text[:300]}"
        with self.ledger.lock:
            self.ledger.errors.append(message)
        raise ServerError(message)

    # -- session --------------------------------------------------------------------------
    def login(self) -> None:
        while True:
            page = self._call("GET", "/login")
            token = _CSRF_FORM.search(page.text)
            if page.status_code != 200 or not token:
                self._fail(page, "login page")
            r = self._call("POST", "/login", data={"username": self.username, "password": self.password,
                                                   "csrf_token": token.group(1)})
            if r.status_code == 302:
                break
            self._fail(r, "login")
        self.csrf = self._token()

    def _token(self) -> str:
        page = self._call("GET", "/trainee/start/billing_complaint")
        if page.status_code != 200:
            self._fail(page, "start page")
        return _CSRF_FORM.search(page.text).group(1)

    # -- drills ---------------------------------------------------------------------------
    def start(self, scenario_id: str, persona: str, seed: int, customer: str = "scripted") -> int | None:
        """Start a drill; its id, or None when the answer was lost in a crash (the drill
        may exist: an orphan, which the test resumes from the database's list later)."""
        try:
            r = self.http.post(f"/trainee/start/{scenario_id}", data={
                "persona": persona, "customer": customer, "seed": str(seed), "csrf_token": self.csrf})
        except httpx.TransportError as exc:
            self._interrupted(exc)
            return None
        finally:
            with self.ledger.lock:
                self.ledger.requests += 1
        if r.status_code != 302:
            self._fail(r, f"start {scenario_id}")
        drill_id = int(r.headers["Location"].rstrip("/").rsplit("/", 1)[1])
        with self.ledger.lock:
            self.ledger.drills.add(drill_id)
        return drill_id

    def page(self, drill_id: int) -> tuple[list[int], str, str]:
        """The drill page as a reload shows it: positions, status, CSRF token."""
        r = self._call("GET", f"/trainee/drills/{drill_id}")
        if r.status_code != 200:
            self._fail(r, f"drill page {drill_id}")
        positions = [int(p) for p in _POSITION.findall(r.text)]
        return positions, _STATUS.search(r.text).group(1), _CSRF_META.search(r.text).group(1)

    def play(self, drill_id: int, lines: list[str], from_line: int = 0, after: int | None = None) -> str:
        """Send `lines[from_line:]` in order (each until acknowledged), then end the call if the
        customer has not. Returns the drill's final status as the server reported it."""
        if after is None:
            positions, status, _ = self.page(drill_id)
            if status != "active":
                return status
            after = positions[-1]
        for text in lines[from_line:]:
            after, status = self.turn(drill_id, text, after)
            if status != "active":
                return status
        return self.end(drill_id)

    def turn(self, drill_id: int, text: str, after: int) -> tuple[int, str]:
        """Send one agent turn until its reply is acknowledged; (reply position, status)."""
        url = f"/trainee/drills/{drill_id}/turns"
        headers = {"Accept": "application/json", "X-CSRFToken": self.csrf}
        while True:
            stream = self.rng.random() < self.stream_share
            body = {"text": text, "after": after, "stream": stream}
            try:
                outcome = self._stream(url, body, headers, drill_id) if stream else self._plain(url, body, headers, drill_id)
            except httpx.TransportError as exc:
                self._interrupted(exc)
                continue
            if outcome is not None:
                return outcome

    def _plain(self, url, body, headers, drill_id) -> tuple[int, str] | None:
        self._check_deadline(url)
        with self.ledger.lock:
            self.ledger.requests += 1
        r = self.http.post(url, json=body, headers=headers)
        if r.status_code == 200:
            data = r.json()
            for t in data["turns"]:
                self.ledger.ack(drill_id, t)
            return data["turns"][-1]["position"], data["drill"]["status"]
        self._refused(r, drill_id, body)
        return None

    def _stream(self, url, body, headers, drill_id) -> tuple[int, str] | None:
        self._check_deadline(url)
        with self.ledger.lock:
            self.ledger.requests += 1
        with self.http.stream("POST", url, json=body, headers=headers) as r:
            if r.status_code != 200:
                r.read()
                self._refused(r, drill_id, body)
                return None
            for line in r.iter_lines():
                if not line.strip():
                    continue
                try:
                    event = json.loads(line)
                except ValueError:
                    break  # a line cut by the crash: what came before it still counts
                if event["type"] in ("agent", "customer"):
                    self.ledger.ack(drill_id, event["turn"])
                if event["type"] == "customer":
                    return event["turn"]["position"], event["drill"]["status"]
                if event["type"] == "error":
                    raise ServerError(f"{self.username}: stream error on drill {drill_id}: {event}")
        # The stream ended without the reply: the server died mid-answer. Send it again.
        self._interrupted()
        return None

    def _refused(self, r: httpx.Response, drill_id: int, body: dict) -> None:
        # A correct server answers a resend with the stored exchange; any refusal is a
        # finding (a 409 would leave the page unable to continue without a reload).
        self._fail(r, f"turn on drill {drill_id} {body}")

    def report(self, drill_id: int) -> str:
        """The score report page (where the page sends the trainee when the call ends)."""
        r = self._call("GET", f"/trainee/drills/{drill_id}/report")
        if r.status_code != 200:
            self._fail(r, f"report of drill {drill_id}")
        return r.text

    def end(self, drill_id: int) -> str:
        r = self._call("POST", f"/trainee/drills/{drill_id}/end", json={},
                       headers={"Accept": "application/json", "X-CSRFToken": self.csrf})
        if r.status_code != 200:
            self._fail(r, f"end drill {drill_id}")
        return r.json()["drill"]["status"]
