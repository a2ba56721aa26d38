"""Security headers on every response, and a Content-Security-Policy the pages actually
satisfy: every GET page of the URL map, rendered for anonymous visitors and each role
(plus error, form-error and flash pages), is parsed and checked for what the policy
would block in a browser: inline scripts, event-handler attributes, inline styles, and
anything loaded from another origin (the app must also work offline). GET pages are
also checked to write nothing but audit entries, since CSRF tokens guard POST only.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from app.security import CSP
from tests.security.access import COLUMNS, EXPECTED
from tests.security.support import PASSWORD, db_fingerprint, expand, login, url_for_rule

STATIC = Path(__file__).resolve().parents[2] / "app" / "static"
URL_ATTRIBUTES = {"src", "href", "action", "formaction", "poster", "data", "srcset", "background", "manifest"}
ABSOLUTE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:|//)", re.I)  # a scheme or protocol-relative
ALLOWED_SCHEMES = ("data:image/",)  # img-src allows data: images


def policy(header: str) -> dict[str, set[str]]:
    out = {}
    for part in header.split(";"):
        name, *sources = part.split()
        out[name] = set(sources)
    return out


def _src(directives: dict, name: str) -> set[str]:
    return directives.get(name, directives.get("default-src", set()))


class Violations(HTMLParser):
    """Collects what the policy forbids in one HTML page."""

    def __init__(self, directives: dict):
        super().__init__(convert_charrefs=True)
        self.inline_script_ok = "'unsafe-inline'" in _src(directives, "script-src")
        self.inline_style_ok = "'unsafe-inline'" in _src(directives, "style-src")
        self.found: list[str] = []
        self._script_without_src = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if name.startswith("on") and not self.inline_script_ok:
                self.found.append(f"<{tag} {name}=...> event handler")
            if name == "style" and not self.inline_style_ok:
                self.found.append(f"<{tag} style=...>")
            if name in URL_ATTRIBUTES and value and ABSOLUTE.match(value) and not value.startswith(ALLOWED_SCHEMES):
                self.found.append(f"<{tag} {name}={value!r}> another origin or scheme")
        if tag == "script":
            self._script_without_src = "src" not in attrs
            if self._script_without_src and not self.inline_script_ok:
                self.found.append("inline <script>")
        if tag == "style" and not self.inline_style_ok:
            self.found.append("<style> element")
        if tag in {"iframe", "object", "embed", "frame"}:
            self.found.append(f"<{tag}> (object-src/frame-src)")
        if tag == "meta" and attrs.get("http-equiv", "").lower() == "refresh":
            self.found.append("<meta http-equiv=refresh>")

    def handle_data(self, data):
        if "url(" in data and re.search(r"url\(\s*['\"]?\s*(https?:)?//", data):
            self.found.append("CSS url() of another origin")


def check_headers(response) -> list[str]:
    h, problems = response.headers, []
    if h.get("Content-Security-Policy") != CSP:
        problems.append("Content-Security-Policy missing or different")
    if h.get("X-Content-Type-Options") != "nosniff":
        problems.append("X-Content-Type-Options")
    if h.get("X-Frame-Options") != "DENY":
        problems.append("X-Frame-Options")
    if h.get("Referrer-Policy") not in {"same-origin", "strict-origin-when-cross-origin", "no-referrer"}:
        problems.append("Referrer-Policy")
    if response.mimetype == "text/html" and "no-store" not in h.get("Cache-Control", ""):
        problems.append("Cache-Control: no-store on a page")
    return problems


def check_page(response) -> list[str]:
    problems = check_headers(response)
    if response.mimetype == "text/html":
        parser = Violations(policy(CSP))
        parser.feed(response.get_data(as_text=True))
        problems += parser.found
    return problems


def test_the_policy_itself_is_strict():
    d = policy(CSP)
    for name in ("default-src", "script-src", "style-src", "img-src", "font-src", "connect-src", "form-action"):
        sources = d[name]
        assert sources and sources <= {"'self'", "data:"}, (name, sources)
    assert "data:" not in d["script-src"] | d["style-src"] | d["default-src"]
    assert d["object-src"] == {"'none'"} and d["frame-ancestors"] == {"'none'"} and d["base-uri"] == {"'self'"}


def test_the_page_checker_finds_what_the_policy_blocks():
    page = ('<html><head><style>p{}</style><script>go()</script><script src="/static/ok.js"></script>'
            '<link rel="stylesheet" href="https://cdn.example/x.css"></head><body onload="x()">'
            '<p style="color:red">x</p><img src="data:image/png;base64,AA"><img src="//evil.example/i.png">'
            '<a href="javascript:alert(1)">x</a><form action="http://evil.example/"></form>'
            '<svg xmlns="http://www.w3.org/2000/svg"><rect fill="red"/></svg><iframe src="/x"></iframe></body></html>')
    parser = Violations(policy(CSP))
    parser.feed(page)
    assert len(parser.found) == 9, parser.found  # all but the script file, the data: image and the svg


def _get_urls(app, column: str, values: dict) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and EXPECTED[(rule.endpoint, "GET")][column] == "ok":
            urls += [url_for_rule(app, rule, {**values, **extra}) for extra in expand(rule)]
    return sorted(set(urls))


def _extra_pages(client, column: str, world) -> list:
    """Pages in other states: errors, forms with errors, a flash message after a redirect."""
    responses = [client.get("/no-such-page"), client.get("/trainee/drills/999999")]
    if column == "anonymous":
        responses.append(client.post("/login", data={"username": "trainee-a", "password": "wrong-password"}))
        return responses
    responses.append(client.get({"trainee": "/hr/", "trainer": "/admin/", "hr": "/trainer/",
                                 "admin": "/trainee/"}[column]))  # a 403 page
    if column == "trainee":
        responses.append(client.post("/trainee/start/billing_complaint", data={"persona": "nobody"}))
        client.post(f"/trainee/drills/{world.a.live_drill}/end")
        responses.append(client.get(f"/trainee/drills/{world.a.live_drill}"))  # an ended drill
        responses.append(client.get(f"/trainee/drills/{world.a.live_drill}/report"))
        responses.append(client.post("/trainee/certification/core/start", follow_redirects=True))  # flash
    if column == "trainer":
        responses.append(client.post("/trainer/assignments/new", data={"title": ""}))
        responses.append(client.get("/trainer/analytics?start=2030-01-02&end=2030-01-01"))
        responses.append(client.get(f"/trainer/marking/?answer={world.a.answer}"))
        responses.append(client.post(f"/trainer/review/{world.a.scored_drill}/release", follow_redirects=True))
    if column == "hr":
        responses.append(client.get("/hr/?grade=nonsense"))
    if column == "admin":
        responses.append(client.post("/admin/users/new", data={"username": "", "password": "short"}))
        responses.append(client.post("/admin/cohorts", data={"name": "新班组"}, follow_redirects=True))
    return responses


@pytest.mark.parametrize("column", COLUMNS)
def test_every_page_has_the_headers_and_satisfies_the_policy(app, client, world, column):
    if column != "anonymous":
        login(client, world.user_id(column))
    urls = _get_urls(app, column, world.values(column if column != "anonymous" else "trainee"))
    problems, pages = [], 0
    before = db_fingerprint(skip={"audit_events"})
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        problems += [f"{url}: {p}" for p in check_page(response)]
        pages += response.mimetype == "text/html"
        response.close()
    # A GET changes nothing (exports and downloads only add their audit entries).
    assert db_fingerprint(skip={"audit_events"}) == before
    for response in _extra_pages(client, column, world):
        problems += [f"{response.request.path} [{response.status_code}]: {p}" for p in check_page(response)]
        pages += response.mimetype == "text/html"
    assert not problems, "\n".join(problems)
    assert pages >= {"anonymous": 3, "trainee": 10, "trainer": 15, "hr": 5, "admin": 6}[column]


def test_redirects_and_refusals_carry_the_headers_too(app, client, world):
    responses = [client.get("/trainee/"), client.get("/"), client.open("/admin/", method="OPTIONS"),
                 client.get("/static/app.css"), client.post("/logout")]
    login(client, world.hr)
    responses += [client.get("/admin/"), client.get("/hr/export/csv"), client.get("/hr/drills/1/transcript.pdf")]
    for response in responses:
        assert not check_headers(response), (response.request.path, check_headers(response))
        response.close()


def test_static_assets_need_nothing_the_policy_blocks():
    """No script evaluates strings or writes markup/inline styles, and no stylesheet or
    script reaches another origin."""
    risky_js = re.compile(r"\beval\s*\(|new\s+Function\s*\(|set(?:Timeout|Interval)\s*\(\s*['\"`]|innerHTML|"
                          r"outerHTML|insertAdjacentHTML|document\.write|setAttribute\(\s*['\"](?:style|on)|cssText")
    remote = re.compile(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.I)
    files = sorted(p for p in STATIC.rglob("*") if p.suffix in {".js", ".css"})
    assert files
    for path in files:
        text = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
        text = re.sub(r"^\s*//.*$", "", text, flags=re.M)
        if path.suffix == ".js":
            assert not risky_js.search(text), (path.name, risky_js.search(text).group(0))
        else:
            assert not re.search(r"@import", text), path.name
        assert not remote.search(text), (path.name, remote.search(text).group(0))


def test_throttled_login_page_satisfies_the_policy(app, client, world):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/login", data={"username": "trainee-a", "password": "wrong-password"})
    r = client.post("/login", data={"username": "trainee-a", "password": PASSWORD})
    assert r.status_code == 429 and not check_page(r)


def test_a_server_error_shows_no_internals(app_factory):
    """Outside testing, an unexpected exception is a plain 500 page with the headers, no
    traceback, exception text or file path."""
    app = app_factory(TESTING=False)

    def boom():
        raise ZeroDivisionError("secret internal detail in /srv/app/services/x.py")

    app.add_url_rule("/boom", "boom", boom)
    with app.app_context():
        r = app.test_client().get("/boom")
        assert r.status_code == 500 and not check_page(r)
        body = r.get_data(as_text=True)
        assert "ZeroDivisionError" not in body and "secret internal detail" not in body
        assert "Traceback" not in body and ".py" not in body
