"""Trainer uploads of real-call transcripts: one file, a batch, bad files, role checks."""
from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Cohort, Drill, Score, Turn

DATA = Path(__file__).resolve().parent.parent / "data" / "transcripts"
GOOD = DATA / "billing_complaint.good.json"
BAD = DATA / "billing_complaint.bad.json"
ROBOT = json.dumps({"format": "transcript/1", "scenario": "billing_complaint",
                    "turns": [{"speaker": "robot", "text": "您好"}]}).encode()


@pytest.fixture
def setup(app, make_user, auth):
    trainer = make_user("trainer", username="coach")
    group = Cohort(name="一班", trainer_id=trainer.id)
    db.session.add(group)
    db.session.commit()
    trainee = make_user("trainee", username="xiaowang", cohort=group)
    assert auth.login(trainer.username).status_code == 302
    return trainer, trainee


def files(*items):
    return [(BytesIO(raw), name) for name, raw in items]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_upload_page_has_the_form_and_progress(client, setup):
    _, trainee = setup
    r = client.get("/trainer/upload")
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert 'enctype="multipart/form-data"' in page and 'multiple' in page
    assert 'id="upload-bar"' in page and "upload.js" in page and "<script>" not in page
    assert "xiaowang" in page


def test_single_file_no_js(client, setup):
    _, trainee = setup
    r = client.post("/trainer/upload", content_type="multipart/form-data",
                    data={"files": files(("call-1.json", GOOD.read_bytes())), "trainee_id": str(trainee.id)})
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    drill = db.session.scalar(select(Drill))
    score = db.session.scalar(select(Score))
    assert drill.trainee_id == trainee.id and drill.customer_kind == "import"
    assert f"call-1.json: " in page and f"{score.total:g} / 100" in page
    assert f"/trainer/drills/{drill.id}/report" in page
    assert client.get(f"/trainer/drills/{drill.id}/report").status_code == 200


def test_batch_no_js_with_a_bad_file(client, setup):
    _, trainee = setup
    r = client.post("/trainer/upload", content_type="multipart/form-data", data={
        "files": files(("a.json", GOOD.read_bytes()), ("robot.json", ROBOT), ("c.json", BAD.read_bytes())),
        "trainee_id": "0", "external_agent": "外包 07"})
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    # The page says what is wrong in words (the exact fault stays in the JSON API and logs).
    assert "robot.json" in page and "第 1 轮对话 “speaker”：" in page and "turns[0]" not in page
    assert page.count('class="up-ok"') == 2 and page.count('class="up-bad"') == 1
    assert count(Drill) == 2
    assert set(db.session.scalars(select(Drill.external_agent))) == {"外包 07"}
    imports = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "transcript_imported")).all()
    assert sorted(d["file"] for d in imports) == ["a.json", "c.json"]


def test_json_endpoint_one_file_per_request(client, setup):
    _, trainee = setup
    form = {"trainee_id": str(trainee.id)}
    ok = client.post("/trainer/upload/file", content_type="multipart/form-data", headers={"Accept": "application/json"},
                     data={**form, "files": files(("a.json", GOOD.read_bytes()))})
    assert ok.status_code == 201
    body = ok.get_json()
    assert body["ok"] and body["file"] == "a.json" and body["max"] == 100 and body["total"] > 50
    assert body["report_url"] == f"/trainer/drills/{body['drill_id']}/report"

    bad = client.post("/trainer/upload/file", content_type="multipart/form-data",
                      data={**form, "files": files(("robot.json", ROBOT))})
    assert bad.status_code == 422
    assert bad.get_json() == {"file": "robot.json", "ok": False, "faults": [bad.get_json()["faults"][0]],
                              "explained": [bad.get_json()["explained"][0]]}
    assert bad.get_json()["explained"][0].startswith("第 1 轮对话 “speaker”：")
    assert bad.get_json()["faults"][0].startswith("robot.json: turns[0].speaker: ")

    two = client.post("/trainer/upload/file", content_type="multipart/form-data",
                      data={**form, "files": files(("a.json", GOOD.read_bytes()), ("b.json", GOOD.read_bytes()))})
    assert two.status_code == 400 and not two.get_json()["ok"]
    assert (count(Drill), count(Turn) > 0, count(Score)) == (1, True, 1)


def test_bad_json_names_the_line(client, setup):
    _, trainee = setup
    r = client.post("/trainer/upload/file", content_type="multipart/form-data",
                    data={"trainee_id": str(trainee.id), "files": files(("broken.json", b'{"format": '))})
    assert r.status_code == 422 and "broken.json: (top): bad JSON at line 1" in r.get_json()["faults"][0]
    assert r.get_json()["explained"] == ["文件不是有效的 JSON：第 1 行第 12 列附近格式有误（常见原因：少了逗号、引号或括号，或文件是空的）。"]
    english = client.post("/trainer/upload/file", content_type="multipart/form-data", headers={"Accept-Language": "en"},
                          data={"trainee_id": str(trainee.id), "files": files(("broken.json", b'{"format": '))})
    assert english.get_json()["explained"][0].startswith("The file is not valid JSON: check line 1, column 12")
    assert count(Drill) == 0


def test_owner_is_required_and_limited_to_the_cohorts(client, setup, make_user):
    outsider = make_user("trainee", username="outsider")
    no_owner = client.post("/trainer/upload", content_type="multipart/form-data",
                           data={"files": files(("a.json", GOOD.read_bytes())), "trainee_id": "0"})
    assert no_owner.status_code == 400
    foreign = client.post("/trainer/upload/file", content_type="multipart/form-data",
                          data={"files": files(("a.json", GOOD.read_bytes())), "trainee_id": str(outsider.id)})
    assert foreign.status_code == 400 and "trainee_id" in foreign.get_json()["errors"]
    nothing = client.post("/trainer/upload", content_type="multipart/form-data", data={"trainee_id": "0",
                                                                                       "external_agent": "x"})
    assert nothing.status_code == 400
    assert count(Drill) == 0


def test_too_large_upload_is_refused(client, setup):
    big = b" " * (5 * 1024 * 1024 + 10)
    r = client.post("/trainer/upload/file", content_type="multipart/form-data", headers={"Accept": "application/json"},
                    data={"files": files(("big.json", big)), "trainee_id": "0", "external_agent": "x"})
    assert r.status_code == 413 and r.get_json()["status"] == 413
    assert count(Drill) == 0


@pytest.mark.parametrize("role", ["trainee", "hr", "admin"])
def test_other_roles_cannot_upload(client, make_user, auth, role):
    user = make_user(role)
    assert auth.login(user.username).status_code == 302
    assert client.get("/trainer/upload").status_code == 403
    r = client.post("/trainer/upload/file", content_type="multipart/form-data",
                    data={"files": files(("a.json", GOOD.read_bytes())), "trainee_id": "0", "external_agent": "x"})
    assert r.status_code == 403 and count(Drill) == 0


def test_anonymous_is_sent_to_login(client):
    r = client.get("/trainer/upload")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
