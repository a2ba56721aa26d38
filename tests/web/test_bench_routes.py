"""The benchmark baseline route (app/bench.py) exists only when asked for, never in
production, and does exactly one insert for a logged-in trainee."""
from __future__ import annotations

from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import AuditEvent
from config import ProductionConfig


def bench_rules(app) -> list[str]:
    return [r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith("bench.")]


def test_absent_by_default(app, client, login_as):
    assert app.config["BENCH_ROUTES"] is False and bench_rules(app) == []
    login_as("trainee")
    assert client.post("/bench/insert", json={}).status_code == 404


def test_present_with_the_flag_does_one_insert_for_a_trainee(app_factory):
    app = app_factory(BENCH_ROUTES=True)
    assert bench_rules(app) == ["/bench/insert"]
    client = app.test_client()
    with app.app_context():
        from app.services.accounts import create_user

        create_user("bench-trainee", "password-123", "trainee")
        create_user("bench-hr", "password-123", "hr")
        db.session.commit()
        # Anonymous: sent to the login page; another role: refused. Nothing written.
        assert client.post("/bench/insert", json={}).status_code == 302
        client.post("/login", data={"username": "bench-hr", "password": "password-123"})
        assert client.post("/bench/insert", json={}).status_code == 403
        client.post("/logout")
        client.post("/login", data={"username": "bench-trainee", "password": "password-123"})
        before = db.session.scalar(select(func.count()).select_from(AuditEvent))
        r = client.post("/bench/insert", json={"text": "您好"})
        assert r.status_code == 200 and r.get_json() == {"ok": True}
        rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).all()
        assert len(rows) == before + 1 and rows[0].action == "bench_insert" and rows[0].detail == {"text": "您好"}


def test_refused_in_production_even_with_the_flag(tmp_path, cache_dir):
    assert ProductionConfig.BENCH_ROUTES is False
    forced = type("ForcedProduction", (ProductionConfig,), {
        "BENCH_ROUTES": True, "SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db",
        "CACHE_DIR": str(cache_dir), "LOAD_CONTENT_ON_START": False})
    app = create_app(forced)
    assert app.config["ENV_NAME"] == "production" and bench_rules(app) == []
    assert app.test_client().post("/bench/insert", json={}).status_code == 404
