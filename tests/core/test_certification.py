"""Certification tracks: the core track's data, broken files, draws, marking and grades."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given, settings, strategies as st

from app.core.certification import catalog_cross_check, check_track_scenarios, load_track
from app.core.certification_marking import (
    DrillScore, band_for, case_total, draw_cases, draw_drills, draw_exam, grade, mark_exam,
    option_order, scale_drill,
)
from app.core.datafiles import DataFileError

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "rubrics" / "tracks" / "core.yaml"
BROKEN = ROOT / "tests" / "data" / "tracks_broken"
CORE_SCENARIOS = ["5g_plan_launch", "billing_complaint", "signal_complaint", "elderly_smartphone"]


@pytest.fixture(scope="module")
def track():
    return load_track(CORE)


@pytest.fixture(scope="module")
def mini():
    return load_track(BROKEN / "mini-ok.yaml")


def right_answers(track, qids):
    return {q: list(track.question(q).answer) for q in qids}


def wrong_answers(track, qids):
    out = {}
    for qid in qids:
        q = track.question(qid)
        wrong = [k for k in q.options if k not in q.answer]
        out[qid] = wrong[:1] if q.kind == "single" else [q.answer[0], wrong[0]]
    return out


# ---------------------------------------------------------------- the core track's data

def test_core_track_validates_with_a_big_enough_bank(track):
    qs = track.exam.questions
    singles = [q for q in qs if q.kind == "single"]
    multiples = [q for q in qs if q.kind == "multiple"]
    assert len(qs) >= 60 and len(singles) >= 50 and len(multiples) >= 10
    # More than the draw, so two attempts do not see the same paper.
    assert len(singles) > track.exam.draw.single.count and len(multiples) > track.exam.draw.multiple.count
    assert len({q.id for q in qs}) == len(qs)
    assert all(q.language == "zh-CN" and q.explanation.strip() for q in qs)
    assert track.total == 200 and track.exam.points == 100 and track.exam.pass_mark == 80
    assert (track.drills.count, track.drills.points_each, track.cases.count, track.cases.points_each) == (3, 20, 2, 20)
    assert len(track.cases.items) >= 4
    assert track.title == {"zh-CN": "热线客服岗位技能认证", "en": "Hotline agent skills certification"}


def test_core_pool_names_known_scenarios(track):
    known = {p.stem for p in (ROOT / "scenarios").glob("*.yaml")}
    assert set(CORE_SCENARIOS) <= set(track.drills.pool)
    assert check_track_scenarios(track, known, str(CORE)) == []


def test_core_answer_keys_are_spread(track):
    # A bank whose answer is nearly always "B" is answerable without reading.
    keys = [q.answer[0] for q in track.exam.questions if q.kind == "single"]
    assert all(keys.count(k) <= len(keys) * 0.4 for k in "ABCD")


# ---------------------------------------------------------------- broken files

BROKEN_CASES = [
    ("answer-not-option", "exam.questions[0].answer[0]", "not among the options"),
    ("single-two-keys", "exam.questions[1].answer", "exactly 1 correct key"),
    ("multiple-one-key", "exam.questions[4].answer", "at least 2 correct keys"),
    ("multiple-all-keys", "exam.questions[4].answer", "every option is correct"),
    ("duplicate-question", "exam.questions[1].id", "duplicate question id 's1'"),
    ("bank-too-small", "exam.draw.single.count", "bank holds 3"),
    ("exam-points", "exam.draw", "worth 80 points"),
    ("drill-points", "drills.points", "3 × 25 = 75"),
    ("case-points", "cases.items[0].key_points", "sum to 18"),
    ("grades-overlap", "grades[0].min", "overlaps grades[1]"),
    ("grades-gap", "grades[1].min", "gap"),
    ("unknown-field", "exam.questions[2].explaination", "unknown field"),
    ("total-mismatch", "total", "not 190"),
    ("pass-mark-too-high", "exam.pass_mark", "exceeds"),
]


@pytest.mark.parametrize("name,field,reason", BROKEN_CASES, ids=[c[0] for c in BROKEN_CASES])
def test_broken_file_names_file_and_field(name, field, reason):
    path = BROKEN / f"{name}.yaml"
    with pytest.raises(DataFileError) as exc:
        load_track(path)
    hits = [f for f in exc.value.faults if f.field == field and reason in f.reason]
    assert hits, [str(f) for f in exc.value.faults]
    assert str(hits[0]).startswith(f"{path}: {field}: ")


def test_control_fixture_is_valid(mini):
    assert mini.id == "mini-ok"


def test_unknown_scenario_is_a_cross_check_fault():
    path = BROKEN / "unknown-scenario.yaml"
    t = load_track(path)  # loads: scenario ids need the other files
    faults = check_track_scenarios(t, CORE_SCENARIOS, str(path))
    assert [(f.field, "no_such_scenario" in f.reason) for f in faults] == [("drills.pool[3]", True)]
    catalog = SimpleNamespace(of_kind=lambda kind: [SimpleNamespace(model=SimpleNamespace(id=s)) for s in CORE_SCENARIOS])
    assert [f.field for f in catalog_cross_check(catalog, path, t)] == ["drills.pool[3]"]


def test_id_must_match_file_name(tmp_path):
    path = tmp_path / "other.yaml"
    shutil.copy(BROKEN / "mini-ok.yaml", path)
    with pytest.raises(DataFileError) as exc:
        load_track(path)
    assert [f.field for f in exc.value.faults] == ["id"]


# ---------------------------------------------------------------- draws

def test_exam_draw_is_deterministic_and_varies(track):
    a = draw_exam(track, 42)
    assert a == draw_exam(track, 42) == draw_exam(load_track(CORE), 42)
    assert len(a) == 60 and len(set(a)) == 60
    kinds = [track.question(q).kind for q in a]
    assert kinds == ["single"] * 50 + ["multiple"] * 10
    draws = {tuple(draw_exam(track, s)) for s in range(10)}
    assert len(draws) == 10
    assert draw_exam(track, "attempt-17") == draw_exam(track, "attempt-17") != draw_exam(track, "attempt-18")


def test_drill_and_case_draws(track):
    d = draw_drills(track, 7)
    assert d == draw_drills(track, 7) and len(set(d)) == 3 and set(d) <= set(track.drills.pool)
    assert len({tuple(draw_drills(track, s)) for s in range(20)}) > 1
    c = draw_cases(track, 7)
    assert c == draw_cases(track, 7) and len(set(c)) == 2
    assert {x for s in range(30) for x in draw_cases(track, s)} == {k.id for k in track.cases.items}


def test_seed_must_be_int_or_str(track):
    for bad in (True, 1.5, None):
        with pytest.raises(ValueError, match="seed"):
            draw_exam(track, bad)


def test_option_order_keeps_the_answer_key(track):
    qid = draw_exam(track, 1)[0]
    assert option_order(track, qid, 1) == list(track.question(qid).options)
    shuffled = track.model_copy(update={"exam": track.exam.model_copy(update={"shuffle_options": True})})
    orders = {tuple(option_order(shuffled, qid, s)) for s in range(20)}
    assert len(orders) > 1 and all(sorted(o) == sorted(track.question(qid).options) for o in orders)
    # Answers are keys, not display positions: marking is the same whatever the order.
    qids = draw_exam(shuffled, 1)
    assert mark_exam(shuffled, qids, right_answers(shuffled, qids)).total == 100


# ---------------------------------------------------------------- exam marking

def test_all_right_all_wrong_unanswered(track):
    qids = draw_exam(track, 3)
    full = mark_exam(track, qids, right_answers(track, qids))
    assert (full.total, full.max, full.passed) == (100, 100, True)
    assert all(m.right for m in full.questions)
    assert mark_exam(track, qids, wrong_answers(track, qids)).total == 0
    empty = mark_exam(track, qids, {})
    assert empty.total == 0 and not any(m.answered for m in empty.questions)
    assert mark_exam(track, qids, {q: None for q in qids}).total == 0
    assert mark_exam(track, qids, {q: [] for q in qids}).total == 0


def test_partial_and_pass_mark(track):
    qids = draw_exam(track, 4)
    singles, multiples = qids[:50], qids[50:]
    answers = right_answers(track, singles)  # 50 × 1.6 = 80: exactly the pass mark
    r = mark_exam(track, qids, answers)
    assert r.total == 80 and r.passed
    answers.pop(singles[0])
    r = mark_exam(track, qids, answers)
    assert r.total == 78.4 and not r.passed
    r = mark_exam(track, qids, {**right_answers(track, singles[:10]), **right_answers(track, multiples[:3])})
    assert r.total == 22.0
    topics = r.by_topic()
    assert sum(p for p, _ in topics.values()) == pytest.approx(22.0)
    assert sum(m for _, m in topics.values()) == pytest.approx(100.0)
    json.dumps(r.to_dict(), ensure_ascii=False)


def test_multiple_choice_is_all_or_nothing(track):
    qids = draw_exam(track, 5)
    m = track.question(qids[-1])
    subset = {m.id: list(m.answer[:-1])}
    extra = [k for k in m.options if k not in m.answer][:1]
    superset = {m.id: list(m.answer) + extra}
    reordered = {m.id: list(reversed(m.answer))}
    assert mark_exam(track, qids, subset).total == 0
    assert mark_exam(track, qids, superset).total == 0
    assert mark_exam(track, qids, reordered).total == 2.0


@pytest.mark.parametrize("mutate,message", [
    (lambda q, a, t: (q[:-1] + ["no_such_q"], a), "unknown question id 'no_such_q'"),
    (lambda q, a, t: (q[:-1] + [q[0]], a), "drawn twice"),
    (lambda q, a, t: (q[:-1], a), "10 multiple-choice questions, these ids hold 9"),
    (lambda q, a, t: (q, {**a, "q_flow_99": ["A"]}), "not in this exam"),
    (lambda q, a, t: (q, {q[0]: ["Z"]}), "not among the options"),
    (lambda q, a, t: (q, {q[-1]: ["A", "A"]}), "lists a key twice"),
    (lambda q, a, t: (q, {q[0]: ["A", "B"]}), "single-choice but the answer gives 2 keys"),
    (lambda q, a, t: (q, {q[0]: "A"}), "must be a list"),
])
def test_invalid_exam_input_is_rejected(track, mutate, message):
    qids = draw_exam(track, 6)
    q, a = mutate(list(qids), right_answers(track, qids), track)
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        mark_exam(track, q, a)


# ---------------------------------------------------------------- drills and cases

def test_scale_drill():
    assert scale_drill(100, 100, False) == 20
    assert scale_drill(87.5, 100, False) == 17.5
    assert scale_drill(45, 50, False) == 18
    assert scale_drill(0, 100, False) == 0
    assert scale_drill(95, 100, True) == 0  # a red-line flag wipes the drill
    assert scale_drill(2, 3, False) == 13.33
    assert scale_drill(50, 100, False, points=30) == 15
    for total, mx in ((-1, 100), (100.5, 100), (0, 0)):
        with pytest.raises(ValueError):
            scale_drill(total, mx, False)


def test_case_total(mini):
    assert case_total(mini, "c1", {"k1": 12, "k2": 8}) == 20
    assert case_total(mini, "c1", {"k1": 5.5}) == 5.5  # an unmarked key point is 0
    assert case_total(mini, "c1", {}) == 0
    for marks, message in (({"k1": 13}, "outside 0..12"), ({"k2": -1}, "outside"),
                           ({"k9": 1}, "no key point"), ({"k1": "5"}, "must be a number")):
        with pytest.raises(ValueError, match=message):
            case_total(mini, "c1", marks)
    with pytest.raises(ValueError, match="unknown case id"):
        case_total(mini, "nope", {})


# ---------------------------------------------------------------- grades

def attempt(track, exam, drill_totals, case_marks=(0, 0), flagged=()):
    drills = [DrillScore(sid, t, 100, sid in flagged) for sid, t in zip(CORE_SCENARIOS, drill_totals)]
    c1 = case_marks[0]  # c1's key points are worth 12 + 8
    cases = {"c1": {"k1": min(c1, 12), "k2": max(c1 - 12, 0)}, "c2": {"k1": case_marks[1]}}
    return grade(track, exam, drills, cases)


@pytest.mark.parametrize("exam,drills,expected_total,expected", [
    (100, (100, 100, 100), 160, "excellent"),
    (100, (100, 100, 95), 159, "good"),
    (100, (100, 100, 0), 140, "good"),
    (99, (100, 100, 0), 139, "pass"),
    (100, (100, 0, 0), 120, "pass"),
    (99, (100, 0, 0), 119, "retake"),
])
def test_grade_boundaries(mini, exam, drills, expected_total, expected):
    out = attempt(mini, exam, drills)
    assert (out.total, out.grade, out.passed_exam) == (expected_total, expected, True)
    assert out.certified == (expected != "retake")


def test_fractional_totals_fall_in_half_open_bands(mini):
    assert band_for(mini, 159.99).grade == "good"
    assert band_for(mini, 160).grade == "excellent"
    assert band_for(mini, 200).grade == "excellent"
    assert band_for(mini, 0).grade == "retake"
    for bad in (-0.01, 200.01):
        with pytest.raises(ValueError):
            band_for(mini, bad)


def test_failed_exam_forces_retake(mini):
    out = attempt(mini, 79.6, (100, 100, 100), (12, 20))
    assert out.total == 171.6 and not out.passed_exam and out.grade == "retake" and not out.certified
    assert [r.code for r in out.reasons] == ["band", "exam_failed"]
    passed = attempt(mini, 80, (100, 100, 100), (20, 0))  # exactly the pass mark: no gate
    assert (passed.total, passed.passed_exam, passed.grade) == (160, True, "excellent")


def test_exam_gate_can_be_switched_off(mini):
    ungated = mini.model_copy(update={"exam": mini.exam.model_copy(update={"gate_grade": None})})
    out = attempt(ungated, 79.6, (100, 100, 100), (12, 20))
    assert (out.grade, out.passed_exam) == ("excellent", False)


def test_red_line_drill_scores_zero_and_does_not_count(mini):
    out = attempt(mini, 100, (100, 100, 100), (20, 20), flagged={"billing_complaint"})
    assert out.drill_points == 40 and out.total == 180
    assert out.counted_drills == ("5g_plan_launch", "signal_complaint")
    assert [d.counted for d in out.drills] == [True, False, True]
    assert "drill_red_line" in [r.code for r in out.reasons]


def test_full_marks_is_200_and_serialises(track, mini):
    qids = draw_exam(track, 9)
    exam = mark_exam(track, qids, right_answers(track, qids))
    out = attempt(mini, exam, (100, 100, 100), (20, 20))
    assert (out.total, out.exam_points, out.drill_points, out.case_points, out.grade) == (200, 100, 60, 40, "excellent")
    data = json.loads(json.dumps(out.to_dict(), ensure_ascii=False))
    assert data["certified"] is True and data["cases"] == {"c1": 20, "c2": 20}


@pytest.mark.parametrize("kwargs,message", [
    ({"exam": 100.5}, "outside 0..100"),
    ({"exam": -1}, "outside"),
    ({"exam": "90"}, "ExamResult or a number"),
    ({"drills": [DrillScore("5g_plan_launch", 90, 100)] * 2}, "has 3 drills, got 2"),
    ({"drills": [DrillScore("5g_plan_launch", 90, 100)] * 3}, "drilled twice"),
    ({"drills": [DrillScore(s, 90, 100) for s in ("a_b", "billing_complaint", "signal_complaint")]}, "not in the track's drill pool"),
    ({"drills": [DrillScore(s, 101, 100) for s in CORE_SCENARIOS[:3]]}, "outside 0..100"),
    ({"cases": {"c1": {}}}, "has 2 cases, got 1"),
    ({"cases": {"c1": {"k1": 30}, "c2": {}}}, "outside 0..12"),
    ({"cases": {"c1": {}, "zz": {}}}, "unknown case id"),
])
def test_grade_rejects_bad_input(mini, kwargs, message):
    args = {"exam": 90, "drills": [DrillScore(s, 90, 100) for s in CORE_SCENARIOS[:3]],
            "cases": {"c1": {}, "c2": {}}, **kwargs}
    with pytest.raises(ValueError, match=message):
        grade(mini, **args)


@settings(max_examples=150, deadline=None)
@given(exam=st.floats(0, 100), drills=st.lists(st.floats(0, 100), min_size=3, max_size=3),
       flags=st.lists(st.booleans(), min_size=3, max_size=3),
       k1=st.floats(0, 12), k2=st.floats(0, 8), c2=st.floats(0, 20))
def test_totals_stay_in_range_and_grade_follows_bands(mini, exam, drills, flags, k1, k2, c2):
    ds = [DrillScore(s, t, 100, f) for s, t, f in zip(CORE_SCENARIOS, drills, flags)]
    out = grade(mini, exam, ds, {"c1": {"k1": k1, "k2": k2}, "c2": {"k1": c2}})
    assert 0 <= out.total <= 200
    assert len(out.counted_drills) == flags.count(False)
    expected = band_for(mini, out.total).grade if out.passed_exam else "retake"
    assert out.grade == expected


# --- issue 13: one defensible answer per question, its norm named, one operator's codes -------

def test_every_question_names_its_norm_and_the_2025_ones_say_so(track):
    qs = track.exam.questions
    assert all(q.norm for q in qs)
    # where seed 002's 2025 standards raised a target, the question names the standard it asks
    for q in qs:
        if q.norm == "seed-002-2025" and q.topic in ("complaints", "kpi"):
            assert "2025" in q.stem, q.id
    # the older targets are not offered next to the 2025 answer (two defensible answers)
    assert not any("3 个工作日" in o for o in track.question("q_cmp_04").options.values())
    assert not any("95%" in o for o in track.question("q_kpi_05").options.values())


def test_questions_on_one_scenarios_invented_facts_state_them_or_are_general(track):
    # the 5G card swap, the 15-yuan refund in 3 working days, 24 h / 48 h technician times and
    # "effective on the 1st of next month" are case facts of single scenarios, not rules
    texts = {q.id: q.stem + "".join(q.options.values()) + q.explanation
             for q in track.exam.questions}
    for qid, fact in [("q_5g_01", "2017"), ("q_bill_02", "3 个工作日"), ("q_sig_01", "48 小时"),
                      ("q_reg_02", "次月 1 日")]:
        assert fact not in texts[qid], qid
    for qid in ("q_5g_02", "q_5g_03", "q_bill_01"):
        assert track.question(qid).norm == "case"


@pytest.mark.parametrize("operator, foreign", [("china_mobile", ["*720", "*800", "*900", "*730"]),
                                               ("china_telecom", ["##21#", "##002#", "**21*"])])
def test_forwarding_questions_use_the_centres_operator_codes(operator, foreign):
    t = load_track(CORE, operator)
    fwd = [q for q in t.exam.questions if q.topic == "call_forwarding"]
    text = "\n".join(q.stem + "".join(q.options.values()) + q.explanation for q in fwd)
    assert not [c for c in foreign if c in text], text
    q = t.question("q_fwd_03")
    assert q.options[q.answer[0]] == {"china_mobile": "##002#", "china_telecom": "*730"}[operator]


def test_roaming_elderly_case_states_one_comparison(track):
    case = next(c for c in track.cases.items if c.id == "roaming_elderly")
    assert "多花" not in case.text
    assert "200" in case.text and "200" in case.model_answer
