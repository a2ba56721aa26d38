"""Rubric files: the shipped rubrics load; every kind of fault names file and field."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from app.core.datafiles import DataFileError
from app.core.rubric import load_rubric, load_rubric_by_id, parse_rubric, rubric_ids
from app.core.scoring.kinds import KINDS, KNOWN_ACTS, Kind, lookup_kind
from app.core.scoring.registry import Registry, UnknownName

ROOT = Path(__file__).resolve().parents[2]
RUBRICS = ROOT / "rubrics"
BROKEN = ROOT / "tests" / "data" / "rubrics_broken"


@pytest.mark.parametrize("rid, weights", [
    ("standard-100", {"knowledge": 30, "communication": 30, "resolution": 30, "attitude": 10}),
    ("qa-inspection", {"etiquette": 20, "accuracy": 30, "communication": 25, "efficiency": 25}),
])
def test_shipped_rubrics_load_with_their_weights(rid, weights):
    rubric = load_rubric_by_id(rid, RUBRICS)
    assert {d.id: d.max for d in rubric.dimensions} == weights
    assert rubric.max == 100 and len(rubric.sha256) == 64
    for c in rubric.criteria:
        assert c.parsed_params is not None
        assert c.tip["zh-CN"] and c.tip["en"] and c.title["zh-CN"] and c.title["en"]
    assert rubric.judgeable(), "some criteria are open to the LLM judge"


def test_rubric_ids_lists_the_directory():
    assert {"standard-100", "qa-inspection"} <= set(rubric_ids(RUBRICS))


def test_unknown_rubric_id_names_the_known_ones():
    with pytest.raises(DataFileError) as exc:
        load_rubric_by_id("nope", RUBRICS)
    assert "no rubric 'nope'" in str(exc.value) and "standard-100" in str(exc.value)


def test_broken_rubric_lists_every_fault_with_file_and_field():
    path = BROKEN / "bad-kinds.yaml"
    with pytest.raises(DataFileError) as exc:
        load_rubric(path)
    faults = {f.field: f.reason for f in exc.value.faults}
    assert all(f.file == str(path) for f in exc.value.faults)
    assert "unknown criterion kind 'no_such_kind'" in faults["criteria[0].kind"]
    assert "act_present" in faults["criteria[0].kind"], "the message lists the known kinds"
    assert "unknown act 'telepathy'" in faults["criteria[1].params.acts"]
    assert "unknown dimension 'manners'" in faults["criteria[2].dimension"]
    assert "cannot be judged" in faults["criteria[3].judgeable"]
    assert "sum to 7 points, not 10" in faults["dimensions[0].max"]
    assert "sum to 2 points, not 5" in faults["dimensions[1].max"]


def _standard() -> dict:
    return yaml.safe_load((RUBRICS / "standard-100.yaml").read_text("utf-8"))


@pytest.mark.parametrize("mutate, field, reason", [
    (lambda d: d["criteria"][2]["params"].update(window="sometimes"), "criteria[2].params.window", "Input should be"),
    (lambda d: d["criteria"][2]["params"].update(patterns=["(unclosed"]), "criteria[2].params.patterns", "invalid regular expression"),
    (lambda d: d["criteria"][2]["params"].update(colour="red"), "criteria[2].params.colour", "unknown field"),
    (lambda d: d["criteria"][2].update(tip={"zh-CN": "问候"}), "criteria[2].tip", "needs a non-empty text for en"),
    (lambda d: d["criteria"].append(dict(d["criteria"][2])), "criteria[20].id", "duplicate criterion 'greeting'"),
    (lambda d: d["dimensions"].append(dict(d["dimensions"][0])), "dimensions[4].id", "duplicate dimension"),
    (lambda d: d["judge"].update(mode="vote"), "judge.mode", "Input should be"),
    (lambda d: d["red_lines"].update(insult_acts=["sarcasm"]), "red_lines.insult_acts[0]", "unknown act"),
    (lambda d: d.update(weights=[30, 30]), "weights", "unknown field"),
    (lambda d: d["criteria"][2].update(applies_when=[{"conditions": ["full_moon"]}]),
     "criteria[2].applies_when[0].conditions[0]", "unknown condition 'full_moon' (known: follow_up_due"),
    (lambda d: d["criteria"][2].update(applies_when=[{}]), "criteria[2].applies_when[0]", "an empty case always holds"),
    (lambda d: d["criteria"][2].update(applies_when=[{"category": ["sales"]}]),
     "criteria[2].applies_when[0].category", "unknown field"),
    (lambda d: d["red_lines"].update(contempt="scold"), "red_lines.contempt", "Input should be"),
    (lambda d: d["red_lines"].update(contempt="attitude_zero", contempt_dimension="manners"),
     "red_lines.contempt_dimension", "unknown dimension 'manners'"),
])
def test_single_faults(mutate, field, reason):
    data = _standard()
    mutate(data)
    with pytest.raises(DataFileError) as exc:
        parse_rubric(data, "rubrics/x.yaml")
    assert any(f.file == "rubrics/x.yaml" and f.field == field and reason in f.reason for f in exc.value.faults), \
        [str(f) for f in exc.value.faults]


def test_file_name_must_match_id(tmp_path):
    path = tmp_path / "other.yaml"
    path.write_text((RUBRICS / "standard-100.yaml").read_text("utf-8"), "utf-8")
    with pytest.raises(DataFileError, match="differs from the file name"):
        load_rubric(path)


def test_kind_registry_refuses_duplicates_and_names_unknowns():
    assert {"act_present", "act_absent", "order", "knowledge_points", "resolution_items",
            "end_state", "mood_trajectory"} <= set(KINDS.names())
    with pytest.raises(ValueError, match="already registered"):
        KINDS.add("act_present", lookup_kind("act_present"))
    with pytest.raises(UnknownName, match="unknown criterion kind 'x'.*act_absent"):
        lookup_kind("x")
    reg: Registry[Kind] = Registry("thing")
    reg.add("a", 1)  # type: ignore[arg-type]
    assert "a" in reg and list(reg) == ["a"]


def test_known_acts_match_the_intent_model():
    acts = pytest.importorskip("app.core.acts")
    assert tuple(KNOWN_ACTS) == tuple(acts.ACTS)


def test_generic_loader_gets_parsed_params_and_the_same_checks():
    # The content catalog loads rubrics with datafiles.load_model, not load_rubric.
    from app.core.datafiles import load_model
    from app.core.rubric import Rubric

    rubric, _ = load_model(Rubric, RUBRICS / "standard-100.yaml")
    assert all(c.parsed_params is not None for c in rubric.criteria)
    with pytest.raises(DataFileError, match="unknown criterion kind 'no_such_kind'"):
        load_model(Rubric, BROKEN / "bad-kinds.yaml")
