"""The scenario library: every scenario and rubric as a page with the validator's verdict;
broken files show their `file: field: reason` faults, never a 500."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def clean(html: str) -> None:
    assert " style=" not in html and "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)


def test_library_lists_everything(client, login_as):
    login_as("trainer")
    page = client.get("/trainer/library")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    clean(html)
    for path in (ROOT / "scenarios").glob("*.yaml"):
        assert f"/trainer/library/scenario/{path.stem}/zh-CN" in html
    assert "/trainer/library/rubric/standard-100" in html and "/trainer/library/rubric/qa-inspection" in html


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_scenario_page(client, login_as, language):
    login_as("trainer")
    page = client.get(f"/trainer/library/scenario/billing_complaint/{language}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    clean(html)
    for anchor in ('id="state-', "bill_breakdown", "calm", "lib-persona"):
        assert anchor in html
    if language == "zh-CN":
        assert "王女士" in html and "讲理型" in html


def test_rubric_page(client, login_as):
    login_as("trainer")
    page = client.get("/trainer/library/rubric/standard-100")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    clean(html)
    assert "knowledge_points" in html and "mood_trajectory" in html


def test_unknown_items_are_404(client, login_as):
    login_as("trainer")
    assert client.get("/trainer/library/scenario/nope/zh-CN").status_code == 404
    assert client.get("/trainer/library/scenario/billing_complaint/fr").status_code == 404
    assert client.get("/trainer/library/rubric/nope").status_code == 404


def test_library_is_trainer_only(client, login_as):
    login_as("admin")
    assert client.get("/trainer/library").status_code == 403


@pytest.fixture
def broken_app(app_factory, tmp_path):
    """Copies of the content with one scenario that fails validation and one that does not parse."""
    sdir, rdir = tmp_path / "scenarios", tmp_path / "rubrics"
    shutil.copytree(ROOT / "scenarios", sdir)
    shutil.copytree(ROOT / "rubrics", rdir)
    text = (sdir / "billing_complaint.yaml").read_text(encoding="utf-8")
    (sdir / "billing_complaint.yaml").write_text(text.replace("difficulty: ", "difficulty: 9 #", 1), encoding="utf-8")
    (sdir / "signal_complaint.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    app = app_factory(SCENARIOS_DIR=str(sdir), RUBRICS_DIR=str(rdir))
    with app.app_context():
        yield app


def test_broken_content_shows_the_validator(broken_app):
    from app.services.accounts import create_user
    from app.extensions import db

    create_user("lib-trainer", "password-123", "trainer")
    db.session.commit()
    client = broken_app.test_client()
    assert client.post("/login", data={"username": "lib-trainer", "password": "password-123"}).status_code == 302
    page = client.get("/trainer/library")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "billing_complaint.yaml: difficulty" in html and "signal_complaint.yaml" in html
    assert "/trainer/library/scenario/5g_plan_launch/zh-CN" in html  # the good files still listed
    one = client.get("/trainer/library/scenario/billing_complaint/zh-CN")
    assert one.status_code == 200 and "billing_complaint.yaml: difficulty" in one.get_data(as_text=True)


def test_library_parses_the_files_once_and_sees_an_edit(broken_app, monkeypatch):
    """Parsing every file took seconds per page view; now a page only stats the files."""
    import app.services.content as content
    from app.extensions import db
    from app.services.accounts import create_user

    builds = []
    real_build = content.build_catalog
    monkeypatch.setattr(content, "build_catalog",
                        lambda *dirs, **kw: builds.append(dirs) or real_build(*dirs, **kw))
    create_user("lib-trainer", "password-123", "trainer")
    db.session.commit()
    client = broken_app.test_client()
    assert client.post("/login", data={"username": "lib-trainer", "password": "password-123"}).status_code == 302
    pages = ["/trainer/library", "/trainer/library/scenario/5g_plan_launch/zh-CN",
             "/trainer/library/rubric/standard-100", "/trainer/library"]
    assert all(client.get(url).status_code == 200 for url in pages)
    assert len(builds) <= 1

    broken = Path(broken_app.config["SCENARIOS_DIR"]) / "signal_complaint.yaml"
    broken.write_text((ROOT / "scenarios" / "signal_complaint.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    html = client.get("/trainer/library").get_data(as_text=True)
    assert len(builds) == 2
    assert "/trainer/library/scenario/signal_complaint/zh-CN" in html
