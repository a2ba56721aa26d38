"""`flask scenarios new`'s scaffold (app/core/scaffold): a commented, valid scenario that
plays, with its own excellent and poor scripts; nothing is overwritten."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.core.agent_scripts import missing_script_faults, script_lines
from app.core.operators import fill_text, get_operator
from app.core.scaffold import ScaffoldError, scaffold_scenario
from app.core.scenario_files import load_scenario
from app.core.simulation import make_engine
from app.core.simulation.play import play_lines

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def dirs(tmp_path):
    return tmp_path / "scenarios", tmp_path / "agent_scripts"


def test_the_scaffold_is_valid_commented_and_plays_both_ways(dirs, cache_dir):
    from app.core.acts import load_intent_model

    sdir, adir = dirs
    written = scaffold_scenario("roaming_bill", sdir, adir, title="漫游账单：回国后多了流量费")
    assert written == [sdir / "roaming_bill.yaml", adir / "roaming_bill.good.txt", adir / "roaming_bill.bad.txt"]
    text = written[0].read_text(encoding="utf-8")
    assert "__ID__" not in text and "__TITLE__" not in text
    assert "# norm:" in text and "docs/authoring.md" in text  # a commented file that points to the guide
    assert "_defaults/zh-CN.yaml" in text and "translations:" in text  # and says what it inherits, how to translate
    sc = load_scenario(written[0], scenarios_dir=ROOT / "scenarios")
    assert sc.id == "roaming_bill" and sc.language == "zh-CN" and sc.title == "漫游账单：回国后多了流量费"
    assert missing_script_faults([(written[0], sc.id, sc.language)], adir) == []

    model = load_intent_model("zh-CN", acts_dir=ROOT / "rubrics" / "acts", cache_dir=cache_dir)
    engine = make_engine("scripted", lambda language: model)
    for persona in sc.personas:
        outcomes = {}
        for kind in ("good", "bad"):
            lines = script_lines(adir / f"roaming_bill.{kind}.txt")
            lines = [fill_text(line, get_operator()) for line in lines]
            outcomes[kind] = play_lines(engine, sc, persona.id, 7, lines)["outcome"]
        assert outcomes["good"] == "resolved", persona.id
        assert outcomes["bad"] != "resolved", persona.id


@pytest.mark.parametrize("bad_id", ["Roaming", "new scenario", "_x", "", "漫游"])
def test_a_bad_id_is_refused_and_nothing_written(dirs, bad_id):
    sdir, adir = dirs
    with pytest.raises(ScaffoldError, match="is not a scenario id"):
        scaffold_scenario(bad_id, sdir, adir)
    assert not sdir.exists() and not adir.exists()


def test_an_existing_scenario_or_script_is_never_overwritten(dirs):
    sdir, adir = dirs
    adir.mkdir(parents=True)
    (adir / "roaming_bill.bad.txt").write_text("我自己写的脚本\n", encoding="utf-8")
    with pytest.raises(ScaffoldError, match="already exists"):
        scaffold_scenario("roaming_bill", sdir, adir)
    assert not (sdir / "roaming_bill.yaml").exists()
    assert (adir / "roaming_bill.bad.txt").read_text(encoding="utf-8") == "我自己写的脚本\n"


def test_missing_or_empty_scripts_are_faults_naming_file_and_script(tmp_path):
    adir = tmp_path / "agent_scripts"
    (adir / "en").mkdir(parents=True)
    (adir / "x.good.txt").write_text("您好。\n", encoding="utf-8")
    (adir / "x.bad.txt").write_text("\n  \n", encoding="utf-8")
    faults = missing_script_faults([(Path("scenarios/x.yaml"), "x", "zh-CN"),
                                    (Path("scenarios/x.yaml"), "x", "en")], adir)
    assert [(f.file, f.field) for f in faults] == [
        ("scenarios/x.yaml", "agent_scripts.bad"),
        ("scenarios/x.yaml", "agent_scripts.good"), ("scenarios/x.yaml", "agent_scripts.bad")]
    assert "has no lines" in faults[0].reason and str(adir / "x.bad.txt") in faults[0].reason
    assert f"no excellent agent script {adir / 'en' / 'x.good.txt'}" in faults[1].reason


def test_a_title_with_yaml_syntax_still_gives_a_valid_file(dirs):
    sdir, adir = dirs
    written = scaffold_scenario("odd_title", sdir, adir, title="Bill: #2 {draft} [v1]")
    sc = load_scenario(written[0], scenarios_dir=ROOT / "scenarios")
    assert sc.title == "Bill 2 draft v1"
