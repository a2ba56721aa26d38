"""The scoring service on SQLite and PostgreSQL: stored drills are scored against the
scenario version they ran on, re-scoring adds rows, imports are all or nothing."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.core.datafiles import DataFileError
from app.core.transcript import read_transcript, write_transcript
from app.extensions import db
from app.models import AuditEvent, CriterionResult, Drill, Score, ScenarioVersion, Turn
from app.models.base import utcnow
from app.services import content, scoring

DATA = Path(__file__).resolve().parent.parent / "data" / "transcripts"
GOOD = DATA / "billing_complaint.good.json"
BAD = DATA / "billing_complaint.bad.json"


def create_trainee(username="score-trainee"):
    from app.services.accounts import create_user

    user = create_user(username, "password-123", "trainee")
    db.session.commit()
    return user


def stored_drill(trainee, path: Path = GOOD, end_state: str = "resolved") -> Drill:
    """A simulated drill as the drill service stores it: mood and call state in
    customer turns' `state`, events in their `meta`."""
    data = json.loads(path.read_text(encoding="utf-8"))
    version = content.scenario_version(data["scenario"], "zh-CN")
    drill = Drill(trainee_id=trainee.id, scenario_version_id=version.id, persona="calm", customer_kind="scripted",
                  status="ended", outcome="resolved", ended_at=utcnow())
    customers = [i for i, t in enumerate(data["turns"]) if t["speaker"] == "customer"]
    for i, t in enumerate(data["turns"]):
        turn = Turn(position=i, speaker=t["speaker"], text=t["text"], meta={"engine": "scripted", "events": []})
        if t["speaker"] == "customer":
            last = i == customers[-1]
            turn.state = {"mood": 2 if last else 7, "state": end_state if last else "checking"}
        else:
            turn.meta = {"acts": []}
        drill.turns.append(turn)
    db.session.add(drill)
    db.session.commit()
    return drill


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def trainee(any_app):
    return create_trainee()


def test_score_a_stored_drill(trainee):
    drill = stored_drill(trainee)
    score = scoring.score_drill(drill)

    assert score.id and score.drill_id == drill.id and score.scorer_kind.startswith("rules")
    assert score.max_total == 100 and 0 < score.total <= 100
    assert set(score.dimensions) == {"knowledge", "communication", "resolution", "attitude"}
    assert score.report["total"] == score.total and score.report["scenario"] == "billing_complaint"
    assert score.rubric_version.rubric_id == "standard-100"
    rows = db.session.scalars(select(CriterionResult).where(CriterionResult.score_id == score.id)
                              .order_by(CriterionResult.position)).all()
    assert [r.criterion_id for r in rows] == [c["id"] for c in score.report["criteria"]]
    assert all(e["quote"] in drill.turns[e["turn"]].text for r in rows for e in r.evidence)
    # The simulator's call state reached the scorer through customer-turn meta.
    end = next(c for c in score.report["criteria"] if c["id"] == "end_state")
    assert end["applicable"] and end["score"] == end["max"] > 0
    assert scoring.latest_score(drill).id == score.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "drill_scored"))
    assert event.target == f"drill:{drill.id}" and event.detail["score_id"] == score.id


def test_good_call_scores_above_bad_call(trainee):
    good = scoring.score_drill(stored_drill(trainee, GOOD))
    bad = scoring.score_drill(stored_drill(trainee, BAD, end_state="hung_up"))
    assert good.total > bad.total + 20


def test_rescoring_adds_a_row_and_keeps_the_old_one(trainee):
    drill = stored_drill(trainee)
    first = scoring.score_drill(drill)
    first_report = json.dumps(first.report, sort_keys=True)
    second = scoring.score_drill(drill)

    assert second.id != first.id and count(Score) == 2
    assert count(CriterionResult) == 2 * len(first.report["criteria"])
    db.session.refresh(first)
    assert json.dumps(first.report, sort_keys=True) == first_report
    assert second.report == first.report  # deterministic
    assert scoring.latest_score(drill).id == second.id


def test_scenario_version_is_pinned(any_app, tmp_path):
    scenarios = tmp_path / "scenarios"
    shutil.copytree(any_app.config["SCENARIOS_DIR"], scenarios)
    any_app.config["SCENARIOS_DIR"] = str(scenarios)
    trainee = create_trainee()
    drill = stored_drill(trainee)
    old_version = drill.scenario_version_id

    path = scenarios / "billing_complaint.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("id: bill_breakdown", "id: bill_sum_changed"),
                    encoding="utf-8")
    score = scoring.score_drill(drill)

    ids = {c["id"] for c in score.report["criteria"]}
    assert "knowledge_points.bill_breakdown" in ids and "knowledge_points.bill_sum_changed" not in ids
    # The file did change: an import now runs on a new version with the new id.
    imported = scoring.import_transcript(GOOD.read_bytes(), "good.json", trainee, trainee=trainee)
    assert imported.scenario_version_id != old_version
    assert "knowledge_points.bill_sum_changed" in {c["id"] for c in scoring.latest_score(imported).report["criteria"]}
    assert drill.scenario_version_id == old_version


def test_import_a_good_file(trainee):
    drill = scoring.import_transcript(GOOD.read_bytes(), "call-0001.json", trainee, external_agent="外包坐席 07")

    assert drill.customer_kind == "import" and drill.status == "ended" and drill.trainee_id is None
    assert drill.external_agent == "外包坐席 07"
    source = read_transcript(GOOD, None)
    assert [(t.speaker, t.text) for t in drill.turns] == [(t.speaker, t.text) for t in source.turns]
    score = scoring.latest_score(drill)
    assert score is not None and score.total > 50
    end = next(c for c in score.report["criteria"] if c["id"] == "end_state")
    assert not end["applicable"]  # a real call has no simulator state
    # The stored call exports as transcript/1 again.
    again = read_transcript(write_transcript(scoring.drill_transcript(drill)).encode(), {"billing_complaint"})
    assert [t.text for t in again.turns] == [t.text for t in source.turns]
    assert again.agent.id == "外包坐席 07" and again.started_at.startswith("2026-11-22T01:30:00")
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["transcript_imported", "drill_scored"]


def _good() -> dict:
    return json.loads(GOOD.read_text(encoding="utf-8"))


BAD_FILES = {
    "bad json": (b'{"format": "transcript/1", "turns": [', "bad JSON at line 1"),
    "not utf-8": ("{}".encode("utf-16"), "not UTF-8"),
    "unknown speaker": ({**_good(), "turns": [{"speaker": "robot", "text": "hi"}]}, "turns[0].speaker"),
    "empty text": ({**_good(), "turns": _good()["turns"][:3] + [{"speaker": "agent", "text": "  "}]}, "turns[3].text"),
    "unknown scenario": ({**_good(), "scenario": "no_such_scenario"}, "scenario"),
    "unknown key": ({**_good(), "socre": 100}, "socre"),
    "no turns": ({**_good(), "turns": []}, "turns"),
    "wrong format": ({**_good(), "format": "transcript/2"}, "format"),
    "bad time": ({**_good(), "started_at": "yesterday"}, "started_at"),
    "long persona": ({**_good(), "persona": "x" * 80}, "persona"),
}


def test_each_kind_of_bad_file_stores_nothing(trainee):
    # One test walks every case: each is cheap, a fresh PostgreSQL database per case is not.
    before = {m: count(m) for m in (Drill, Turn, Score, AuditEvent)}
    for case, (body, where) in sorted(BAD_FILES.items()):
        raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        with pytest.raises(DataFileError) as exc:
            scoring.import_transcript(raw, "upload-07.json", trainee, trainee=trainee)
        assert all(f.file == "upload-07.json" for f in exc.value.faults), case
        assert where in str(exc.value), (case, str(exc.value))
        assert {m: count(m) for m in (Drill, Turn, Score, AuditEvent)} == before, case


def test_a_failure_while_scoring_rolls_the_import_back(trainee, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("scorer crashed")

    monkeypatch.setattr(scoring, "score_transcript", boom)
    with pytest.raises(RuntimeError):
        scoring.import_transcript(GOOD.read_bytes(), "good.json", trainee, trainee=trainee)
    assert (count(Drill), count(Turn), count(Score), count(AuditEvent)) == (0, 0, 0, 0)


def test_import_needs_exactly_one_owner(trainee):
    with pytest.raises(ValueError):
        scoring.import_transcript(GOOD.read_bytes(), "good.json", trainee)
    with pytest.raises(ValueError):
        scoring.import_transcript(GOOD.read_bytes(), "good.json", trainee, trainee=trainee, external_agent="x")
    assert count(Drill) == 0


def test_import_files_reports_each_file(trainee):
    results = scoring.import_files([("a.json", GOOD.read_bytes()), ("b.json", b"{"), ("c.json", BAD.read_bytes())],
                                   trainee, trainee=trainee)
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].faults[0].startswith("b.json: ")
    assert results[0].score.total > results[2].score.total
    assert count(Drill) == 2


def test_previous_attempts_are_the_same_agent_and_scenario(trainee):
    other = create_trainee("someone-else")
    first = stored_drill(trainee)
    scoring.score_drill(first)
    stored_drill(other)
    latest = stored_drill(trainee)
    attempts = scoring.previous_attempts(latest)
    assert [(d.id, s.total if s else None) for d, s in attempts] == [(first.id, scoring.latest_score(first).total)]
    assert scoring.previous_attempts(first)[0][1] is None  # the newer drill is not scored


def test_scoring_a_drill_without_turns_stores_nothing(trainee):
    version = content.scenario_version("billing_complaint", "zh-CN")
    drill = Drill(trainee_id=trainee.id, scenario_version_id=version.id, status="ended")
    db.session.add(drill)
    db.session.commit()
    with pytest.raises(DataFileError):
        scoring.score_drill(drill)
    assert count(Score) == 0
    assert db.session.scalar(select(func.count()).select_from(ScenarioVersion)) >= 1


def test_import_keeps_turn_times_and_meta(trainee):
    data = _good()
    data["turns"][1] = {**data["turns"][1], "at": "2026-11-22T09:30:12+08:00", "meta": {"stt_confidence": 0.91}}
    drill = scoring.import_transcript(json.dumps(data, ensure_ascii=False).encode(), "t.json", trainee, trainee=trainee)
    out = scoring.drill_transcript(drill)
    assert out.turns[1].at == "2026-11-22T01:30:12+00:00" and out.turns[1].meta == {"stt_confidence": 0.91}
    assert out.turns[0].at is None and out.turns[0].meta is None
