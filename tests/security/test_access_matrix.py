"""The authorization matrix: every rule of the URL map × every method it accepts × every
role and anonymous, against the hand-written table in `access.py`, with URL arguments
filled from real rows the role is entitled to (cohort A's people of the `world`).

Supersedes tests/web/test_role_matrix.py, which covered GET pages by blueprint only.
"""
from __future__ import annotations

import pytest

from tests.security.access import COLUMNS, EXPECTED, HR_EXPORT_JOBS, OWNERSHIP, ROW_ARGUMENTS, SCORE_CHANGING
from tests.security.support import expand, login, url_for_rule

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def rule_methods(rule) -> list[str]:
    return sorted(rule.methods)


def requests_of(app, values: dict):
    """(endpoint, method, url) for every rule and accepted method; log-out last, since it
    ends the session the other requests need."""
    out = []
    for rule in app.url_map.iter_rules():
        for extra in expand(rule):
            url = url_for_rule(app, rule, {**values, **extra})
            for method in rule_methods(rule):
                out.append((rule.endpoint, method, url))
    return sorted(out, key=lambda r: (r[0] == "auth.logout", r[0], r[1], r[2]))


def expected(endpoint: str, method: str, column: str) -> str:
    if method == "HEAD":
        method = "GET"
    if method == "OPTIONS":
        if endpoint.startswith("auth.") or endpoint == "static":
            return "ok"  # no guard: the redirects in their rows come from the views
        row = EXPECTED.get((endpoint, "GET")) or EXPECTED.get((endpoint, "POST"))
        outcome = row[column]
        return outcome if outcome in {"login", "403"} else "ok"
    return EXPECTED[(endpoint, method)][column]


def outcome_of(response, method: str) -> str:
    """Name what the response means, in the table's words ("error <code>" when nothing fits)."""
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        return "login" if "/login" in response.headers["Location"].split("?")[0] else "redirect"
    if status in (403, 404):
        return str(status)
    if method in ("GET", "HEAD", "OPTIONS"):
        return "ok" if status == 200 else f"error {status}"
    # A state-changing request with no or partial input passes the guard and is then
    # refused by the view's own checks (400 bad form, 409 conflict, 422 bad upload).
    return "ok" if status < 500 and status not in (401, 405) else f"error {status}"


def test_every_rule_and_method_has_an_entry(app):
    missing, stale = [], set(EXPECTED)
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            stale.discard((rule.endpoint, method))
            if (rule.endpoint, method) not in EXPECTED:
                missing.append(f"{rule.endpoint} {method} ({rule.rule})")
    assert not missing, "routes without an entry in tests/security/access.py: " + ", ".join(sorted(missing))
    assert not stale, f"entries for routes that no longer exist: {sorted(stale)}"


def test_every_row_argument_has_an_ownership_decision(app):
    undecided = []
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            allowed = [c for c in COLUMNS[1:] if EXPECTED[(rule.endpoint, method)][c] == "ok"]
            for arg in sorted(rule.arguments & ROW_ARGUMENTS):
                if allowed and (rule.endpoint, arg) not in OWNERSHIP:
                    undecided.append(f"{rule.endpoint}:{arg}")
    assert not undecided, "add these to OWNERSHIP in tests/security/access.py: " + ", ".join(sorted(set(undecided)))


def test_hr_is_refused_every_score_changing_route_and_every_write():
    """HR reads; it changes nothing but its own session (log in/out, language), its
    own notifications (read marks, its e-mail address for them) and its own prepared
    exports (a job that writes a file for HR to download)."""
    for (endpoint, method), row in EXPECTED.items():
        if endpoint in SCORE_CHANGING:
            assert row["hr"] == "403", endpoint
        if method in STATE_CHANGING and not endpoint.startswith(("auth.", "notices.")) \
                and endpoint not in HR_EXPORT_JOBS:
            assert row["hr"] in {"403", "login"}, (endpoint, method)


@pytest.mark.parametrize("column", COLUMNS)
def test_access_matrix(app, client, world, column):
    if column != "anonymous":
        login(client, world.user(column))
    values = world.values(column if column != "anonymous" else "trainee")
    wrong, checked = [], 0
    for endpoint, method, url in requests_of(app, values):
        want = expected(endpoint, method, column)
        response = client.open(url, method=method)
        got = outcome_of(response, method)
        response.close()  # ends streamed exports inside their own request context
        if got == "redirect" and want == "ok" and method in STATE_CHANGING:
            got = "ok"  # a form post that passed the guard and redirects to its result
        if got != want:
            wrong.append(f"{method} {url} ({endpoint}): expected {want}, got {got} [{response.status_code}]")
        checked += 1
    assert not wrong, f"{column}: {len(wrong)} of {checked} checks differ:\n" + "\n".join(wrong)
    assert checked >= 150


def test_methods_a_rule_does_not_accept_are_405(app, client, world):
    """Routing answers before any guard, so one logged-in user stands for every role."""
    login(client, world.a.trainee)
    values, accepted = world.values("trainee"), {}
    for rule in app.url_map.iter_rules():  # two rules may share a URL (GET page, POST form)
        url = url_for_rule(app, rule, {**values, **expand(rule)[0]})
        accepted.setdefault(url, set()).update(rule.methods)
    wrong = []
    for url, methods in sorted(accepted.items()):
        for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - methods):
            status = client.open(url, method=method).status_code
            if status != 405:
                wrong.append(f"{method} {url}: {status}")
    assert not wrong, wrong
    assert len(accepted) > 40
