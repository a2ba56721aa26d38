"""Background jobs in a real browser, with a real Celery worker on a throwaway Redis: a
trainee ends a drill and the report says "scoring" until a worker has scored it, then
shows the score by itself; a trainer's batch upload shows its progress to the end."""
from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.support import LIVE_APPS
from tests.jobs.conftest import kill9, spawn_worker, start_redis

DATA = Path(__file__).resolve().parent.parent / "data" / "transcripts"
WORKER_MS = 180_000  # a cold worker loads the app and the act models first


@pytest.fixture(scope="module")
def jobs_world(browser, tmp_path_factory, cache_dir):
    from flask_migrate import upgrade
    from werkzeug.serving import make_server

    from app import create_app
    from app.extensions import db
    from app.services.accounts import ensure_demo_accounts
    from app.services.content import sync_versions
    from config import TestingConfig

    folder = tmp_path_factory.mktemp("e2e-jobs")
    redis, broker = start_redis(folder)
    db_url = f"sqlite:///{folder / 'e2e.db'}"
    config = type("BrowserJobsConfig", (TestingConfig,), {
        "SQLALCHEMY_DATABASE_URI": db_url, "CACHE_DIR": str(cache_dir), "WTF_CSRF_ENABLED": True,
        "CELERY_ALWAYS_EAGER": False, "CELERY_BROKER_URL": broker})
    app = create_app(config)
    with app.app_context():
        upgrade()
        ensure_demo_accounts()
        sync_versions()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-jobs-server", daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{server.server_port}"
    LIVE_APPS[base_url] = app
    world = {"base_url": base_url, "db_url": db_url, "broker": broker, "folder": folder, "cache": cache_dir,
             "workers": []}
    yield world
    for proc in world["workers"]:
        if proc.poll() is None:
            kill9(proc)
    LIVE_APPS.pop(base_url, None)
    server.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        db.engine.dispose()
    redis.terminate()
    redis.wait(timeout=10)


@pytest.fixture(scope="module")
def live_server(jobs_world) -> str:
    return jobs_world["base_url"]


def start_worker(world) -> None:
    if not world["workers"]:
        world["workers"].append(spawn_worker(world["db_url"], world["broker"], world["folder"], world["cache"],
                                             concurrency=1, name="e2e"))


def test_the_report_says_scoring_until_the_worker_has_scored_the_drill(open_session, jobs_world):
    s = open_session("trainee")
    page = s.page
    page.locator("a[href$='/trainee/start/billing_complaint']").first.click()
    page.check("input[name=customer][value=scripted]")
    with page.expect_navigation():
        page.click("main form [type=submit]")
    assert re.search(r"/trainee/drills/\d+$", page.url), page.url
    page.fill("#turn-text", "您好，这里是客服中心，工号1024，很高兴为您服务。")
    page.click("#send")
    expect(page.locator("#transcript li.turn-customer[data-position]").nth(1)).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())  # "end the call?"
    page.click("#end-form button")
    expect(page.locator("#drill-status.ended")).to_be_visible()
    with page.expect_navigation():
        page.click("#drill-status a")
    assert page.url.endswith("/report"), page.url
    # No worker runs yet: the ending request did not score, the report says so.
    expect(page.locator(".rp-scoring")).to_contain_text("正在评分")
    s.check("report while scoring")

    start_worker(jobs_world)
    # The page reloads itself until the score is there.
    expect(page.locator(".rp-summary .rp-total strong")).to_have_text(re.compile(r"^\d+(\.\d+)?$"),
                                                                      timeout=WORKER_MS)
    expect(page.locator(".rp-scoring")).to_have_count(0)
    s.check("report once scored")


def test_a_batch_upload_shows_progress_to_the_end(open_session, jobs_world, tmp_path):
    start_worker(jobs_world)
    files = []
    for i in range(3):
        path = tmp_path / f"call-{i}.json"
        path.write_bytes((DATA / "billing_complaint.good.json").read_bytes())
        files.append(str(path))
    bad = tmp_path / "broken.json"
    bad.write_text("{ not json", encoding="utf-8")
    files.append(str(bad))

    s = open_session("trainer")
    page = s.page
    s.goto("/trainer/batches")
    page.set_input_files("input[name=files]", files)
    page.fill("input[name=external_agent]", "外包 07")
    with page.expect_navigation():
        page.click("main form[enctype] button[type=submit]")
    assert re.search(r"/trainer/batches/\d+$", page.url), page.url
    expect(page.locator("progress")).to_be_visible()
    expect(page.locator("#job-status")).to_have_text("已完成。", timeout=WORKER_MS)
    expect(page.locator("#job-count")).to_contain_text("已完成 4 / 4")
    expect(page.locator("li.up-ok")).to_have_count(3)
    expect(page.locator("li.up-bad")).to_contain_text("broken.json")
    s.check("batch page")
