"""Checking a browser draft without Flask (app/core/authoring.py) and the plain words its
faults read in."""
from __future__ import annotations

from pathlib import Path

from app.core.authoring import MAX_DRAFT_BYTES, ScriptRun, check_draft, script_faults
from app.core.catalog import Catalog
from app.core.datafiles import Fault
from app.core.fault_words import plain_reason
from app.core.scaffold import scaffold_texts


def _check(text: str, good: str = "您好。", bad: str = "喂。"):
    # The draft inherits the defaults of the catalog's scenarios folder, as a file there would.
    scenarios = Path(__file__).resolve().parents[2] / "scenarios"
    return check_draft(text, "roaming_bill", "zh-CN", Catalog(scenarios_dir=scenarios), None, ["china_telecom"],
                       good, bad)


def test_the_scaffold_draft_is_valid_and_keeps_its_hash_and_data():
    texts = scaffold_texts("roaming_bill", "漫游账单")
    result = _check(texts["scenario"], texts["good"], texts["bad"])
    assert result.ok and result.model.id == "roaming_bill" and result.raw["id"] == "roaming_bill"
    assert len(result.content_hash) == 64


def test_faults_name_the_future_file_never_the_temporary_one():
    texts = scaffold_texts("roaming_bill", "漫游账单")
    result = _check(texts["scenario"].replace("difficulty: ", "difficulty: 7 #", 1), good="", bad="x")
    assert [(f.file, f.field) for f in result.faults] == [("scenarios/roaming_bill.yaml", "difficulty")]
    assert all("/tmp" not in f.reason for f in result.faults)
    no_good = _check(texts["scenario"], good="\n \n")
    assert [f.field for f in no_good.faults] == ["agent_scripts.good"]
    renamed = _check(texts["scenario"].replace("id: roaming_bill", "id: other_one", 1))
    assert any(f.field == "id" and "other_one" in f.reason for f in renamed.faults)
    assert _check("a: [").faults[0].reason.startswith("bad YAML at line")
    assert _check("x" * (MAX_DRAFT_BYTES + 1)).faults[0].reason.startswith("too large")
    assert _check("- a\n- b\n").faults[0].reason.startswith("expected a mapping")


def test_script_runs_that_go_the_wrong_way_are_faults():
    runs = [ScriptRun("good", "calm", "hung_up", False, "再见"), ScriptRun("good", "angry", "resolved", True, ""),
            ScriptRun("bad", "calm", "resolved", False, "")]
    faults = script_faults(runs, "roaming_bill", "zh-CN")
    assert [f.field for f in faults] == ["agent_scripts.good", "agent_scripts.bad"]
    assert plain_reason(faults[0], "zh-CN") == "优秀坐席脚本在客户类型 calm 下没有解决问题。"
    assert plain_reason(faults[1], "en") == "The poor agent script resolves the call with the customer calm (it must not)."


def test_plain_reason_leaves_the_field_out():
    fault = Fault("scenarios/x.yaml", "personas", "List should have at least 3 items after validation, not 1")
    assert plain_reason(fault, "zh-CN") == "至少需要 3 项。"
    assert plain_reason(fault, "en") == "At least 3 items are needed."
