"""One file per scenario (issue 13 item 4): shared defaults inherited and overridable,
other languages as `translations` overlays; faults name the file and the field where the
faulty value is written (app/core/scenario_files.py)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from app.core.catalog import build_catalog
from app.core.datafiles import DataFileError, load_model
from app.core.scenario_files import languages_of, load_scenario, scenario_versions
from app.core.simulation.schema import Scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
# billing_complaint as it was before the conversion: the zh-CN file with every block it
# repeated, and the whole English copy that lived in scenarios/en/.
BEFORE = ROOT / "tests" / "data" / "scenarios_before_overlays"


@pytest.mark.parametrize("language", ["zh-CN", "en"])
@pytest.mark.parametrize("operator", ["china_mobile", "china_telecom"])
def test_the_converted_file_gives_the_models_the_two_old_files_gave(language, operator):
    old, _ = load_model(Scenario, BEFORE / f"billing_complaint.{language}.yaml", context={"operator": operator})
    new, _ = scenario_versions(SCENARIOS / "billing_complaint.yaml", operator)[language]
    assert new.model_dump() == old.model_dump()


def test_scenarios_en_is_gone_and_four_files_carry_english():
    assert not (SCENARIOS / "en").exists()
    english = sorted(p.stem for p in SCENARIOS.glob("[!_]*.yaml") if "en" in languages_of(p))
    assert english == ["5g_plan_launch", "billing_complaint", "elderly_smartphone", "signal_complaint"]


def test_no_scenario_repeats_a_default_block():
    defaults = yaml.safe_load((SCENARIOS / "_defaults" / "zh-CN.yaml").read_text(encoding="utf-8"))
    for path in sorted(SCENARIOS.glob("[!_]*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert not [s for s in data["states"] if s in defaults["states"]], path.name
        assert data.get("global_transitions") != defaults["global_transitions"], path.name
        assert not [k for k, v in defaults["lines"].items() if data["lines"].get(k) == v], path.name


@pytest.fixture
def sdir(tmp_path):
    """A copy of scenarios/ to break."""
    shutil.copytree(SCENARIOS, tmp_path / "scenarios", ignore=shutil.ignore_patterns("prompts"))
    return tmp_path / "scenarios"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _faults(path: Path) -> list[str]:
    with pytest.raises(DataFileError) as exc:
        scenario_versions(path)
    return [str(f) for f in exc.value.faults]


def test_a_fault_in_the_english_overlay_names_the_overlay_field(sdir):
    path = sdir / "billing_complaint.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["translations"]["en"]["lines"]["opening"] = []
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert f"{path}: translations.en.lines.opening: needs at least one variant" in _faults(path)


def test_a_fault_in_a_translated_item_names_its_place_in_the_overlay(sdir):
    path = sdir / "billing_complaint.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    persona = data["translations"]["en"]["personas"][1]
    _edit(path, f"    - id: {persona['id']}\n      label: {persona['label']}\n",
          f"    - id: {persona['id']}\n      label: {persona['label']}\n      mood: 11\n")
    faults = _faults(path)
    assert any(f.startswith(f"{path}: translations.en.personas[1].mood: ") for f in faults), faults


def test_a_translation_cannot_add_items_change_the_id_or_use_an_unknown_language(sdir):
    path = sdir / "billing_complaint.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["translations"]["fr"] = {"title": "Facture"}
    data["translations"]["en"]["id"] = "other"
    data["translations"]["en"]["hidden_facts"][0]["id"] = "no_such_fact"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    faults = _faults(path)
    assert f"{path}: translations.fr: unknown language 'fr'; known: zh-CN, en" in faults
    assert f"{path}: translations.en.id: a translation cannot change `id`" in faults
    assert any(f.startswith(f"{path}: translations.en.hidden_facts[0].id: no item 'no_such_fact' to translate")
               for f in faults), faults


def test_chinese_left_in_the_english_version_is_a_fault_naming_where_the_translation_goes(sdir):
    path = sdir / "billing_complaint.yaml"
    _edit(path, "    title: Abnormal bill complaint\n", "")
    (fault,) = _faults(path)
    assert fault.startswith(f"{path}: translations.en.title: the en version still has zh-CN text here (title: '账单异常")
    # The Chinese version is still fine on its own.
    assert load_scenario(path).title == "账单异常投诉处理"


def test_a_fault_in_an_inherited_value_names_the_defaults_file_and_field(sdir):
    defaults = sdir / "_defaults" / "zh-CN.yaml"
    _edit(defaults, "  - to: hung_up\n    when: {mood_at_least: hang_up}", "  - to: hangup\n    when: {mood_at_least: hang_up}")
    path = sdir / "vas_unordered.yaml"
    assert (f"{path}: global_transitions[0].to: unknown state 'hangup' (inherited from {defaults}:"
            f" global_transitions[0].to)") in _faults(path)
    # A scenario that overrides the list is not concerned.
    assert load_scenario(sdir / "elderly_smartphone.yaml").id == "elderly_smartphone"


def test_a_scenario_overrides_a_default_state_line_or_transition_list(sdir):
    path = sdir / "signal_complaint.yaml"
    base = load_scenario(path)
    _edit(path, "\nstates:\n", "\nstates:\n  - id: hung_up\n    end: hung_up\n    say: [bye_hung_up, bye_resolved]\n")
    _edit(path, "\nlines:\n", "\nlines:\n  filler: [嗯？, 您接着说。]\n")
    _edit(path, "\ndetails:\n", "\nglobal_transitions:\n  - {to: hung_up, when: {mood_at_least: hang_up}}\n"
          "  - {to: escalated, when: {mood_at_least: escalate}}\n"
          "  - {to: resolved, when: {resolution_required_done: true, acts_any: [closing]}}\n\ndetails:\n")
    sc = load_scenario(path)
    assert sc.state("hung_up").say == ["bye_hung_up", "bye_resolved"]
    assert [s.id for s in sc.states][-3:] != [s.id for s in base.states][-3:]  # its own come first
    assert {s.id for s in sc.states} == {s.id for s in base.states}
    assert sc.lines["filler"] == ["嗯？", "您接着说。"] and sc.lines["identity"] == base.lines["identity"]
    assert [t.to for t in sc.global_transitions] == ["hung_up", "escalated", "resolved"]


def test_each_language_keeps_its_hash_when_only_the_other_changes(sdir):
    path = sdir / "billing_complaint.yaml"
    before = {lang: digest for lang, (_, digest) in scenario_versions(path).items()}
    _edit(path, "    title: Abnormal bill complaint\n", "    title: Unexpected bill complaint\n")
    after_en = {lang: digest for lang, (_, digest) in scenario_versions(path).items()}
    assert after_en["zh-CN"] == before["zh-CN"] and after_en["en"] != before["en"]
    _edit(path, "id: billing_complaint\n", "# a comment changes nothing a trainee sees\nid: billing_complaint\n")
    assert {lang: d for lang, (_, d) in scenario_versions(path).items()} == after_en
