"""Issue 15, item 8: practice backgrounds give facts, not the answer.

The background is what the agent's system and knowledge base would show (prices, rules,
account records). A line such as "最合适：89 元档" or "本案属第三种：立即退订……" does the
drill for the trainee; the scenario schema refuses such wording, and the conclusions the
files used to state are checked gone one by one.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from app.core.datafiles import DataFileError
from app.core.scenario import background_giveaways
from app.core.scenario_files import languages_of, load_scenario
from app.core.simulation.schema import Scenario

ROOT = Path(__file__).resolve().parents[2]
# (file, language, name in FORMER_ANSWERS): every language version of every scenario file.
FILES = [(p, lang, p.name if lang == "zh-CN" else f"{lang}/{p.name}")
         for p in sorted((ROOT / "scenarios").glob("[!_]*.yaml")) for lang in languages_of(p)]

# What the backgrounds said before: each is the drill's conclusion, not a fact of the case.
FORMER_ANSWERS = {
    "5g_plan_launch.yaml": ["最合适", "89 元档（30 GB 覆盖 25 GB"],
    "en/5g_plan_launch.yaml": ["Best fit", "the 89 plan"],
    "billing_complaint.yaml": ["本案属第三种", "15 元作为善意退费", "更合适的套餐"],
    "en/billing_complaint.yaml": ["This case is the third", "refund the 15 yuan"],
    "vas_unordered.yaml": ["合计退 55 元", "（50 元", "（彩铃 5 元）", "本案没有"],
    "intl_roaming.yaml": ["推荐：", "省 300 − 98", "就是 300 元"],
    "call_forwarding.yaml": ["她真正想要的", "→ 先"],
    "broadband_cancel.yaml": ["客户自己 2016 年买的路由器", "处理："],
    "broadband_outage.yaml": ["打过孔", "仍然红灯"],
    "escalation_threat.yaml": ["本次升级为紧急投诉", "明天 12:00 前"],
}


def load(path: Path, language: str = "zh-CN") -> Scenario:
    return load_scenario(path, language, scenarios_dir=ROOT / "scenarios")


@pytest.mark.parametrize("path, language, rel", FILES, ids=[rel for _, _, rel in FILES])
def test_no_background_names_the_answer(path, language, rel):
    sc = load(path, language)
    assert background_giveaways(sc.background) == []
    for answer in FORMER_ANSWERS.get(rel, []):
        assert answer not in sc.background, (rel, answer)
    # Facts stay: the figures a trainee needs to work the answer out are still given.
    assert sc.background.strip()


def test_facts_the_trainee_needs_are_still_there():
    five_g = load(ROOT / "scenarios" / "5g_plan_launch.yaml").background
    for fact in ("25 GB", "30 元流量包", "5G 畅享 89 元/月（30 GB", "5G 畅享 129 元/月（60 GB"):
        assert fact in five_g
    roaming = load(ROOT / "scenarios" / "intl_roaming.yaml").background
    assert "30 元/天封顶" in roaming and "日韩 10 天流量包 98 元" in roaming


@pytest.mark.parametrize("text, found", [
    ("本月新套餐 89 元。\n最合适：89 元档（30 GB 覆盖 25 GB）。", "最合适"),
    ("Plans: 89 and 129.\nBest fit: the 89 plan.", "Best fit"),
    ("本案属第三种：立即退订。", "本案属"),
])
def test_the_schema_refuses_a_background_that_gives_the_answer(tmp_path, text, found):
    src = (ROOT / "scenarios" / "5g_plan_launch.yaml").read_text(encoding="utf-8")
    head, rest = src.split("background: |\n", 1)
    body_end = next(i for i, line in enumerate(rest.splitlines(keepends=True)) if not line.startswith("  "))
    lines = rest.splitlines(keepends=True)
    bad = head + "background: |\n" + "".join(f"  {t}\n" for t in text.splitlines()) + "".join(lines[body_end:])
    path = tmp_path / "5g_plan_launch.yaml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        load(path)
    assert "5g_plan_launch.yaml: background:" in str(err.value) and "gives the answer away" in str(err.value) and found in str(err.value)
