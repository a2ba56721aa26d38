"""Tips and model lines from the scenario at hand (issue 12, item 4): a scenario's
`criterion_tips` replace the rubric's generic tip or model line of a criterion, a
report never quotes another scenario's line, and an id no rubric has is a fault naming
file, field and reason."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.core.catalog import build_catalog
from app.core.rubric import load_rubric
from app.core.scoring import load_scenario_for_scoring, score_transcript, scenario_path
from app.core.scoring.keywords import keyword_analyse
from app.core.transcript import make_transcript, read_transcript

ROOT = Path(__file__).resolve().parents[2]
CORE = ("billing_complaint", "signal_complaint", "5g_plan_launch", "elderly_smartphone")
RUBRICS = [load_rubric(ROOT / "rubrics" / f"{r}.yaml") for r in ("standard-100", "qa-inspection")]
# The rubric's generic model lines that come from one scenario's story.
STORY_LINES = {"在家里的时候信号不好": "signal_complaint", "多出来的这部分": "billing_complaint",
               "这条短信确实容易让人误会": "billing_complaint", "Is it only at home": "signal_complaint",
               "The extra amount is mainly": "billing_complaint", "That message is easy to misread": "billing_complaint"}


def scenario(sid: str, lang: str):
    return load_scenario_for_scoring(scenario_path(sid, lang, ROOT / "scenarios"), lang)


def lines_of(sid: str, lang: str) -> set[str]:
    return {t.model for t in scenario(sid, lang).criterion_tips.values() if t.model}


def report_of(sid: str, lang: str, rubric):
    if lang == "zh-CN":
        transcript = read_transcript(ROOT / "tests" / "data" / "transcripts" / f"{sid}.bad.json", None)
    else:  # no English fixture call: a short one that earns little
        transcript = make_transcript(sid, [("customer", "Hello?"), ("agent", "Yes."), ("customer", "Bye.")],
                                     language="en")
    return score_transcript(transcript, scenario(sid, lang), rubric, keyword_analyse)


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("sid", CORE)
@pytest.mark.parametrize("rubric", RUBRICS, ids=lambda r: r.id)
def test_a_report_quotes_its_own_scenario_and_never_another(sid, lang, rubric):
    own = scenario(sid, lang)
    assert own.language == lang and own.criterion_tips, "each core scenario supplies its own lines"
    report = report_of(sid, lang, rubric)
    by_id = {c.id: c for c in report.criteria}
    used = [cid for cid in own.criterion_tips if cid in by_id]
    assert len(used) >= 6
    for cid in used:
        t = own.criterion_tips[cid]
        assert (t.model or "") in by_id[cid].tip and (t.tip or "") in by_id[cid].tip
    others = set().union(*(lines_of(o, lang) for o in CORE if o != sid))
    for c in report.criteria:
        assert not [line for line in others if line in c.tip], (c.id, c.tip)
        assert not [s for s, home in STORY_LINES.items() if s in c.tip and home != sid], (c.id, c.tip)


def test_the_shown_tip_of_a_missed_criterion_is_the_scenarios():
    """The elderly how-to call that earned nothing for explanation is told to teach one
    step at a time with her screen's words, not the billing line "多出来的这部分"."""
    report = report_of("elderly_smartphone", "zh-CN", RUBRICS[0])
    c = next(c for c in report.criteria if c.id == "explanation")
    assert c.applicable and c.score < c.max
    assert "从屏幕最上面往下滑" in c.tip and "多出来的这部分" not in c.tip


def test_only_the_model_replaced_keeps_the_rubric_tip():
    own = scenario("billing_complaint", "zh-CN")
    assert own.criterion_tips["restate"].tip is None
    rubric = RUBRICS[0]
    generic = next(c for c in rubric.criteria if c.id == "restate")
    tip = next(c for c in report_of("billing_complaint", "zh-CN", rubric).criteria if c.id == "restate").tip
    assert generic.tip["zh-CN"] in tip and own.criterion_tips["restate"].model in tip
    assert generic.model["zh-CN"] not in tip


def test_a_zh_file_gives_no_lines_to_an_english_report():
    zh = scenario("billing_complaint", "zh-CN")
    assert zh.criterion_tip("empathy", "zh-CN") is not None and zh.criterion_tip("empathy", "en") is None


@pytest.fixture
def content(tmp_path):
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    shutil.copytree(ROOT / "rubrics", tmp_path / "rubrics")
    return tmp_path


def test_an_unknown_criterion_id_is_a_fault_naming_file_field_and_reason(content):
    path = content / "scenarios" / "callback_followup.yaml"  # zh-CN only: no English tip to add
    path.write_text(path.read_text(encoding="utf-8").replace(
        "criterion_tips:\n", "criterion_tips:\n  empathie:\n    model: 理解您的心情。\n", 1), encoding="utf-8")
    catalog = build_catalog(content / "scenarios", content / "rubrics", [path])
    assert [(f.file, f.field) for f in catalog.faults] == [(str(path), "criterion_tips.empathie")]
    assert "unknown criterion id 'empathie'" in catalog.faults[0].reason
    assert "empathy" in catalog.faults[0].reason  # the known ids are listed


@pytest.mark.parametrize("entry, message", [
    ("  patience: {}\n", "give a tip, a model or both"),
    ("  patience:\n    tip: \" \"\n", "tip is blank"),
    ("  Empathy:\n    model: x\n", "is not a criterion id"),
])
def test_a_malformed_entry_is_a_fault(content, entry, message):
    path = content / "scenarios" / "signal_complaint.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("criterion_tips:\n", "criterion_tips:\n" + entry, 1),
                    encoding="utf-8")
    catalog = build_catalog(content / "scenarios", content / "rubrics", [path])
    assert catalog.faults and all(f.file == str(path) for f in catalog.faults)
    assert any(f.field.startswith("criterion_tips") and message in f.reason for f in catalog.faults), catalog.faults


def test_the_real_content_is_valid():
    assert build_catalog(ROOT / "scenarios", ROOT / "rubrics").faults == []


def test_the_judge_is_shown_the_scenarios_line():
    from app.core.scoring.judge import load_judge_prompt, render_messages

    rubric = RUBRICS[0]
    report = report_of("5g_plan_launch", "zh-CN", rubric)
    crit = next(c for c in rubric.criteria if c.id == "empathy")
    result = next(r for r in report.criteria if r.id == "empathy")
    transcript = read_transcript(ROOT / "tests" / "data" / "transcripts" / "5g_plan_launch.bad.json", None)
    messages = render_messages(load_judge_prompt("judge.zh-CN", ROOT / "rubrics" / "prompts"), transcript,
                               scenario("5g_plan_launch", "zh-CN"), [(crit, result)], "zh-CN")
    text = "\n".join(m["content"] for m in messages)
    assert scenario("5g_plan_launch", "zh-CN").criterion_tips["empathy"].model in text
    assert "给您添麻烦了" not in text  # the generic apology line does not fit a sales call
