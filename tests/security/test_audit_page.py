"""The administrator's audit page: paged and filterable, anonymous failed logins folded
into one counted row per address and window (a flood of them used to push every real
event off a page of a fixed 200 rows), action names and details in words, not codes."""
from __future__ import annotations

import re
from datetime import timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select

from app.admin.audit_view import ACTION_LABELS
from app.extensions import db
from app.i18n import centre_zone
from app.models import AuditEvent
from app.models.base import utcnow
from tests.security.support import PASSWORD, login

ROOT = Path(__file__).resolve().parents[2]


def _rows(html: str) -> list[str]:
    return re.findall(r'<tr data-action="([^"]+)"', html)


def test_a_flood_of_failed_logins_is_one_counted_row_per_address(app, client, world):
    for n in range(12):
        client.post("/login", data={"username": f"guess-{n}", "password": "wrong-password"},
                    environ_base={"REMOTE_ADDR": "198.51.100.7"})
    client.post("/login", data={"username": "x", "password": "wrong-password"}, environ_base={"REMOTE_ADDR": "198.51.100.8"})
    rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed").order_by(AuditEvent.id)).all()
    assert [(e.ip, e.count) for e in rows] == [("198.51.100.7", 12), ("198.51.100.8", 1)]
    assert rows[0].detail["usernames"] == [f"guess-{n}" for n in range(12)]
    # a later window opens a new row
    db.session.execute(AuditEvent.__table__.update().values(at=utcnow() - timedelta(seconds=app.config["LOGIN_WINDOW_SECONDS"] + 1)))
    db.session.commit()
    client.post("/login", data={"username": "guess-0", "password": "wrong-password"}, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "login_failed")) == 3


def _flood(n: int, action: str = "login_failed") -> None:
    """`n` audit rows older than anything the test does next (as a flood would leave)."""
    at = utcnow() - timedelta(hours=1)
    db.session.execute(insert(AuditEvent), [{"action": action, "target": f"t{i}", "detail": {}, "ip": "198.51.100.9",
                                             "at": at, "count": 1} for i in range(n)])
    db.session.commit()


def test_real_events_stay_reachable_behind_any_number_of_rows(app, client, world):
    login(client, world.hr)
    client.get("/hr/export/csv").get_data()
    client.post("/logout")
    _flood(260)  # more than the old fixed page of 200, all newer than the export by id
    moved = utcnow() - timedelta(days=2)
    db.session.execute(AuditEvent.__table__.update().where(AuditEvent.action == "export").values(at=moved))
    db.session.commit()
    login(client, world.admin)
    first = client.get("/admin/audit").get_data(as_text=True)
    assert len(_rows(first)) == 50 and "export" not in _rows(first)
    pages = int(re.search(r"共 (\d+) 页", first).group(1))
    assert pages >= 6
    last = client.get(f"/admin/audit?page={pages}").get_data(as_text=True)
    assert "export" in _rows(last)
    assert _rows(client.get("/admin/audit?action=export").get_data(as_text=True)) == ["export"]
    by_user = client.get("/admin/audit?user=hr-1").get_data(as_text=True)
    # export_prepared: the world's HR user prepared an export when the world was built
    assert set(_rows(by_user)) == {"login", "export", "logout", "export_prepared"}
    # Date filters mean the centre's day: after 16:00 UTC a Shanghai day is already the next one.
    day = moved.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(centre_zone())).date().isoformat()
    by_day = client.get(f"/admin/audit?date_from={day}&date_to={day}").get_data(as_text=True)
    assert _rows(by_day) == ["export"]


def test_filters_at_the_calendars_edges_and_bad_filters(app, client, world):
    login(client, world.admin)
    r = client.get("/admin/audit?date_from=0001-01-01&date_to=9999-12-31")
    assert r.status_code == 200 and "login" in _rows(r.get_data(as_text=True))
    assert client.get("/admin/audit?date_from=2026-02-30").status_code == 400
    assert client.get("/admin/audit?date_from=2026-03-02&date_to=2026-03-01").status_code == 400
    assert client.get("/admin/audit?action=no_such_action").status_code == 400
    for page in ("0", "-1", "x", "9" * 30):
        assert client.get(f"/admin/audit?page={page}").status_code == 400, page
    r = client.get("/admin/audit?page=999")  # past the end: an empty page, not an error
    assert r.status_code == 200 and _rows(r.get_data(as_text=True)) == []
    r = client.get("/admin/audit?user=%25_%5C")  # LIKE wildcards are searched as text
    assert r.status_code == 200 and _rows(r.get_data(as_text=True)) == []


def test_actions_and_details_read_as_words_in_both_languages(app, client, world):
    login(client, world.admin)
    client.post("/admin/users/new", data={"username": "new-hire", "display_name": "新员工", "role": "trainee",
                                          "cohort_id": "0", "password": "first-password-1"})
    client.post("/login", data={"username": "x", "password": "wrong-password"})
    zh = client.get("/admin/audit").get_data(as_text=True)
    table = zh[zh.index("<tbody>"):]
    assert "创建用户" in table and "角色: 学员" in table and "角色: trainee" not in table
    assert "user_created" not in re.sub(r'data-action="[^"]+"', "", table) and "=None" not in table and ": None" not in table
    client.post("/language/en")
    en = client.get("/admin/audit").get_data(as_text=True)
    assert "User created" in en and "Logged in" in en


def test_every_recorded_action_has_a_label():
    """Every action code the app writes (a literal first argument of audit.record or
    record_anonymous) is in ACTION_LABELS, so the page never falls back to a raw code."""
    pattern = re.compile(r"\brecord(?:_anonymous)?\(\s*\"([a-z_]+)\"")
    codes = set()
    for path in (ROOT / "app").rglob("*.py"):
        codes |= set(pattern.findall(path.read_text(encoding="utf-8")))
    from app.services.scoring import IMPORT_ACTION

    codes |= {IMPORT_ACTION, "login_failed"}
    assert len(codes) > 20
    assert codes - set(ACTION_LABELS) == set()


def test_a_password_is_never_in_the_audit_log(app, client, world):
    client.post("/login", data={"username": "trainee-a", "password": "secret-typo-1"})
    client.post("/login", data={"username": "trainee-a", "password": PASSWORD})
    rows = db.session.scalars(select(AuditEvent)).all()
    text = repr([(e.target, e.detail) for e in rows])
    assert "secret-typo-1" not in text and PASSWORD not in text
