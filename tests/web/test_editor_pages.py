"""The scenario editor's pages: roles, live validation in the interface language, bad
input, play-test through the drill page, publish, the rubric in plain words."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from app.extensions import db
from app.models import Drill, ScenarioDraft

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = "billing_complaint"


@pytest.fixture
def app(app_factory, tmp_path):
    sdir, adir = tmp_path / "scenarios", tmp_path / "agent_scripts"
    shutil.copytree(ROOT / "scenarios", sdir)
    shutil.copytree(ROOT / "tests" / "data" / "agent_scripts", adir)
    app = app_factory(SCENARIOS_DIR=str(sdir), AGENT_SCRIPTS_DIR=str(adir))
    with app.app_context():
        yield app


def _open_draft(client) -> int:
    response = client.post(f"/editor/scenarios/{SCENARIO}/zh-CN/edit")
    assert response.status_code == 303
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _texts(draft_id: int) -> dict:
    d = db.session.get(ScenarioDraft, draft_id)
    return {"yaml_text": d.yaml_text, "good_script": d.good_script, "bad_script": d.bad_script}


@pytest.mark.parametrize("role, status", [("trainee", 403), ("hr", 403), ("trainer", 200), ("admin", 200)])
def test_only_trainers_and_admins_reach_the_editor(client, login_as, role, status):
    login_as(role)
    assert client.get("/editor/").status_code == status


def test_list_and_draft_pages(client, login_as):
    login_as("trainer")
    html = client.get("/editor/").get_data(as_text=True)
    assert f"/editor/scenarios/{SCENARIO}/zh-CN/edit" in html and f"/editor/scenarios/{SCENARIO}/en/edit" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) and " style=" not in html
    draft_id = _open_draft(client)
    assert _open_draft(client) == draft_id  # one open draft per scenario and language
    page = client.get(f"/editor/drafts/{draft_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="yaml_text"' in html and "editor.js" in html and f"/editor/drafts/{draft_id}/validate" in html


def test_live_validation_names_file_field_and_reason_in_the_interface_language(client, login_as):
    login_as("trainer")
    draft_id = _open_draft(client)
    texts = _texts(draft_id)
    texts["yaml_text"] = texts["yaml_text"].replace("difficulty: ", "difficulty: 9 #", 1)
    answer = client.post(f"/editor/drafts/{draft_id}/validate", json=texts).get_json()
    assert answer["ok"] is False
    fault = next(f for f in answer["faults"] if f["field"] == "difficulty")
    assert fault["file"] == f"scenarios/{SCENARIO}.yaml" and fault["reason"] == "数值太大：最多为 3。"
    client.post("/language/en")
    answer = client.post(f"/editor/drafts/{draft_id}/validate", json=texts).get_json()
    assert next(f for f in answer["faults"] if f["field"] == "difficulty")["reason"] == "The value is too large: at most 3."
    answer = client.post(f"/editor/drafts/{draft_id}/validate", json=_texts(draft_id)).get_json()
    assert answer == {"ok": True, "faults": []}


@pytest.mark.parametrize("body", [None, [], {"yaml_text": 1, "good_script": "", "bad_script": ""}, {"yaml_text": "x"}])
def test_validation_refuses_a_body_that_is_not_three_texts(client, login_as, body):
    login_as("trainer")
    draft_id = _open_draft(client)
    response = client.post(f"/editor/drafts/{draft_id}/validate", json=body) if body is not None else \
        client.post(f"/editor/drafts/{draft_id}/validate", data="{not json", content_type="application/json")
    assert response.status_code == 400 and "error" in response.get_json()


def test_trainees_never_see_a_draft(client, login_as, make_user, auth):
    from app.services import authoring

    trainer = make_user("trainer")
    authoring.new_draft(trainer, "roaming_bill", "漫游账单")
    login_as("trainee")
    assert client.get("/trainee/start/roaming_bill").status_code == 404
    assert "roaming_bill" not in client.get("/trainee/").get_data(as_text=True)
    assert client.get("/editor/drafts/1").status_code == 403


def test_bad_input(client, login_as):
    login_as("trainer")
    assert client.get("/editor/drafts/999999").status_code == 404
    assert client.post("/editor/scenarios/no_such_scenario/zh-CN/edit").status_code == 404
    assert client.get("/editor/scenarios/no_such_scenario/zh-CN/rubric").status_code == 404
    bad_id = client.post("/editor/new", data={"scenario_id": "Not An Id"})
    assert bad_id.status_code == 400 and "roaming_bill_shock" in bad_id.get_data(as_text=True)
    taken = client.post("/editor/new", data={"scenario_id": SCENARIO})
    assert taken.status_code == 400 and "已有同一编号" in taken.get_data(as_text=True)
    draft_id = _open_draft(client)
    too_large = client.post(f"/editor/drafts/{draft_id}",
                            data={**_texts(draft_id), "yaml_text": "a: b\n" * 50_000, "action": "save"})
    assert too_large.status_code == 400
    not_yaml = client.post(f"/editor/drafts/{draft_id}", data={**_texts(draft_id), "yaml_text": "title: [",
                                                                "action": "playtest"})
    assert not_yaml.status_code == 400
    html = not_yaml.get_data(as_text=True)
    assert "YAML" in html and "草稿有错误" in html
    assert db.session.get(ScenarioDraft, draft_id).yaml_text == "title: ["  # saved: a draft may be broken
    assert db.session.query(Drill).count() == 0


def test_playtest_uses_the_drill_page_and_publish_makes_a_new_version(client, login_as, make_user):
    trainer = login_as("trainer")
    draft_id = _open_draft(client)
    texts = _texts(draft_id)
    texts["yaml_text"] = re.sub(r"(?m)^title: .*$", "title: 话费投诉（编辑器）", texts["yaml_text"], count=1)
    started = client.post(f"/editor/drafts/{draft_id}", data={**texts, "action": "playtest"})
    assert started.status_code == 303 and "/editor/playtests/" in started.headers["Location"]
    page = client.get(started.headers["Location"])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "话费投诉（编辑器）" in html and "drill.js" in html
    playtest_id = int(started.headers["Location"].rsplit("/", 1)[1])
    assert f'data-turn-url="/editor/playtests/{playtest_id}/turns"' in html
    reply = client.post(f"/editor/playtests/{playtest_id}/turns", json={"text": "您好，我是10000号客服小李，请问有什么可以帮您？"})
    assert reply.status_code == 200 and reply.get_json()["turns"][-1]["speaker"] == "customer"
    assert client.post(f"/editor/playtests/{playtest_id}/end").status_code == 303
    # Another trainer cannot drive this play-test.
    client.post("/logout")
    other = make_user("trainer")
    client.post("/login", data={"username": other.username, "password": "password-123"})
    assert client.get(f"/editor/playtests/{playtest_id}").status_code == 404
    client.post("/logout")
    client.post("/login", data={"username": trainer.username, "password": "password-123"})
    published = client.post(f"/editor/drafts/{draft_id}", data={**texts, "action": "publish"})
    assert published.status_code == 303
    assert "已发布为第 2 版" in client.get("/editor/").get_data(as_text=True)  # the flash, on the list page
    assert db.session.get(ScenarioDraft, draft_id).status == "published"


def test_rubric_in_plain_words(client, login_as):
    login_as("trainer")
    page = client.get(f"/editor/scenarios/{SCENARIO}/zh-CN/rubric")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for section in ("rubric-knowledge", "rubric-resolution", "rubric-promises", "rubric-redlines"):
        assert f'id="{section}"' in html
    assert "坐席向客户准确说明" in html and "辱骂" in html
    assert "(?" not in html and "\\d" not in html and "pattern" not in html  # sentences, not patterns
    draft_id = _open_draft(client)
    assert client.get(f"/editor/drafts/{draft_id}/rubric").status_code == 200
