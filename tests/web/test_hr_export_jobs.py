"""HR's large exports as a job: over EXPORT_STREAM_MAX_ROWS the results page offers to
prepare the file, the job's page follows it and offers the download to the person who
asked, and only to them; a failure shows with its retry."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Job
from app.services import exports
from tests.web.test_hr_pages import result  # noqa: F401 - the fixture


@pytest.fixture
def small_threshold(app):
    app.config["EXPORT_STREAM_MAX_ROWS"] = 0  # every export with a row is "large"


def prepare(client, **form):
    r = client.post("/hr/exports", data={"format": "csv", **form})
    assert r.status_code == 302, r.data[:300]
    return r.headers["Location"]


def test_a_large_export_is_prepared_and_downloaded_by_who_asked(client, login_as, result, small_threshold):
    login_as("hr")
    page = client.get("/hr/?cohort=c9").text
    assert 'action="/hr/exports"' in page and "准备导出" in page and "/hr/export/csv?" not in page
    # the streamed export of that size sends HR back to the results to prepare it
    r = client.get("/hr/export/csv?cohort=c9")
    assert r.status_code == 302 and r.headers["Location"].startswith("/hr/?cohort=c9")
    url = prepare(client, cohort="c9")
    job = db.session.scalar(select(Job).where(Job.kind == "export"))
    assert url == f"/hr/exports/{job.id}"
    status = client.get(url).text
    assert "已就绪：共 1 行" in status and 'http-equiv="refresh"' not in status
    download = client.get(url + "/download")
    assert download.status_code == 200 and download.headers["Cache-Control"] == "no-store"
    assert download.headers["Content-Disposition"].startswith("attachment; filename=certifications-")
    rows = list(csv.reader(io.StringIO(download.data.decode("utf-8-sig"))))
    assert rows[0] == list(exports.HEADERS["zh-CN"]) and rows[1][2] == "王五"
    actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
               if e.action.startswith("export")]
    assert actions == ["export_prepared", "export"]
    assert "我准备的导出" in client.get("/hr/").text


def test_another_hr_user_cannot_see_or_fetch_it(client, login_as, auth, make_user, result, small_threshold):
    login_as("hr")
    url = prepare(client)
    auth.logout()
    other = make_user("hr", username="hr-other")
    assert auth.login(other.username).status_code == 302
    assert client.get(url).status_code == 404
    assert client.get(url + "/download").status_code == 404
    assert client.post(url + "/retry").status_code == 404
    auth.logout()
    trainer = make_user("trainer", username="coach")
    assert auth.login(trainer.username).status_code == 302
    assert client.get(url + "/download").status_code == 403
    assert client.post("/hr/exports", data={"format": "csv"}).status_code == 403


def test_queued_exports_show_progress_and_refresh(app, client, login_as, result, small_threshold):
    app.config.update(CELERY_ALWAYS_EAGER=False)
    app.extensions["celery"].conf.task_always_eager = False
    app.extensions["celery"].conf.broker_url = "memory://"
    login_as("hr")
    url = prepare(client, format="xlsx")
    page = client.get(url).text
    assert 'http-equiv="refresh"' in page and "进行中" in page
    assert client.get(url + "/download").status_code == 404  # not ready yet


def test_a_failed_export_shows_its_error_and_retries(client, login_as, result, small_threshold, monkeypatch):
    def broken(f, w, progress=None):
        raise RuntimeError("disk full")
        yield b""

    monkeypatch.setitem(exports._WRITERS, "csv", exports.Writer("csv", "text/csv", "csv", broken,
                                                                exports.count_results))
    login_as("hr")
    url = prepare(client)
    page = client.get(url).text
    assert "导出失败" in page and "disk full" in page and "/retry" in page
    monkeypatch.undo()
    assert client.post(url + "/retry").status_code == 302
    assert "已就绪" in client.get(url).text


def test_bad_requests_to_prepare_are_refused(client, login_as, result, small_threshold):
    login_as("hr")
    assert client.post("/hr/exports", data={"format": "pdf"}).status_code == 400
    assert client.post("/hr/exports", data={"format": "csv", "cohort": "nope"}).status_code == 400
    assert client.post("/hr/exports", data={"format": "csv", "since": "notadate"}).status_code == 400
    assert db.session.scalar(select(Job.id)) is None


def test_small_exports_still_stream(client, login_as, result):
    login_as("hr")
    assert 'href="/hr/export/csv"' in client.get("/hr/").text
    assert client.get("/hr/export/csv").status_code == 200
