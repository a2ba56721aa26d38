"""`flask scenarios validate` on good files and on each kind of broken file.

Broken files are made by changing one thing in a copy of a real file, so the tests keep
up as the content grows; every message must name the file and the field.
"""
import shutil
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def content(tmp_path):
    sdir, rdir = tmp_path / "scenarios", tmp_path / "rubrics"
    shutil.copytree(ROOT / "scenarios", sdir)
    shutil.copytree(ROOT / "rubrics", rdir)
    return sdir, rdir


@pytest.fixture
def validate(app_factory, content):
    sdir, rdir = content
    app = app_factory(SCENARIOS_DIR=str(sdir), RUBRICS_DIR=str(rdir))

    def run(*paths):
        result = app.test_cli_runner().invoke(args=["scenarios", "validate", *map(str, paths)])
        return result.exit_code, result.output

    return run


def _edit(path: Path, change):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_the_shipped_files_are_valid(validate):
    code, out = validate()
    assert code == 0, out
    assert out.startswith("ok:")


def test_one_good_file(validate, content):
    code, out = validate(content[0] / "billing_complaint.yaml")
    assert code == 0 and "ok: 1 file" in out


SCENARIO_BREAKS = {
    "missing_field": (lambda d: d.pop("title"), "title: required field is missing"),
    "wrong_type": (lambda d: d.update(difficulty="hard"), "difficulty:"),
    "out_of_range": (lambda d: d.update(difficulty=9), "difficulty:"),
    "unknown_field": (lambda d: d.update(titel="x"), "titel: unknown field"),
    "bad_language": (lambda d: d.update(language="fr"), "language:"),
    "bad_regex": (lambda d: d["knowledge_points"][0]["stated_by"].update(any=["(unclosed"]),
                  "knowledge_points[0].stated_by.any: "),
    "unknown_state": (lambda d: d["states"][0]["transitions"][0].update(to="nowhere"),
                      "states[0].transitions[0].to"),
    "persona_missing_field": (lambda d: d["personas"][0].pop("patience"), "personas[0].patience: required field is missing"),
    "unknown_act": (lambda d: d["states"][0]["transitions"][0]["when"].update(acts=["telepathy"]),
                    "states[0].transitions[0].when.acts"),
    "too_few_personas": (lambda d: d.update(personas=d["personas"][:2]), "personas"),
    "id_differs_from_file": (lambda d: d.update(id="billing_other"), "id:"),
}


@pytest.mark.parametrize("case", sorted(SCENARIO_BREAKS))
def test_broken_scenario_names_file_and_field(validate, content, case):
    change, expected = SCENARIO_BREAKS[case]
    path = content[0] / "billing_complaint.yaml"
    _edit(path, change)
    code, out = validate()
    assert code == 1, out
    assert f"{path}: " in out and expected in out, out
    assert "Traceback" not in out


def test_unreachable_end_state(validate, content):
    path = content[0] / "billing_complaint.yaml"

    def cut(d):
        # drop every transition into the resolved end state
        ends = {s["id"] for s in d["states"] if s.get("end") == "resolved"}
        for s in d["states"]:
            s["transitions"] = [t for t in s.get("transitions", []) if t["to"] not in ends]
        d["global_transitions"] = [t for t in d.get("global_transitions", []) if t["to"] not in ends]

    _edit(path, cut)
    code, out = validate(path)
    assert code == 1 and str(path) in out and "states[" in out and "reach" in out.lower(), out


def test_a_fault_in_the_english_overlay_names_file_overlay_field_and_reason(validate, content):
    path = content[0] / "billing_complaint.yaml"

    def break_english(d):
        d["translations"]["en"]["lines"]["opening"] = []
        d["translations"]["en"]["personas"][0]["id"] = "calmm"

    _edit(path, break_english)
    code, out = validate(path)
    assert code == 1
    assert f"{path}: translations.en.lines.opening: needs at least one variant" in out
    assert f"{path}: translations.en.personas[0].id: no item 'calmm' to translate" in out


def test_yaml_syntax_error_names_the_line(validate, content):
    path = content[0] / "signal_complaint.yaml"
    path.write_text("id: signal_complaint\ntitle: [unclosed\n", encoding="utf-8")
    code, out = validate(path)
    assert code == 1 and f"{path}: (top): bad YAML at line" in out


def test_not_utf8(validate, content):
    path = content[0] / "signal_complaint.yaml"
    path.write_bytes("id: 信号".encode("gbk"))
    code, out = validate(path)
    assert code == 1 and "not UTF-8" in out


def test_top_level_not_a_mapping(validate, content):
    path = content[0] / "signal_complaint.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    code, out = validate(path)
    assert code == 1 and "expected a mapping" in out


def test_duplicate_scenario_id(validate, content):
    src = content[0] / "billing_complaint.yaml"
    sub = content[0] / "copy"
    sub.mkdir()
    shutil.copy(src, sub / "billing_complaint.yaml")
    code, out = validate()
    assert code == 1 and "duplicate of" in out


def test_rubric_faults(validate, content):
    path = content[1] / "standard-100.yaml"
    _edit(path, lambda d: d["criteria"][0].update(kind="mind_reading"))
    code, out = validate(path)
    assert code == 1 and f"{path}: criteria[0].kind" in out and "mind_reading" in out


def test_rubric_points_must_fill_the_dimension(validate, content):
    path = content[1] / "standard-100.yaml"
    _edit(path, lambda d: d["criteria"][0].update(points=d["criteria"][0]["points"] + 5))
    code, out = validate(path)
    assert code == 1 and f"{path}: dimensions[" in out and ".max" in out


def test_acts_file_unknown_act(validate, content):
    path = content[1] / "acts" / "zh-CN.yaml"
    _edit(path, lambda d: d["examples"][0].update(acts=["telepathy"]))
    code, out = validate(path)
    assert code == 1 and f"{path}: examples[0].acts" in out


def test_missing_path_and_foreign_file(validate, tmp_path):
    stray = tmp_path / "notes.yaml"
    stray.write_text("a: 1\n", encoding="utf-8")
    code, out = validate(tmp_path / "nope.yaml", stray)
    assert code == 1
    assert "no such file" in out and "not a scenario, rubric" in out


def test_list_json(app_factory, content):
    import json

    sdir, rdir = content
    app = app_factory(SCENARIOS_DIR=str(sdir), RUBRICS_DIR=str(rdir))
    result = app.test_cli_runner().invoke(args=["scenarios", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    ids = {(r["id"], r["language"]) for r in rows}
    assert {("billing_complaint", "zh-CN"), ("5g_plan_launch", "zh-CN"), ("signal_complaint", "zh-CN"),
            ("elderly_smartphone", "zh-CN")} <= ids
    assert all(len(r["personas"]) >= 3 for r in rows)
    # Who places the call: the callback is the one outbound scenario.
    assert {r["id"] for r in rows if r["direction"] == "outbound"} == {"callback_followup"}


def test_load_is_idempotent_and_versions_on_change(app_factory, content):
    from app.models import ScenarioVersion

    sdir, rdir = content
    app = app_factory(SCENARIOS_DIR=str(sdir), RUBRICS_DIR=str(rdir))
    runner = app.test_cli_runner()
    with app.app_context():
        first = runner.invoke(args=["scenarios", "load"])
        assert first.exit_code == 0, first.output
        n = ScenarioVersion.query.count()
        assert n >= 4
        second = runner.invoke(args=["scenarios", "load"])
        assert "0 new version(s)" in second.output
        assert ScenarioVersion.query.count() == n
        _edit(sdir / "billing_complaint.yaml", lambda d: d.update(summary=d["summary"] + "（修订）"))
        third = runner.invoke(args=["scenarios", "load"])
        assert "1 new version(s)" in third.output
        rows = ScenarioVersion.query.filter_by(scenario_id="billing_complaint", language="zh-CN").order_by(ScenarioVersion.version).all()
        assert [r.version for r in rows] == [1, 2]
        assert [r.is_current for r in rows] == [False, True]


def test_app_refuses_to_start_on_broken_content(content):
    from app import create_app
    from app.services.content import ContentError
    from tests.conftest import make_config

    sdir, rdir = content
    _edit(sdir / "billing_complaint.yaml", lambda d: d.pop("title"))
    cfg = make_config("sqlite://", SCENARIOS_DIR=str(sdir), RUBRICS_DIR=str(rdir), LOAD_CONTENT_ON_START=True)
    with pytest.raises(ContentError, match=r"billing_complaint.yaml: title: required field is missing"):
        create_app(cfg)


def test_a_scenario_file_outside_the_scenarios_folder(validate, content, tmp_path):
    """Authors validate drafts before moving them in: the kind is told by the keys."""
    draft = tmp_path / "drafts" / "billing_complaint.yaml"
    draft.parent.mkdir()
    shutil.copy(content[0] / "billing_complaint.yaml", draft)
    assert validate(draft) == (0, "ok: 1 file(s) valid\n")
    _edit(draft, lambda d: d["personas"][0].pop("mood"))
    code, out = validate(draft)
    assert code == 1 and f"{draft}: personas[0].mood: required field is missing" in out


def test_broken_prompt_template(validate, content):
    path = content[0] / "prompts" / "customer.zh-CN.yaml"
    _edit(path, lambda d: d.update(bogus=1))
    code, out = validate(path)
    assert code == 1 and f"{path}: bogus: unknown field" in out


def test_an_unknown_operator_placeholder_names_file_field_and_placeholder(validate, content):
    path = content[0] / "billing_complaint.yaml"
    _edit(path, lambda d: d["lines"]["filler"].append("请拨打 {operator.hotlin} 查询。"))
    code, out = validate()
    assert code == 1, out
    n = 0
    for line in out.splitlines():
        if "{operator.hotlin}" in line:
            n += 1
            assert line.startswith(f"{path}: lines.filler[") and "has no value for it" in line, line
    assert n >= 1, out


def test_a_placeholder_is_checked_under_every_operator(app_factory, content):
    # A China Telecom centre: its CDMA network has a do-not-disturb code (*80), the GSM
    # profiles have none, so the file serves this centre but not every operator.
    sdir, rdir = content
    app = app_factory(SCENARIOS_DIR=str(sdir), RUBRICS_DIR=str(rdir), OPERATOR="china_telecom")
    path = sdir / "call_forwarding.yaml"
    _edit(path, lambda d: d["lines"]["filler"].append("免打扰是 {operator.codes.dnd_on} 吗？"))
    result = app.test_cli_runner().invoke(args=["scenarios", "validate", str(path)])
    assert result.exit_code == 1, result.output
    faulty = [ln for ln in result.output.splitlines() if "{operator.codes.dnd_on}" in ln]
    assert {ln.rsplit("(operator ", 1)[-1] for ln in faulty} == {"china_mobile)", "china_unicom)"}, result.output
    assert all(ln.startswith(f"{path}: lines.filler[2]: ") for ln in faulty), result.output


@pytest.fixture
def scripts(tmp_path):
    adir = tmp_path / "agent_scripts"
    shutil.copytree(ROOT / "tests" / "data" / "agent_scripts", adir)
    return adir


def test_a_scenario_without_its_poor_script_fails_naming_file_and_script(app_factory, content, scripts):
    sdir, rdir = content
    (scripts / "callback_followup.bad.txt").unlink()
    app = app_factory(SCENARIOS_DIR=str(sdir), RUBRICS_DIR=str(rdir), AGENT_SCRIPTS_DIR=str(scripts))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["scenarios", "validate", str(sdir / "callback_followup.yaml")])
    assert result.exit_code == 1
    assert (f"{sdir / 'callback_followup.yaml'}: agent_scripts.bad: no poor agent script "
            f"{scripts / 'callback_followup.bad.txt'}") in result.output
    # The same file with the check switched off, and another scenario, are fine.
    assert runner.invoke(args=["scenarios", "validate", "--no-scripts",
                               str(sdir / "callback_followup.yaml")]).exit_code == 0
    assert runner.invoke(args=["scenarios", "validate", str(sdir / "billing_complaint.yaml")]).exit_code == 0


def test_an_english_scenario_looks_for_its_scripts_in_en(app_factory, content, scripts):
    sdir, rdir = content
    (scripts / "en" / "billing_complaint.good.txt").unlink()
    app = app_factory(SCENARIOS_DIR=str(sdir), RUBRICS_DIR=str(rdir), AGENT_SCRIPTS_DIR=str(scripts))
    result = app.test_cli_runner().invoke(args=["scenarios", "validate", str(sdir / "billing_complaint.yaml")])
    assert result.exit_code == 1
    assert f"no excellent agent script {scripts / 'en' / 'billing_complaint.good.txt'}" in result.output


def test_scenarios_new_scaffolds_a_valid_file_that_loads(app_factory, content, scripts):
    from app.services.content import load_catalog

    sdir, rdir = content
    app = app_factory(SCENARIOS_DIR=str(sdir), RUBRICS_DIR=str(rdir), AGENT_SCRIPTS_DIR=str(scripts))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["scenarios", "new", "roaming_bill", "--title", "漫游账单"])
    assert result.exit_code == 0, result.output
    assert f"wrote {sdir / 'roaming_bill.yaml'}" in result.output and "ok:" in result.output
    assert (scripts / "roaming_bill.good.txt").is_file() and (scripts / "roaming_bill.bad.txt").is_file()
    checked = runner.invoke(args=["scenarios", "validate", str(sdir / "roaming_bill.yaml")])
    assert checked.exit_code == 0, checked.output
    # It loads with the rest of the content, as the app loads it.
    catalog = load_catalog(sdir, rdir)
    entry = next(e for e in catalog.of_kind("scenario") if e.model.id == "roaming_bill")
    assert entry.model.title == "漫游账单" and len(entry.model.personas) >= 3
    # A second run refuses, and leaves the file as it is.
    before = (sdir / "roaming_bill.yaml").read_bytes()
    again = runner.invoke(args=["scenarios", "new", "roaming_bill"])
    assert again.exit_code != 0 and "already exists" in again.output
    assert (sdir / "roaming_bill.yaml").read_bytes() == before
    bad = runner.invoke(args=["scenarios", "new", "Roaming Bill"])
    assert bad.exit_code != 0 and "is not a scenario id" in bad.output
