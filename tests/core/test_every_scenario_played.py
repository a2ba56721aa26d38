"""Every scenario in scenarios/ (both languages) is played with its own agent scripts,
found by the rule `flask scenarios validate` enforces (app/core/agent_scripts.py): the
excellent script resolves the call under every persona, the poor one never does.

Nothing here lists scenarios by hand: a new file is played as soon as it exists, and a
file without its scripts fails here as it fails validation.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from app.core.agent_scripts import missing_script_faults, script_lines, script_path
from app.core.operators import fill_text, get_operator
from app.core.scenario_files import languages_of, load_scenario
from app.core.simulation import make_engine
from app.core.simulation.play import play_lines
from app.core.simulation.schema import Scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
SCRIPTS = ROOT / "tests" / "data" / "agent_scripts"
# Every language version of every scenario file (`_defaults/`, `prompts/` hold no scenario).
FILES = [(p, lang) for p in sorted(SCENARIOS.glob("[!_]*.yaml")) for lang in languages_of(p)]
_loaded: dict[tuple[Path, str], Scenario] = {}


def scenario(path: Path, language: str) -> Scenario:
    if (path, language) not in _loaded:
        _loaded[path, language] = load_scenario(path, language)
    return _loaded[path, language]


CASES = [pytest.param(path, lang, p.id, id=f"{'' if lang == 'zh-CN' else lang + '/'}{path.stem}-{p.id}")
         for path, lang in FILES for p in scenario(path, lang).personas]


@pytest.fixture(scope="module")
def engines(cache_dir):
    from app.core.acts import load_intent_model

    models = {}

    def engine(language: str):
        if language not in models:
            models[language] = load_intent_model(language, acts_dir=ROOT / "rubrics" / "acts", cache_dir=cache_dir)
        return make_engine("scripted", lambda _language: models[language])

    return engine


def lines(sc: Scenario, kind: str) -> list[str]:
    # Scripts name numbers and codes through {operator.…} placeholders, as scenarios do.
    return [fill_text(line, get_operator()) for line in script_lines(script_path(SCRIPTS, sc.id, sc.language, kind))]


def test_every_scenario_has_its_own_scripts():
    assert len(FILES) >= 20
    faults = missing_script_faults([(p, scenario(p, lang).id, lang) for p, lang in FILES], SCRIPTS)
    assert faults == [], "\n".join(map(str, faults))


@pytest.mark.parametrize("path, language, persona", CASES)
def test_the_excellent_script_resolves_and_the_poor_one_does_not(engines, path, language, persona):
    sc = scenario(path, language)
    good = play_lines(engines(sc.language), sc, persona, 7, lines(sc, "good"))
    assert good["outcome"] == "resolved", [t["text"] for t in good["turns"]]
    poor = play_lines(engines(sc.language), sc, persona, 7, lines(sc, "bad"))
    assert poor["outcome"] != "resolved", [t["text"] for t in poor["turns"]]
