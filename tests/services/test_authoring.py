"""Scenarios written in the browser (app/services/authoring.py): drafts publish nothing,
play-tests stay out of every trainee-facing count, publishing checks, plays the scripts,
writes the files and moves the current version; earlier drills keep theirs."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Drill, ScenarioVersion
from app.services import authoring, content, drills, progress
from app.services.authoring import AuthoringError

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = "billing_complaint"


@pytest.fixture
def content_dirs(tmp_path):
    """Copies of the content folders: publishing writes files."""
    sdir, adir = tmp_path / "scenarios", tmp_path / "agent_scripts"
    shutil.copytree(ROOT / "scenarios", sdir)
    shutil.copytree(ROOT / "tests" / "data" / "agent_scripts", adir)
    return sdir, adir


@pytest.fixture
def app(app_factory, content_dirs):
    sdir, adir = content_dirs
    app = app_factory(SCENARIOS_DIR=str(sdir), AGENT_SCRIPTS_DIR=str(adir))
    with app.app_context():
        yield app


def _retitled(draft, title: str) -> str:
    lines = draft.yaml_text.splitlines(keepends=True)
    i = next(i for i, line in enumerate(lines) if line.startswith("title:"))
    lines[i] = f"title: {title}\n"
    return "".join(lines)


def test_a_new_scenario_is_drafted_from_the_scaffold_and_is_valid(app, make_user):
    trainer = make_user("trainer")
    draft = authoring.new_draft(trainer, "roaming_bill", "漫游账单")
    assert draft.status == "draft" and draft.language == "zh-CN"
    assert authoring.check(draft).faults == []
    with pytest.raises(AuthoringError) as exc:
        authoring.new_draft(trainer, "roaming_bill")
    assert exc.value.code == "exists"
    with pytest.raises(AuthoringError) as exc:
        authoring.new_draft(trainer, SCENARIO)
    assert exc.value.code == "exists"
    with pytest.raises(AuthoringError) as exc:
        authoring.new_draft(trainer, "Bad Id")
    assert exc.value.code == "bad_id"
    assert "roaming_bill" not in {s.id for s in drills.scenarios_in("zh-CN")}  # not published


def test_faults_name_the_file_the_field_and_the_reason(app, make_user):
    trainer = make_user("trainer")
    draft = authoring.edit_draft(trainer, SCENARIO, "zh-CN")
    broken = draft.yaml_text.replace("difficulty:", "difficulty: 9\nx_difficulty:", 1)
    faults = authoring.check(draft, broken).faults
    assert {(f.file, f.field) for f in faults} >= {("scenarios/billing_complaint.yaml", "difficulty")}
    not_yaml = authoring.check(draft, "title: [unclosed\n").faults
    assert len(not_yaml) == 1 and not_yaml[0].reason.startswith("bad YAML at line")
    other_id = authoring.check(draft, draft.yaml_text.replace(f"id: {SCENARIO}", "id: something_else", 1)).faults
    assert any(f.field == "id" for f in other_id)
    no_script = authoring.check(draft, good="  \n").faults
    assert [f.field for f in no_script] == ["agent_scripts.good"]
    with pytest.raises(AuthoringError) as exc:
        authoring.save_draft(draft, trainer, "x" * (authoring.authoring.MAX_DRAFT_BYTES + 1), "a", "b")
    assert exc.value.status == 413


def test_saving_a_draft_publishes_nothing_and_is_audited(app, make_user):
    trainer = make_user("trainer")
    before = content.scenario_version(SCENARIO, "zh-CN")
    db.session.commit()
    draft = authoring.edit_draft(trainer, SCENARIO, "zh-CN")
    faults = authoring.save_draft(draft, trainer, _retitled(draft, "话费投诉（新版）"), draft.good_script,
                                  draft.bad_script)
    assert faults == []
    assert content.scenario_version(SCENARIO, "zh-CN").id == before.id
    assert drills.find_scenario(SCENARIO, "zh-CN").title != "话费投诉（新版）"
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "scenario_draft_saved" in actions


def test_a_playtest_plays_the_draft_and_counts_for_no_one(app, make_user):
    trainer = make_user("trainer")
    draft = authoring.edit_draft(trainer, SCENARIO, "zh-CN")
    authoring.save_draft(draft, trainer, _retitled(draft, "话费投诉（试玩）"), draft.good_script, draft.bad_script)
    drill = authoring.start_playtest(draft, trainer)
    assert drill.mode == "playtest" and drill.scenario_version.is_draft
    assert drill.scenario_version.version < 0 and not drill.scenario_version.is_current
    assert drills.scenario_of(drill).title == "话费投诉（试玩）"
    assert drill.turns and drill.turns[0].speaker == "customer"
    drills.end_drill(drill, by="trainer")
    assert drills.recent_drills(trainer.id) == []
    assert progress.scored_drills(trainer, released_only=False) == []
    # The published version is still the file's.
    assert content.scenario_version(SCENARIO, "zh-CN").is_draft is False
    with pytest.raises(AuthoringError):
        broken = authoring.edit_draft(trainer, SCENARIO, "zh-CN")
        authoring.save_draft(broken, trainer, "title: [", broken.good_script, broken.bad_script)
        authoring.start_playtest(broken, trainer)


def test_publish_plays_the_scripts_and_refuses_an_excellent_script_that_does_not_resolve(app, make_user):
    trainer = make_user("trainer")
    draft = authoring.edit_draft(trainer, SCENARIO, "zh-CN")
    authoring.save_draft(draft, trainer, draft.yaml_text, draft.bad_script, draft.bad_script)
    path = Path(app.config["SCENARIOS_DIR"]) / f"{SCENARIO}.yaml"
    before = path.read_bytes()
    with pytest.raises(AuthoringError) as exc:
        authoring.publish(draft, trainer)
    assert exc.value.code == "scripts"
    assert all(f.field == "agent_scripts.good" for f in exc.value.faults) and exc.value.faults
    assert path.read_bytes() == before


def test_publish_writes_the_file_and_moves_the_current_version(app, make_user):
    trainer, trainee = make_user("trainer"), make_user("trainee")
    old = content.scenario_version(SCENARIO, "zh-CN")
    db.session.commit()
    earlier = drills.start_drill(trainee, SCENARIO, "zh-CN", old.data["personas"][0]["id"], "scripted")
    draft = authoring.edit_draft(trainer, SCENARIO, "zh-CN")
    authoring.save_draft(draft, trainer, _retitled(draft, "话费投诉（第二版）"), draft.good_script, draft.bad_script)
    played = authoring.start_playtest(draft, trainer)
    version = authoring.publish(draft, trainer)
    assert version.version == old.version + 1 and version.is_current and not version.is_draft
    assert version.id == played.scenario_version_id  # the content play-tested is the content published
    assert db.session.get(ScenarioVersion, old.id).is_current is False
    assert draft.status == "published"
    assert (Path(app.config["SCENARIOS_DIR"]) / f"{SCENARIO}.yaml").read_text(encoding="utf-8") == draft.yaml_text
    assert db.session.get(Drill, earlier.id).scenario_version_id == old.id
    new = drills.start_drill(trainee, SCENARIO, "zh-CN", old.data["personas"][1]["id"], "scripted")
    assert new.scenario_version_id == version.id and drills.scenario_of(new).title == "话费投诉（第二版）"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "scenario_published"))
    assert event.detail["version"] == version.version and event.actor_id == trainer.id
    with pytest.raises(AuthoringError) as exc:
        authoring.save_draft(draft, trainer, draft.yaml_text, draft.good_script, draft.bad_script)
    assert exc.value.status == 409


def test_a_new_scenario_is_published_with_its_scripts(app, make_user):
    trainer = make_user("trainer")
    draft = authoring.new_draft(trainer, "roaming_bill", "漫游账单")
    version = authoring.publish(draft, trainer)
    assert version.version == 1
    scripts = Path(app.config["AGENT_SCRIPTS_DIR"])
    assert (scripts / "roaming_bill.good.txt").read_text(encoding="utf-8") == draft.good_script
    assert "roaming_bill" in {s.id for s in drills.scenarios_in("zh-CN")}


def test_the_english_version_is_edited_in_the_one_file_and_published_there(app, make_user, content_dirs):
    """One file holds every language: editing the English version edits its
    `translations.en` block in scenarios/<id>.yaml; no scenarios/en/ file appears."""
    sdir, _ = content_dirs
    trainer = make_user("trainer")
    draft = authoring.edit_draft(trainer, SCENARIO, "en")
    assert "translations:" in draft.yaml_text
    lines = draft.yaml_text.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.strip() == "en:")
    indent = len(lines[at + 1]) - len(lines[at + 1].lstrip())
    i = next(i for i in range(at + 1, len(lines)) if lines[i].startswith(" " * indent + "title:"))
    lines[i] = " " * indent + "title: Bill complaint (edited)\n"
    text = "".join(lines)
    assert authoring.check(draft, yaml_text=text).faults == []
    authoring.save_draft(draft, trainer, text, draft.good_script, draft.bad_script)
    version = authoring.publish(draft, trainer)
    assert (version.language, version.title, version.is_current) == ("en", "Bill complaint (edited)", True)
    assert not (sdir / "en").exists()
    assert "Bill complaint (edited)" in (sdir / f"{SCENARIO}.yaml").read_text(encoding="utf-8")
