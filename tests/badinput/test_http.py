"""Bad input over HTTP, generated from the app's URL map: every route gets invalid ids,
hostile strings in its path and query, malformed and oversized bodies; the drill's JSON
endpoint gets every broken turn we could think of; names and texts carrying HTML are
rendered back on every page that shows them.

The rule for all of it: a 4xx answer with a message (a JSON `error`, an error page, a
form shown again with its faults), never a 500. A few inputs are *handled* rather than
refused (a ?page= past the end shows the last page; control characters are stripped
from a turn that still has words); those are counted as "handled" and named as such.

Each suite counts what it sent. With HOTLINE_RECORD_RESULTS=1 the counts per category
and outcome go to the `badinput` section of benchmarks/RESULTS.md.
"""
from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from markupsafe import escape
from werkzeug.datastructures import MultiDict

from app.extensions import db
from badinput_results import CATEGORIES, TALLY  # tests/badinput/: the counts of every suite here

# --- counting ---------------------------------------------------------------------------


class Prober:
    """Sends bad requests, classifies each answer, collects the failures to report at once."""

    def __init__(self, clients, database: str):
        self.clients, self.database, self.failures = clients, database, []

    def send(self, category: str, role: str, method: str, url: str, *, handled_ok: bool = False, **kwargs):
        """One bad request. 4xx with a message is the expected answer; `handled_ok` also
        accepts a 2xx/3xx (inputs the app may legitimately absorb). A 5xx or an exception
        (the testing config re-raises what would be a 500) is always a failure."""
        assert category in CATEGORIES
        what = f"{role} {method.upper()} {url[:120]!r} {str(kwargs)[:160]}"
        try:
            response = self.clients[role].request(method, url, **kwargs)
        except Exception as exc:  # noqa: BLE001 - this is what the suite is looking for
            db.session.rollback()
            TALLY[self.database][(category, "5xx")] += 1
            self.failures.append(f"{what}: 500 ({type(exc).__name__}: {str(exc)[:200]})")
            return None
        status = response.status_code
        outcome = "5xx" if status >= 500 else "4xx" if status >= 400 else "handled"
        TALLY[self.database][(category, outcome)] += 1
        if outcome == "5xx" or (outcome == "handled" and not handled_ok):
            self.failures.append(f"{what}: {status}")
        elif outcome == "4xx" and not _has_message(response):
            self.failures.append(f"{what}: {status} without a message")
        return response

    def check(self):
        assert not self.failures, f"{len(self.failures)} bad answers:\n" + "\n".join(self.failures[:60])


def _has_message(response) -> bool:
    if response.is_json:
        body = response.get_json(silent=True) or {}
        return bool(body.get("error") or body.get("errors") or body.get("faults"))
    html = response.get_data(as_text=True)
    return (f"<h1>{response.status_code}</h1>" in html or 'class="error"' in html
            or "flash-error" in html or "has-error" in html)


@pytest.fixture
def prober(clients, web_app, request):
    database = "postgres" if "postgres" in request.node.name else "sqlite"
    return Prober(clients, database)


# --- the URL map ------------------------------------------------------------------------

ROLE_OF_BLUEPRINT = {"trainee": "trainee", "trainer": "trainer", "hr": "hr", "admin": "admin", "auth": "anonymous",
                     "editor": "trainer",
                     "notices": "trainee",  # every role has notices; a trainee is the one who gets most
                     "verify": "anonymous"}
BAD_IDS = ("0", "abc", "-1", "1.5", "1e3", "%20%201", str(2**31 - 1), str(2**31), str(2**63), str(10**30),
           "9" * 400, "٣")  # the last: an Arabic-Indic digit, which int() would accept
HOSTILE = ("<script>alert(1)</script>", "%00", "..%2F..%2Fetc%2Fpasswd", "x" * 3000, "%E2%80%AE", "%FF%FE",
           "' OR 1=1 --", "%0D%0ASet-Cookie:x=1", "{{7*7}}")


def _rules(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        role = ROLE_OF_BLUEPRINT[rule.endpoint.split(".")[0]]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, role, method


def _good_values(people):
    return {"drill_id": people["drill_id"], "user_id": people["users"]["trainee"].id, "assignment_id": 1,
            "answer_id": 1, "result_id": 1, "scenario_id": "billing_complaint", "track_id": "core",
            "case_id": "c1", "rubric_id": "standard-100", "language": "zh-CN", "code": "en", "fmt": "json",
            "export_format": "csv", "cohort_id": people["cohort"].id, "job_id": 1,
            "draft_id": 1, "playtest_id": people["drill_id"]}


def _build(rule, values: dict) -> str:
    url = rule.rule
    for arg in rule.arguments:
        url = re.sub(r"<(?:[^:<>]+:)?" + arg + r"(?:\([^)]*\))?>", str(values[arg]), url)
    return url


def test_invalid_ids_in_every_route(web_app, people, prober):
    """Every <int:> part of every route, each method, as the role the blueprint serves."""
    good = _good_values(people)
    sent = 0
    for rule, role, method in _rules(web_app):
        int_args = [a for a in rule.arguments if a.endswith("_id") and a not in {"scenario_id", "track_id",
                                                                                 "case_id", "rubric_id"}]
        for arg in int_args:
            for bad in BAD_IDS:
                prober.send("ids", role, method, _build(rule, {**good, arg: bad}))
                sent += 1
    assert sent > 100  # the map has ~30 routes with ids: guard against silently finding none
    prober.check()


@pytest.mark.parametrize("web_app", ["sqlite"], indirect=True)  # routing and rendering, not the database
def test_hostile_strings_in_path_parts(web_app, people, prober):
    good = _good_values(people)
    for rule, role, method in _rules(web_app):
        if rule.endpoint in SLOW:  # one hostile id each (the rest are the same lookup)
            if rule.arguments:
                prober.send("path_strings", role, method, _build(rule, {**good, "scenario_id": HOSTILE[0],
                                                                        "rubric_id": HOSTILE[0]}))
            continue
        for arg in rule.arguments:
            if arg in {"scenario_id", "track_id", "case_id", "rubric_id", "language", "code", "fmt", "export_format"}:
                for bad in HOSTILE:
                    response = prober.send("path_strings", role, method, _build(rule, {**good, arg: bad}),
                                           handled_ok=(arg == "code"))  # an unknown language is ignored
                    if response is not None and response.status_code < 400:
                        assert arg == "code" and response.status_code == 302
    prober.check()


# The query parameters each page reads (all other pages get every one of them at once).
READS = {
    "hr.home": ("page", "cohort", "track", "grade", "since", "until"),
    "trainer.review_queue": ("trainee", "scenario", "date_from", "date_to", "score_min", "score_max", "flagged",
                             "unreviewed"),
    "trainer.analytics_page": ("cohort", "start", "end"),
    "trainer.marking": ("answer",),
    "auth.login": ("next",),
}
ALL_NAMES = sorted({n for names in READS.values() for n in names})
QUERY_VALUES = (str(10**30), str(2**31), "-1", "abc", "nan", "\x00", "<script>alert(1)</script>", "0000-01-01",
                "99999-01-01", "9" * 5000, "//evil.example")
# Sent to each parameter a page reads on its own (the others go to all parameters at once).
ONE_BY_ONE = (str(10**30), "-1", "\x00", "<script>alert(1)</script>", "9" * 5000)
# The library pages validate every data file on each request (about 2 s): one visit each.
SLOW = {"trainer.library", "trainer.library_rubric", "trainer.library_scenario"}


def test_hostile_query_parameters_on_every_page(web_app, people, prober):
    """Each GET page with the query parameters it reads, one at a time, and every page with
    all of them at once.

    A bad filter may be refused (400) or ignored (200): both are fine; a 5xx is not. Where
    a 200 shows the value back, it is escaped."""
    good = _good_values(people)
    # PostgreSQL differs from SQLite in what overflows or cannot be stored: numbers and NUL.
    values = QUERY_VALUES if prober.database == "sqlite" else (str(10**30), str(2**31), "-1", "\x00", "9" * 5000)
    for rule, role, method in _rules(web_app):
        if method != "GET" or "<fmt>" in rule.rule or rule.endpoint in ("hr.export", "hr.certificate"):
            continue
        if rule.endpoint == "auth.login":
            role = "anonymous"
        base = _build(rule, good)
        for value in QUERY_VALUES[6:7] if rule.endpoint in SLOW else values:
            for name in READS.get(rule.endpoint, ()) if value in ONE_BY_ONE else ():
                response = prober.send("query", role, "get", base, handled_ok=True, query_string={name: value})
                if response is not None and response.status_code == 200 and "<script>" in value:
                    assert value not in response.get_data(as_text=True), (base, name)
            prober.send("query", role, "get", base, handled_ok=True, query_string=[(n, value) for n in ALL_NAMES])
    # The exports stream files: an unknown cohort or track is an empty file, a bad date a 400.
    for fmt in ("csv", "xlsx", "xapi"):
        url = f"/hr/export/{fmt}"
        for value in values:
            prober.send("query", "hr", "get", url, handled_ok=True, query_string={"cohort": value, "track": value})
            prober.send("query", "hr", "get", url, query_string={"since": value})
            prober.send("query", "hr", "get", url, query_string={"grade": value})
        prober.send("query", "hr", "get", url, query_string={"since": "2026-12-01", "until": "2026-01-01"})
    prober.check()


# --- form posts ---------------------------------------------------------------------------

def _valid_forms(people):
    """A valid body per form route: the starting point of the mutations."""
    users = people["users"]
    return {
        "/login": ("anonymous", {"username": "bad-trainee", "password": "wrong-password"}),
        "/admin/users/new": ("admin", {"username": "newuser", "display_name": "New", "role": "trainee",
                                       "cohort_ids": str(people["cohort"].id), "password": "password-123"}),
        # (The HR user, not the trainee: a mutation may deactivate the account it edits.)
        f"/admin/users/{users['hr'].id}": ("admin", {"display_name": "H", "role": "hr", "active": "y"}),
        f"/admin/users/{users['hr'].id}/password": ("admin", {"password": "password-456",
                                                              "confirm": "password-456"}),
        "/admin/cohorts": ("admin", {"name": "cohort-x", "trainer_id": str(users["trainer"].id)}),
        "/trainer/assignments/new": ("trainer", {"title": "A", "language": "zh-CN",
                                                 "scenario_ids": "billing_complaint", "persona": "",
                                                 "mode": "practice", "min_attempts": "1", "pass_mark": "80",
                                                 "hint_penalty": "2", "report_release": "immediate",
                                                 "cohort_ids": str(people["cohort"].id)}),
        "/trainee/start/billing_complaint": ("trainee", {"persona": "calm", "customer": "scripted", "seed": "3"}),
        "/trainer/upload": ("trainer", {"trainee_id": "0", "external_agent": "agent-x"}),
    }


WRONG_VALUES_ALL = ("", " ", "\x00", "\x00\x01\x1b[31m", "<script>alert(1)</script>", "x" * 100_000, "9" * 5000,
                str(10**30), "-1", "1e309", "nan", "\ud800".encode("utf-8", "surrogatepass").decode("latin-1"),
                "\u202e\u200b", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢")
# In CI: one of each kind (NUL and markup, huge text, huge number, empty); all behind -m slow.
WRONG_VALUES_CI = ("", "\x00<script>alert(1)</script>", "x" * 100_000, "9" * 5000)


@pytest.mark.parametrize("wrong_values", [pytest.param(WRONG_VALUES_CI, id="ci"),
                                          pytest.param(WRONG_VALUES_ALL, id="all", marks=pytest.mark.slow)])
def test_malformed_form_posts(web_app, people, prober, wrong_values):
    """Each form route: each field dropped, each field set to each wrong value, each field
    sent twice with conflicting values, unknown fields, JSON bodies, a non-form content type.

    Dropping a required field must give 4xx. A wrong value may be accepted when the field
    takes any text (a display name may contain '<script>': it is escaped when shown);
    nothing may give a 5xx."""
    required = {"/login": {"username", "password"}, "/admin/users/new": {"username", "display_name", "password"},
                "/admin/cohorts": {"name"}, "/trainer/assignments/new": {"title", "scenario_ids"},
                "/trainee/start/billing_complaint": {"persona"}}  # the customer kind defaults to scripted
    for url, (role, valid) in _valid_forms(people).items():
        for field in valid:
            body = {k: v for k, v in valid.items() if k != field}
            prober.send("forms", role, "post", url, handled_ok=field not in required.get(url, set()), data=body)
            for wrong in wrong_values:
                prober.send("forms", role, "post", url, handled_ok=True, data={**valid, field: wrong})
            prober.send("forms", role, "post", url, handled_ok=True,
                        data=MultiDict([*valid.items(), (field, "<script>alert(1)</script>"), (field, "")]))
        prober.send("forms", role, "post", url, handled_ok=True, data={**valid, "unknown": "x", "id": "1"})
        prober.send("forms", role, "post", url, handled_ok=not required.get(url), data={})
        for body in ("{bad", "[1,2]", json.dumps(valid), "[" * 50_000, "1" * 5000, "\xff"):
            prober.send("forms", role, "post", url, handled_ok=not required.get(url), data=body.encode("latin-1"),
                        content_type="application/json")
        prober.send("forms", role, "post", url, handled_ok=not required.get(url),
                    data=b"\xff\xfe\x00garbage", content_type="application/x-www-form-urlencoded")
        prober.send("forms", role, "post", url, handled_ok=not required.get(url), data=b"<xml/>",
                    content_type="text/xml")
    # POST-only action routes: missing and garbage bodies.
    for rule, role, method in _rules(web_app):
        if method == "POST" and rule.endpoint not in {"trainee.post_turn"}:
            url = _build(rule, _good_values(people))
            if url in _valid_forms(people):
                continue
            for body in ({}, {"persona": "\x00"}, {"answer": "x" * 100_000}, {"kp-x": "abc", "feedback": "\x00"}):
                prober.send("forms", role, "post", url, handled_ok=True, data=body)
            prober.send("forms", role, "post", url, handled_ok=True, data="{bad", content_type="application/json")
    prober.check()


# --- the drill's JSON endpoint --------------------------------------------------------------

def _turn_bodies():
    """(label, request kwargs, expected): a 4xx status, or the text the turn is stored as
    once cleaned (control characters dropped, line breaks made spaces)."""
    J = "application/json"
    out = [
        ("2001 chars", {"json": {"text": "好" * 2001}}, 400),
        ("100k chars", {"json": {"text": "a" * 100_000}}, 400),
        ("empty", {"json": {"text": ""}}, 400),
        ("blank", {"json": {"text": " \t\n\u3000 "}}, 400),
        ("controls only", {"json": {"text": "\x00\x01\x07\x1b\x7f"}}, 400),
        ("no text", {"json": {}}, 400),
        ("null text", {"json": {"text": None}}, 400),
        ("number text", {"json": {"text": 12}}, 400),
        ("list text", {"json": {"text": ["a"]}}, 400),
        ("object text", {"json": {"text": {"a": 1}}}, 400),
        ("bool text", {"json": {"text": True}}, 400),
        # -1 is "no turn seen yet" (an outbound call); anything below is no position.
        ("negative after", {"json": {"text": "您好", "after": -2}}, 400),
        ("float after", {"json": {"text": "您好", "after": 1.5}}, 400),
        ("bool after", {"json": {"text": "您好", "after": True}}, 400),
        ("string after", {"json": {"text": "您好", "after": "0"}}, 400),
        ("2**31 after", {"json": {"text": "您好", "after": 2**31}}, 400),
        ("10**30 after", {"json": {"text": "您好", "after": 10**30}}, 400),
        ("huge JSON int", {"data": '{"text": "您好", "after": ' + "9" * 5000 + "}", "content_type": J}, 400),
        ("1e400 after", {"data": '{"text": "您好", "after": 1e400}', "content_type": J}, 400),
        ("NaN after", {"data": '{"text": "您好", "after": NaN}', "content_type": J}, 400),
        ("string retry", {"json": {"retry": "yes"}}, 400),
        ("string stream", {"json": {"text": "您好", "stream": "yes"}}, 400),
        ("list body", {"json": ["text", "您好"]}, 400),
        ("string body", {"json": "您好"}, 400),
        ("null body", {"data": "null", "content_type": J}, 400),
        ("malformed", {"data": '{"text": "您好"', "content_type": J}, 400),
        ("deep array", {"data": "[" * 100_000, "content_type": J}, 400),
        ("deep object", {"data": '{"a":' * 100_000, "content_type": J}, 400),
        ("invalid UTF-8", {"data": b'{"text": "\xff\xfe\xc0\x80"}', "content_type": J}, 400),
        ("lone surrogate", {"data": '{"text": "\\ud800"}', "content_type": J}, 400),  # dropped: empty
        # JSON may come in UTF-16 (RFC 8259 readers detect it): a turn like any other.
        ("UTF-16 body", {"data": '{"text": "您好"}'.encode("utf-16"), "content_type": J}, "您好"),
        ("form body", {"data": {"text": "您好"}}, 400),
        ("text/plain body", {"data": "您好", "content_type": "text/plain"}, 400),
        ("no body", {}, 400),
        ("duplicate keys", {"data": '{"text": "", "text": ""}', "content_type": J}, 400),
    ]
    # Accepted after cleaning: control characters (Cc) dropped, line breaks made spaces;
    # format characters (bidi, zero width) are kept, as the trainee typed them, and shown
    # escaped like the rest.
    for label, text, stored in (("NUL inside", "您好\x00，工号1024", "您好，工号1024"),
                                ("escape codes", "\x1b[31m您好\x1b[0m", "[31m您好[0m"),
                                ("bidi override", "\u202e您好", "\u202e您好"), ("zero width", "您\u200b好", "您\u200b好"),
                                ("script", "<script>alert(1)</script>", "<script>alert(1)</script>"),
                                ("2000 chars", "好" * 2000, "好" * 2000),
                                ("line breaks", "您好\r\n\u2028工号\t1024", "您好 工号 1024")):
        out.append((label, {"json": {"text": text}}, stored))
    return out


def _agent_text(response, stream: bool) -> str:
    """The agent turn an accepted turn request answers with (JSON or the NDJSON events)."""
    if stream:
        events = [json.loads(line) for line in response.get_data(as_text=True).splitlines() if line.strip()]
        return next(e["turn"]["text"] for e in events if e.get("type") == "agent")
    return next(t["text"] for t in response.get_json()["turns"] if t["speaker"] == "agent")


def test_broken_turns(web_app, people, prober, clients):
    """Each broken body twice, as JSON and as a stream request. A refused one is refused
    both times with its status, and nothing is stored. An accepted one gets a drill of its
    own (so the customer's answers cannot end the call under the next one): the first
    request stores the cleaned text as a new exchange (200); the second is the same words
    again without `after`, a resend, answered 200 with that stored exchange and stored
    nothing (issue 16: resends are recognised)."""
    from sqlalchemy import func, select

    from app.models import Turn
    from app.services.drills import start_drill

    def stored(drill_id):
        db.session.expire_all()
        return db.session.scalar(select(func.count(Turn.id)).where(Turn.drill_id == drill_id))

    refused_on = people["drill_id"]
    for n, (label, kwargs, expected) in enumerate(_turn_bodies()):
        drill_id = refused_on
        if isinstance(expected, str):
            drill_id = start_drill(people["users"]["trainee"], "billing_complaint", "zh-CN", "calm", "scripted",
                                   seed=100 + n).id
        before = stored(drill_id)
        for stream in (False, True):
            if stream and isinstance(kwargs.get("json"), dict) and "stream" not in kwargs["json"]:
                kwargs = {"json": {**kwargs["json"], "stream": True}}
            response = prober.send("turns", "trainee", "post", f"/trainee/drills/{drill_id}/turns",
                                   handled_ok=isinstance(expected, str), headers={"Accept": "application/json"},
                                   **kwargs)
            if response is None:
                continue
            if isinstance(expected, int):
                assert response.status_code == expected, (label, response.status_code, response.data[:200])
                assert stored(drill_id) == before, (label, "a refused turn was stored")
                continue
            assert response.status_code == 200, (label, stream, response.status_code, response.data[:200])
            streamed = isinstance(kwargs.get("json"), dict) and kwargs["json"].get("stream") is True
            assert _agent_text(response, streamed) == expected, (label, stream)
            # The first request stores the agent's turn and the reply; its resend stores nothing.
            assert stored(drill_id) == before + 2, (label, stream, before, stored(drill_id))
    # What was accepted is stored without control characters, and shown escaped.
    for drill_id in {d for d in _trainee_drills(people)}:
        page = clients["trainee"].get(f"/trainee/drills/{drill_id}").get_data(as_text=True)
        assert "<script>alert(1)</script>" not in page and "\x00" not in page and "\x1b" not in page
    prober.check()


def _trainee_drills(people) -> list[int]:
    from sqlalchemy import select

    from app.models import Drill

    return list(db.session.scalars(select(Drill.id).where(Drill.trainee_id == people["users"]["trainee"].id)))


@pytest.mark.parametrize("web_app", ["sqlite"], indirect=True)  # routing and rendering, not the database
def test_bodies_over_the_size_cap(web_app, people, prober):
    """Every POST route with a body one byte over MAX_CONTENT_LENGTH, as a form, as JSON and
    as raw bytes. Form routes read the body and answer 413 with the cap in words; routes
    that never read a body (end, hint) may answer as usual; nothing is a 5xx."""
    # The same code path as the production cap of 5 MiB, at a fifth of the bytes to send.
    web_app.config["MAX_CONTENT_LENGTH"] = cap = 2**20
    over = b"f=" + b"x" * cap  # pre-encoded: the test client would quote a str byte by byte
    form_routes = set(_valid_forms(people))
    for rule, role, method in _rules(web_app):
        if method != "POST":
            continue
        url = _build(rule, _good_values(people))
        for kind in ("application/x-www-form-urlencoded", "application/json", "application/octet-stream"):
            response = prober.send("size", role, "post", url, handled_ok=url not in form_routes, data=over,
                                   content_type=kind)
            if response is not None and url in form_routes and kind.endswith("urlencoded"):
                assert response.status_code == 413, (url, response.status_code)
                assert "每次最多 1 MB" in response.get_data(as_text=True)  # "at most 1 MB at a time"
    prober.check()


# --- transcript uploads ------------------------------------------------------------------------

def _transcript(**over):
    doc = {"format": "transcript/1", "scenario": "billing_complaint", "language": "zh-CN",
           "turns": [{"speaker": "customer", "text": "你们多扣了我五十块钱！"},
                     {"speaker": "agent", "text": "您好，工号1024，请问机主姓名和身份证后四位？"}]}
    doc.update(over)
    return doc


def _bad_uploads():
    t = _transcript
    turn = lambda **kw: t(turns=[{"speaker": "agent", "text": "您好", **kw}])  # noqa: E731
    docs = [b"", b"\xff\xfe\x00", b"{bad", b"[" * 100_000, b'{"a":' * 100_000, b"null", b"[]", b'"x"',
            json.dumps(t(format="transcript/2")).encode(), json.dumps(t(scenario="nope")).encode(),
            json.dumps(t(turns=[])).encode(), json.dumps(t(turns="x")).encode(),
            json.dumps(t(turns=[{"speaker": "boss", "text": "x"}])).encode(),
            json.dumps(turn(text="")).encode(), json.dumps(turn(text=5)).encode(),
            json.dumps(turn(at="9999-12-31T23:59:59-14:00")).encode(),
            json.dumps(turn(at="0001-01-01T00:00:00+14:00")).encode(),
            json.dumps(t(started_at="0001-01-01T00:00:00+14:00")).encode(),
            json.dumps(t(started_at="9999-12-31T23:59:59.999999-23:59")).encode(),
            json.dumps(turn(at="2026-13-45")).encode(), json.dumps(t(language="<script>")).encode(),
            json.dumps(t(persona="p" * 500)).encode(), json.dumps(t(agent={"id": "a" * 500})).encode(),
            json.dumps(t(agent={"id": ""})).encode(), json.dumps(t(extra=1)).encode(),
            json.dumps(turn(meta={"deep": json.loads("[" * 200 + "]" * 200)})).encode(),
            ('{"format": "transcript/1", "scenario": "billing_complaint", "turns": [{"speaker": "agent", '
             '"text": "x", "meta": {"n": ' + "9" * 5000 + "}}]}").encode(),
            json.dumps(turn(text="您好\u0000工号")).encode(), json.dumps(turn(meta={"k": "\u0000"})).encode(),
            json.dumps(t(persona="\u0000")).encode(), json.dumps(t(agent={"id": "a\u0000"})).encode()]
    return docs


def test_broken_transcript_uploads(web_app, people, prober):
    """Each broken file alone (JSON route: 422 with faults naming the file), and all of them
    in one batch (page route: each file's faults listed); nothing of a refused file is kept."""
    from sqlalchemy import func, select

    from app.models import Drill, Turn

    def counts():
        db.session.rollback()
        return db.session.scalar(select(func.count(Drill.id))), db.session.scalar(select(func.count(Turn.id)))

    from io import BytesIO

    docs = _bad_uploads()
    for i, raw in enumerate(docs):
        before = counts()
        response = prober.send("uploads", "trainer", "post", "/trainer/upload/file", handled_ok=True,
                               data={"trainee_id": "0", "external_agent": "agent-x",
                                     "files": (BytesIO(raw), f"call{i}.json")},
                               content_type="multipart/form-data")
        if response is not None and response.status_code == 201:
            continue  # accepted as is (e.g. a NUL stripped from free meta): fine, it is a call
        if response is not None:
            body = response.get_json()
            assert response.status_code == 422 and body["faults"], (i, response.status_code, body)
            assert all(f.startswith(f"call{i}.json: ") for f in body["faults"]), body["faults"]
            assert "internal error" not in " ".join(body["faults"]), (i, raw[:200], body["faults"])
            assert counts() == before, f"file {i} was refused but left rows behind"
    batch = [(BytesIO(raw), f"batch{i}.json") for i, raw in enumerate(docs)]
    prober.send("uploads", "trainer", "post", "/trainer/upload", handled_ok=True,
                data={"trainee_id": "0", "external_agent": "agent-x", "files": batch},
                content_type="multipart/form-data")
    prober.check()


# --- markup in everything shown back -----------------------------------------------------------

PAYLOADS = ('<script>alert("x1")</script>', '<img src=x onerror=alert("x2")>', '"><svg onload=alert("x3")>',
            "</textarea><b>x4</b>", "{{ 7*7 }}<i>x5</i>")


@pytest.mark.parametrize("web_app", ["sqlite"], indirect=True)  # routing and rendering, not the database
def test_markup_is_escaped_wherever_it_is_shown(web_app, people, prober, clients):
    """HTML in user names, cohort names, assignment titles, drill turns, uploaded calls and
    review reasons: every page that shows them has the escaped text and never the raw."""
    from io import BytesIO

    p1, p2, p3, p4, p5 = PAYLOADS
    users = people["users"]
    # Stored through the app's own forms and endpoints, as a user would.
    prober.send("markup", "admin", "post", f"/admin/users/{users['trainee'].id}", handled_ok=True,
                data={"display_name": p1, "role": "trainee", "cohort_ids": str(people["cohort"].id), "active": "y"})
    prober.send("markup", "admin", "post", "/admin/cohorts", handled_ok=True,
                data={"name": p2, "trainer_id": str(users["trainer"].id)})
    prober.send("markup", "admin", "post", "/admin/users/new", handled_ok=True,
                data={"username": "markup1", "display_name": p3, "role": "trainer", "password": "password-123"})
    prober.send("markup", "trainer", "post", "/trainer/assignments/new", handled_ok=True,
                data={"title": p4, "language": "zh-CN", "scenario_ids": "billing_complaint", "persona": "",
                      "mode": "practice", "min_attempts": "1", "pass_mark": "80", "hint_penalty": "2",
                      "report_release": "immediate", "cohort_ids": str(people["cohort"].id)})
    drill = people["drill_id"]
    prober.send("markup", "trainee", "post", f"/trainee/drills/{drill}/turns", handled_ok=True,
                json={"text": p5 + p1})
    prober.send("markup", "trainee", "post", f"/trainee/drills/{drill}/end", handled_ok=True)
    upload = _transcript(persona=p2[:60], agent={"id": "agent", "name": p3},
                         turns=[{"speaker": "customer", "text": p1}, {"speaker": "agent", "text": p4}])
    up = prober.send("markup", "trainer", "post", "/trainer/upload/file", handled_ok=True,
                     data={"trainee_id": "0", "external_agent": p5,
                           "files": (BytesIO(json.dumps(upload).encode()), p1 + ".json")},
                     content_type="multipart/form-data")
    assert up is not None and up.status_code == 201, up and up.data[:300]
    imported = up.get_json()["drill_id"]
    # Every page where any of it may appear.
    pages = [("admin", "/admin/"), ("admin", "/admin/cohorts"), ("admin", f"/admin/users/{users['trainee'].id}"),
             ("admin", "/admin/audit"), ("trainer", "/trainer/"), ("trainer", "/trainer/review"),
             ("trainer", f"/trainer/review/{drill}"), ("trainer", f"/trainer/drills/{drill}/report"),
             ("trainer", f"/trainer/review/{imported}"), ("trainer", f"/trainer/drills/{imported}/report"),
             ("trainer", "/trainer/assignments"), ("trainer", "/trainer/analytics"), ("trainer", "/trainer/upload"),
             ("trainee", "/trainee/"), ("trainee", f"/trainee/drills/{drill}"),
             ("trainee", f"/trainee/drills/{drill}/report"), ("hr", "/hr/"),
             ("hr", f"/hr/people/{users['trainee'].id}"), ("hr", f"/hr/drills/{drill}/report")]
    shown = Counter()
    for role, url in pages:
        response = clients[role].get(url)
        assert response.status_code == 200, (url, response.status_code)
        html = response.get_data(as_text=True)
        for payload in PAYLOADS:
            assert payload not in html, f"{url} shows {payload!r} unescaped"
            if str(escape(payload)) in html:
                shown[payload] += 1
            TALLY[prober.database][("markup", "escaped")] += 1
    # Each payload was shown somewhere (escaped): the check above did look at it.
    assert set(shown) == set(PAYLOADS), shown
    # The plain-text and JSON downloads carry the text as data, not markup to render.
    txt = clients["trainer"].get(f"/trainer/drills/{imported}/transcript.txt")
    assert txt.status_code == 200 and txt.mimetype == "text/plain"
    prober.check()
