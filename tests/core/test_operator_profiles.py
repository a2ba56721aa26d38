"""One operator per centre (issue 13, item 3): operators/<id>.yaml profiles fill the
scenarios' {operator.…} placeholders, so call_forwarding teaches a China Telecom centre
the CDMA star codes on a China Telecom number and a China Mobile or China Unicom centre
the GSM codes on their own numbers, and never another operator's codes or numbers.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from app.core.catalog import build_catalog
from app.core.datafiles import DataFileError
from app.core.operators import fill_text, get_operator, load_operators
from app.core.scenario_files import languages_of, load_scenario
from app.core.simulation import make_engine
from app.core.simulation.play import play_lines
from app.core.simulation.schema import Scenario

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "tests" / "data" / "agent_scripts"
OPERATORS = ["china_mobile", "china_telecom", "china_unicom"]
PHONE = re.compile(r"(?<!\d)(1\d{2}) ?\d{4} ?\d{4}(?!\d)")


def codes_of(op_id: str) -> set[str]:
    """The codes as dialled (the part before the number for a code that takes one)."""
    return {c.split("号码")[0] for c in get_operator(op_id).profile.codes.model_dump().values() if c}


def code_re(code: str) -> re.Pattern:
    # a code stands alone: "*72" is not the start of "*720", "##21#" not inside "**21*"
    return re.compile(r"(?<![*#\d])" + re.escape(code) + r"(?![\d])" if code[-1].isdigit()
                      else r"(?<![*#\d])" + re.escape(code))


def scenario(op_id: str, rel: str = "call_forwarding.yaml") -> Scenario:
    """`rel` is a file name, or `en/<file name>` for the English version of that file."""
    language, _, name = rel.rpartition("/")
    return load_scenario(ROOT / "scenarios" / name, language or "zh-CN", operator=op_id)


def customer_and_knowledge_text(sc: Scenario) -> str:
    """What the customer says or shows and what the trainee is taught."""
    c = sc.customer
    parts = [c.profile, c.goal, c.identity_answer, *c.personal_data.values(), sc.briefing, sc.background]
    parts += [v for variants in sc.lines.values() for v in variants]
    parts += [v for p in sc.personas for variants in p.lines.values() for v in variants]
    parts += [f.text for f in sc.hidden_facts] + [r.text for r in sc.resolution_items]
    for k in sc.knowledge_points:
        parts += [k.text, *k.tip.values(), *(w.reason for w in k.wrong)]
    return "\n".join(parts)


def script(op_id: str, kind: str) -> list[str]:
    text = fill_text((SCRIPTS / f"call_forwarding.{kind}.txt").read_text(encoding="utf-8"), get_operator(op_id))
    return [ln for ln in text.splitlines() if ln.strip()]


@pytest.fixture(scope="module")
def engine(cache_dir):
    from app.core.acts import load_intent_model

    model = load_intent_model("zh-CN", acts_dir=ROOT / "rubrics" / "acts", cache_dir=cache_dir)
    return make_engine("scripted", lambda language: model)


def test_the_three_profiles_load_with_their_hotlines():
    ops = load_operators()
    assert {k: v.profile.hotline for k, v in ops.items()} == {
        "china_mobile": "10086", "china_telecom": "10000", "china_unicom": "10010"}
    # China Mobile and China Unicom share the GSM codes; China Telecom's CDMA codes are the others'
    assert codes_of("china_mobile") == codes_of("china_unicom")
    assert not codes_of("china_mobile") & codes_of("china_telecom")
    assert "*720" in ops["china_mobile"].other_codes and "##21#" in ops["china_telecom"].other_codes


@pytest.mark.parametrize("op_id", OPERATORS)
def test_call_forwarding_shows_only_the_operators_numbers_and_codes(op_id):
    sc = scenario(op_id)
    text = customer_and_knowledge_text(sc)
    profile = get_operator(op_id).profile
    assert "{operator" not in text
    foreign = set().union(*(codes_of(o) for o in OPERATORS)) - codes_of(op_id)
    found = sorted(c for c in foreign if code_re(c).search(text))
    assert not found, f"another operator's codes under {op_id}: {found}"
    own = {"cfu_off", "cfnry_off", "cfnry_on", "cf_all_off"}
    for name in own:
        code = getattr(profile.codes, name).split("号码")[0]
        assert code_re(code).search(text), f"{name} ({code}) missing under {op_id}"
    prefixes = {m.group(1) for m in PHONE.finditer(text)}
    assert prefixes and prefixes <= set(profile.number_prefixes), (op_id, prefixes)
    assert sc.customer.personal_data["phone"].startswith(profile.number_prefixes[0])
    for other in OPERATORS:
        if other != op_id:
            assert get_operator(other).profile.hotline not in text


ALL_SCENARIOS = sorted(p.name if lang == "zh-CN" else f"{lang}/{p.name}"
                       for p in (ROOT / "scenarios").glob("[!_]*.yaml") for lang in languages_of(p))


@pytest.mark.parametrize("rel", ALL_SCENARIOS)
def test_every_scenario_gives_the_customer_a_number_of_the_centres_operator(rel):
    """No scenario shows a China Telecom centre a China Mobile number (or the reverse)."""
    for op_id in OPERATORS:
        sc = scenario(op_id, rel)
        text = customer_and_knowledge_text(sc)
        prefixes = {m.group(1) for m in PHONE.finditer(text)}
        assert prefixes <= set(get_operator(op_id).profile.number_prefixes), (rel, op_id, prefixes)
        foreign = set().union(*(codes_of(o) for o in OPERATORS)) - codes_of(op_id)
        assert not [c for c in foreign if code_re(c).search(text)], (rel, op_id)


@pytest.mark.parametrize("op_id", OPERATORS)
def test_the_good_script_with_the_operators_codes_resolves_every_persona(engine, op_id):
    sc = scenario(op_id)
    for persona in sc.personas:
        r = play_lines(engine, sc, persona.id, 7, script(op_id, "good"))
        evs = [e for t in r["turns"] if t["speaker"] == "customer" for e in t["meta"]["events"]]
        wrong = [e for e in evs if e["type"] in ("wrong_statement", "impossible_promise", "disclosed_before_verification")]
        assert r["outcome"] == "resolved", (op_id, persona.id, r["turns"])
        assert not wrong, (op_id, persona.id, wrong)
        assert {i.id for i in sc.resolution_items if i.required} <= set(r["state"]["resolution"])


@pytest.mark.parametrize("op_id", OPERATORS)
def test_the_bad_script_does_not_resolve(engine, op_id):
    sc = scenario(op_id)
    r = play_lines(engine, sc, sc.personas[0].id, 7, script(op_id, "bad"))
    evs = [e for t in r["turns"] if t["speaker"] == "customer" for e in t["meta"]["events"]]
    assert r["outcome"] in ("escalated", "hung_up"), r["turns"]
    assert any(e["type"] == "wrong_statement" for e in evs)


@pytest.mark.parametrize("centre, script_of", [("china_telecom", "china_mobile"), ("china_mobile", "china_telecom")])
def test_another_operators_codes_are_a_wrong_statement(engine, centre, script_of):
    """An agent of a China Telecom centre who tells GSM codes (or the reverse) is wrong."""
    sc = scenario(centre)
    r = play_lines(engine, sc, sc.personas[0].id, 7, script(script_of, "good"))
    evs = [e for t in r["turns"] if t["speaker"] == "customer" for e in t["meta"]["events"]]
    assert any(e["type"] == "wrong_statement" for e in evs), r["turns"]
    assert not {"cancel_forward", "set_no_answer"} <= set(r["state"]["resolution"])


def test_an_unknown_placeholder_names_file_field_and_placeholder(tmp_path):
    path = tmp_path / "call_forwarding.yaml"
    text = (ROOT / "scenarios" / "call_forwarding.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("我老公的号码是 {operator.number_prefixes.1}", "我老公的号码是 {operator.codes.cfx_on}"),
                    encoding="utf-8")
    with pytest.raises(DataFileError) as exc:
        load_scenario(path, scenarios_dir=ROOT / "scenarios")
    (fault,) = exc.value.faults
    assert fault.file == str(path)
    assert fault.field == "lines.detail_number[0]"
    assert "{operator.codes.cfx_on}" in fault.reason and "china_mobile" in fault.reason


def test_a_value_the_profile_lacks_is_an_error_for_that_operator_only(tmp_path):
    # GSM networks have no do-not-disturb code; China Telecom's *80 exists
    path = tmp_path / "call_forwarding.yaml"
    text = (ROOT / "scenarios" / "call_forwarding.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("    - 你说。\n", "    - 你说。\n    - 免打扰是 {operator.codes.dnd_on} 吗？\n"), encoding="utf-8")
    assert "*80" in load_scenario(path, operator="china_telecom", scenarios_dir=ROOT / "scenarios").lines["filler"][-1]
    with pytest.raises(DataFileError) as exc:
        load_scenario(path, operator="china_unicom", scenarios_dir=ROOT / "scenarios")
    assert [f.field for f in exc.value.faults] == ["lines.filler[2]"]


def test_the_catalog_follows_the_centres_operator(tmp_path):
    """The centre's OPERATOR reaches the catalog; each operator's file version differs."""
    sdir = tmp_path / "scenarios"
    shutil.copytree(ROOT / "scenarios" / "_defaults", sdir / "_defaults")
    shutil.copy(ROOT / "scenarios" / "call_forwarding.yaml", sdir)
    # a copy of billing_complaint without placeholders (its China Mobile number written out)
    plain = (ROOT / "scenarios" / "billing_complaint.yaml").read_text(encoding="utf-8")
    (sdir / "billing_complaint.yaml").write_text(plain.replace("{operator.number_prefixes.7}", "139"), encoding="utf-8")
    rdir = ROOT / "rubrics"
    seen = {}
    for op_id in ("china_telecom", "china_unicom"):
        cat = build_catalog(sdir, rdir, paths=[sdir], operator=op_id)
        assert cat.ok, cat.faults
        seen[op_id] = {e.model.id: e for e in cat.of_kind("scenario")}
    tel, uni = seen["china_telecom"], seen["china_unicom"]
    assert tel["call_forwarding"].raw["customer"]["personal_data"]["phone"].startswith("133")
    assert uni["call_forwarding"].raw["customer"]["personal_data"]["phone"].startswith("186")
    assert tel["call_forwarding"].content_hash != uni["call_forwarding"].content_hash
    # a file without placeholders is the same version under every operator
    assert tel["billing_complaint"].content_hash == uni["billing_complaint"].content_hash


def test_an_unknown_operator_is_a_clear_error():
    with pytest.raises(DataFileError, match="unknown operator 'china_tietong'.*china_mobile"):
        get_operator("china_tietong")
