"""Speech-act model: data files, rules, extraction, classifier, cache. No Flask needed."""
from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
import yaml

from app.core import acts as acts_mod
from app.core.acts import (
    ACTS, CLASSIFIER_ACTS, Analysis, cache_file, evaluate, fit_intent_model,
    forget_loaded_models, load_intent_model, split_examples, train_all,
)
from app.core.acts_data import MIN_EXAMPLES_PER_ACT, load_examples
from app.core.acts_rules import forbidden_words, has_self_id, has_time_commitment
from app.core.datafiles import DataFileError
from app.core.numbers import (
    amounts, chinese_to_number, data_volumes_gb, durations, id_fragments, phones, staff_ids,
)

ROOT = Path(__file__).resolve().parents[2]
ACTS_DIR = ROOT / "rubrics" / "acts"
LANGS = ("zh-CN", "en")


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("intent-cache")


@pytest.fixture(scope="session")
def models(model_cache):
    """Each language trained once for the whole session."""
    forget_loaded_models()
    return {lang: load_intent_model(lang, ACTS_DIR, model_cache) for lang in LANGS}


# --- data files -------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGS)
def test_data_file_validates_with_enough_examples(lang):
    data, sha = load_examples(lang, ACTS_DIR)
    assert data.language == lang and len(sha) == 64
    assert list(data.acts) == list(ACTS)
    for act in ACTS:
        assert sum(act in ex.acts for ex in data.examples) >= MIN_EXAMPLES_PER_ACT, act
    assert sum(not ex.acts for ex in data.examples) >= 60


@pytest.mark.parametrize("lang", LANGS)
def test_data_labels_agree_with_the_rules(lang):
    """forbidden_word is labelled exactly where the rule fires; the self_id and
    time_commitment rules never fire on an example that lacks the act."""
    data, _ = load_examples(lang, ACTS_DIR)
    for i, ex in enumerate(data.examples):
        assert bool(forbidden_words(ex.text, lang)) == ("forbidden_word" in ex.acts), (i, ex.text)
        if has_self_id(ex.text):
            assert "self_id" in ex.acts, (i, ex.text)
        if has_time_commitment(ex.text, lang):
            assert "time_commitment" in ex.acts, (i, ex.text)


def test_split_is_deterministic_stratified_and_disjoint():
    data, _ = load_examples("zh-CN", ACTS_DIR)
    train, held = split_examples(data.examples)
    again_train, again_held = split_examples(list(data.examples))
    assert [e.text for e in held] == [e.text for e in again_held]
    assert not {e.text for e in train} & {e.text for e in held}
    assert 0.17 < len(held) / len(data.examples) < 0.23
    firsts = {(e.acts[0] if e.acts else "none") for e in held}
    assert firsts >= set(ACTS) | {"none"} - {"self_id"}


def _write(tmp_path: Path, data: dict, lang: str = "en") -> Path:
    path = tmp_path / f"{lang}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def en_data() -> dict:
    return yaml.safe_load((ACTS_DIR / "en.yaml").read_text(encoding="utf-8"))


def _faults(tmp_path: Path, lang: str = "en") -> list[str]:
    with pytest.raises(DataFileError) as info:
        load_examples(lang, tmp_path)
    return [str(f) for f in info.value.faults]


def test_unknown_act_names_file_and_field(tmp_path, en_data):
    en_data["examples"][12]["acts"] = [en_data["examples"][12]["acts"][0], "gretting"]
    path = _write(tmp_path, en_data)
    faults = _faults(tmp_path)
    assert any(f.startswith(f"{path}: examples[12].acts[1]: unknown act 'gretting'") for f in faults), faults


def test_too_few_examples_is_a_fault(tmp_path, en_data):
    en_data["examples"] = [ex for ex in en_data["examples"] if "upsell" not in ex["acts"]][:-1]
    en_data["examples"].append({"text": "Want our premium pack?", "acts": ["upsell"]})
    path = _write(tmp_path, en_data)
    faults = _faults(tmp_path)
    assert any(f.startswith(f"{path}: examples: too few examples") and "upsell has 1" in f for f in faults), faults


def test_missing_field_and_unknown_field_are_faults(tmp_path, en_data):
    del en_data["examples"][5]["text"]
    en_data["examples"][7]["act"] = ["greeting"]
    path = _write(tmp_path, en_data)
    faults = _faults(tmp_path)
    assert f"{path}: examples[5].text: required field is missing" in faults
    assert f"{path}: examples[7].act: unknown field (check the spelling)" in faults


def test_language_mismatch_and_missing_file(tmp_path, en_data):
    _write(tmp_path, en_data, lang="zh-CN")
    assert any("expected 'zh-CN'" in f for f in _faults(tmp_path, "zh-CN"))
    with pytest.raises(DataFileError):
        load_examples("en", tmp_path / "nowhere")


# --- rules --------------------------------------------------------------------------

@pytest.mark.parametrize("text, words", [
    ("喂，您好，请讲。", ("喂",)),
    ("什么？您再说一遍。", ("什么",)),
    ("什么?你说什么", ("什么", "什么")),
    ("嗯？什么？信号不好。", ("什么",)),
    ("这个我也不知道。", ("不知道",)),
    ("您应该已经收到短信了。", ("应该",)),
    ("好像是网络问题，应该很快就好。", ("好像", "应该")),
    ("不可能扣错的。", ("不可能",)),
    ("我不知道您说的是哪个。", ("不知道",)),
    ("你烦不烦啊，这种事我们也没办法", ("烦不烦", "没办法")),
    ("没办法，规定就是这样。", ("没办法",)),
])
def test_zh_forbidden_words_found_in_order(text, words):
    assert forbidden_words(text, "zh-CN") == words


@pytest.mark.parametrize("text", [
    "您好，请问有什么可以帮您？", "工程师什么时候上门？", "为什么会这样，我来查一查。",
    "您知道吗，这个功能就在设置里。", "这是我们应该做的，不用客气。", "我尽可能快一点帮您处理。",
    "您不知道密码也没关系，我教您重置。", "请问您要办理什么业务？", "您不需要担心。",
    "不知道您现在方便说话吗？", "我问一下，不知道您方便提供一下机主姓名吗？",
    "我没法保证今天修好。", "我没办法保证今天修好，但会尽快。", "您现在没办法上网，是吗？",
])
def test_zh_near_misses_not_flagged(text):
    assert forbidden_words(text, "zh-CN") == ()


@pytest.mark.parametrize("text, words", [
    ("What? Say that again.", ("what?",)),
    ("Sorry, what? The line is bad.", ("what?",)),
    ("I don't know, ask the store.", ("i don't know",)),
    ("It should be fixed soon, probably.", ("should be", "probably")),
    ("I guess it seems like a network fault.", ("i guess", "seems like")),
    ("That's impossible.", ("impossible",)),
])
def test_en_forbidden_words_found(text, words):
    assert forbidden_words(text, "en") == words


@pytest.mark.parametrize("text", [
    "What can I help you with today?", "What time suits you?", "You should restart the router.",
    "If you don't know your PIN, I can reset it.", "I know this is frustrating.",
    "It's possible to cancel online.",
])
def test_en_near_misses_not_flagged(text):
    assert forbidden_words(text, "en") == ()


@pytest.mark.parametrize("text, lang, expected", [
    ("工程师会在24小时内上门处理。", "zh-CN", True),
    ("我们明天上午优先处理，处理完立即通知您。", "zh-CN", True),
    ("流量日包24小时内有效。", "zh-CN", False),
    ("这个套餐合约期是24个月。", "zh-CN", False),
    ("I'll call you back within 2 hours.", "en", True),
    ("The day pass lasts 24 hours.", "en", False),
    ("ill call you back before 6pm today", "en", True),
    ("ill give you a ring on friday afternoon", "en", True),
    ("Are you free on Friday afternoon?", "en", False),
])
def test_time_commitment_rule(text, lang, expected):
    assert has_time_commitment(text, lang) is expected


def test_training_variants_drop_punctuation_and_polite_you():
    zh = acts_mod.variants("您好，请问您是机主本人吗？", "zh-CN", ("bare", "ni"))
    assert zh == ["您好请问您是机主本人吗", "你好，请问你是机主本人吗？"]
    assert acts_mod.variants("Hi, I'm Lily. It costs 3.5 yuan?", "en", ("bare",)) == ["hi im lily it costs 3.5 yuan"]
    assert acts_mod.variants("好的", "zh-CN", ("bare", "ni")) == []  # nothing to vary, nothing added


def test_augmented_pairs_carry_both_acts():
    import numpy as np

    texts = ["您好。", "抱歉。", "再见。"]
    y = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    out, labels = acts_mod.augmented("zh-CN", texts, y, ("concat",))
    assert out[:3] == texts and len(out) == 6
    for text, row in zip(out[3:], labels[3:]):
        assert row.sum() == 2 and all(texts[i] in text for i in np.flatnonzero(row))


@pytest.mark.parametrize("text, expected", [
    ("您好这边是移动10086请问有什么可以帮到您", False),
    ("工单我提好了，单号是2026120700315，您记一下", False),
    ("您这个号是2017年开户的", False),
    ("您好，联通客服，我是8817号客服代表", True),
    ("我这边工号两千零四十六。", True),
])
def test_digits_that_could_be_a_staff_number(text, expected):
    assert acts_mod._could_be_staff_number(text) is expected


# --- extraction ---------------------------------------------------------------------

@pytest.mark.parametrize("numeral, value", [
    ("十五", 15), ("三十五", 35), ("一百零八", 108), ("两", 2), ("两百", 200), ("三百五", 350),
    ("一千零五", 1005), ("两万五", 25000), ("十", 10), ("九点九", 9.9), ("三七二一", 3721),
])
def test_chinese_numerals(numeral, value):
    assert chinese_to_number(numeral) == value


def test_chinese_numeral_rejects_other_text():
    with pytest.raises(ValueError):
        chinese_to_number("套餐")


def test_amounts():
    assert amounts("这笔十五元，另外108块，还有¥35和两块钱，共一百零八元") == (15, 108, 35, 2, 108)
    assert amounts("It costs 35 yuan, or RMB 20, plus 9.9元") == (35, 20, 9.9)
    assert amounts("5G套餐每月很划算") == ()


def test_data_volumes():
    assert data_volumes_gb("送您30G流量，再加30GB、30 GB和500MB") == (30, 30, 30, 0.5)
    assert data_volumes_gb("5G套餐在4G信号下，2.4G的Wi-Fi，100M宽带") == ()
    assert data_volumes_gb("十元五个G，5G流量") == (5, 5)
    assert data_volumes_gb("a 5G plan with 20GB of data") == (20,)


def test_phones_ids_and_staff_numbers():
    assert phones("号码138 1234 5678或139-8765-4321，不是123456789012") == ("13812345678", "13987654321")
    assert id_fragments("身份证后四位是3517，证件尾数002x") == ("3517", "002X")
    assert id_fragments("the last four digits are 1234") == ("1234",)
    assert id_fragments("身份证号110101199003077777") == ()
    assert staff_ids("您好，工号1024，我的工号是六六一八") == ("1024", "6618")
    assert staff_ids("This is agent number 2087, staff ID: 4410") == ("2087", "4410")


def test_durations():
    assert durations("24小时内、3个工作日内、两个小时之内、明天上午十点前") == (
        "24小时", "3个工作日", "两个小时", "明天上午十点前")
    assert durations("within 2 hours, by tomorrow morning, in 3 business days") == (
        "2 hours", "by tomorrow morning", "3 business days")


# --- classifier ---------------------------------------------------------------------

UNSEEN = {
    "zh-CN": [
        ("您好，欢迎致电中国电信，请问有什么能帮您？", "greeting"),
        ("下午好，客服热线，很高兴为您服务。", "greeting"),
        ("我的工号是5126，有问题可以找我。", "self_id"),
        ("请您提供一下机主姓名和身份证后四位。", "identity_request"),
        ("请把刚收到的短信验证码告诉我。", "identity_request"),
        ("您的意思是宽带晚上经常掉线，对吗？", "restate"),
        ("我确认一下，您是想取消视频会员，对吧？", "restate"),
        ("您能具体说说是怎么回事吗？", "open_question"),
        ("您平时主要在哪些地方用流量？", "open_question"),
        ("您的手机是安卓的还是苹果的？", "closed_question"),
        ("您家的光猫灯是红色的还是绿色的？", "closed_question"),
        ("我非常理解您的心情。", "empathy"),
        ("换作是我也会很着急。", "empathy"),
        ("非常抱歉，让您久等了。", "apology"),
        ("对不起，给您添麻烦了。", "apology"),
        ("这笔10元是您订购的彩铃月费。", "explanation"),
        ("套餐变更是下个月1号生效的。", "explanation"),
        ("我马上帮您把这个业务退订掉。", "solution_offer"),
        ("建议您先重启一下光猫试试。", "solution_offer"),
        ("我们会在2小时内给您回电。", "time_commitment"),
        ("3个工作日内会有专人联系您。", "time_commitment"),
        ("这样给您处理，您看满意吗？", "confirm_result"),
        ("您现在能正常上网了吗？", "confirm_result"),
        ("请问您还有其他需要帮忙的地方吗？", "closing"),
        ("感谢您的来电，祝您生活愉快，再见。", "closing"),
        ("顺便给您推荐一下我们的新套餐，每月只要多20元。", "upsell"),
        ("现在办千兆宽带还送路由器，要不要一起办？", "upsell"),
        ("这个业务是您自己订的。", "blame_customer"),
        ("是您没看清楚合同条款。", "blame_customer"),
        ("我刚才不是说过了吗？", "rude"),
        ("你听不懂吗？", "rude"),
        ("您那边基站负载太高了。", "jargon"),
        ("您把APN改一下就行。", "jargon"),
    ],
    "en": [
        ("Good morning, thanks for calling customer service, how can I help?", "greeting"),
        ("Hello, welcome to the help line, how may I help you?", "greeting"),
        ("My staff ID is 5126 if you need it.", "self_id"),
        ("Could you give me the account holder's name and the last four digits of the ID?", "identity_request"),
        ("Please read me the verification code we just texted you.", "identity_request"),
        ("So your broadband keeps dropping in the evening, is that right?", "restate"),
        ("Just to confirm, you want to cancel the video membership, correct?", "restate"),
        ("Could you describe what happens when you try to call?", "open_question"),
        ("What do you mostly use your phone for?", "open_question"),
        ("Is your phone an Android or an iPhone?", "closed_question"),
        ("Is the modem light red or green?", "closed_question"),
        ("I completely understand how frustrating this is.", "empathy"),
        ("I'd be worried too in your position.", "empathy"),
        ("I'm very sorry to keep you waiting.", "apology"),
        ("I apologise for the trouble this has caused.", "apology"),
        ("This 10 yuan is the monthly fee for the ringback tone you ordered.", "explanation"),
        ("Plan changes take effect on the 1st of next month.", "explanation"),
        ("I'll cancel that service for you right now.", "solution_offer"),
        ("Try restarting the modem and see if that helps.", "solution_offer"),
        ("We'll ring you back within 2 hours.", "time_commitment"),
        ("A specialist will contact you within 3 working days.", "time_commitment"),
        ("Are you happy with this outcome?", "confirm_result"),
        ("Is the internet working for you now?", "confirm_result"),
        ("Is there anything else I can help you with?", "closing"),
        ("Thanks for calling, have a great day, goodbye.", "closing"),
        ("While I have you, our new plan is only 20 yuan more and doubles your data, shall I upgrade you?", "upsell"),
        ("Would you like to add a video membership too? It's only 15 yuan a month.", "upsell"),
        ("You ordered this service yourself.", "blame_customer"),
        ("You didn't read the contract properly.", "blame_customer"),
        ("Didn't I already say that?", "rude"),
        ("How many times do I have to explain this?", "rude"),
        ("The cell site in your area is overloaded.", "jargon"),
        ("Just change the APN and turn on VoLTE.", "jargon"),
    ],
}


@pytest.mark.parametrize("lang", LANGS)
def test_classifier_recognises_unseen_examples(models, lang):
    known = {ex.text for ex in load_examples(lang, ACTS_DIR)[0].examples}
    sentences = UNSEEN[lang]
    assert {act for _, act in sentences} == set(CLASSIFIER_ACTS)
    assert not known & {text for text, _ in sentences}, "test sentences must not be in the data file"
    results = models[lang].analyse_many([text for text, _ in sentences])
    misses = [(text, act, sorted(r.acts)) for (text, act), r in zip(sentences, results) if act not in r.acts]
    assert not misses


def test_analysis_fields_and_dict(models):
    a = models["zh-CN"].analyse("您好，工号1024，这笔十五元会在3个工作日内退回，您的号码13812345678，送您30G流量，喂？")
    assert isinstance(a, Analysis)
    assert {"greeting", "self_id", "time_commitment", "forbidden_word"} <= a.acts
    assert a.staff_ids == ("1024",) and a.amounts == (15,) and a.data_gb == (30,)
    assert a.phones == ("13812345678",) and a.durations == ("3个工作日",) and a.forbidden == ("喂",)
    assert set(a.scores) == set(CLASSIFIER_ACTS)
    assert all(0 <= v <= 1 and round(v, 4) == v for v in a.scores.values())
    d = json.loads(json.dumps(a.to_dict(), ensure_ascii=False))
    assert d["acts"] == [act for act in ACTS if act in a.acts]
    assert models["en"].analyse("") .acts == frozenset()
    assert models["en"].analyse_many([]) == []


def test_analyse_many_matches_analyse(models):
    texts = ["I'm sorry, what?", "Thanks for calling, goodbye.", "Is it red or green?"]
    model = models["en"]
    results = model.analyse_many(texts)
    assert results == [model.analyse(t) for t in texts]
    reference = model.pipeline.predict_proba(texts)  # the fast path must agree with sklearn
    for result, row in zip(results, reference):
        assert result.scores == {act: round(float(p), 4) for act, p in zip(model.labels, row)}


@pytest.mark.parametrize("lang", LANGS)
def test_the_fast_single_text_path_gives_the_vectorisers_numbers(models, lang):
    # A drill turn scores one text through LinearScorer; it must equal the scikit-learn
    # product on every training example, and a batch must take the scikit-learn path.
    model = models[lang]
    model.analyse("warm up")
    assert model._scorer is not None
    texts = [ex.text for ex in load_examples(lang, ACTS_DIR)[0].examples]
    fast = model._scorer.scores(texts)
    slow = model.pipeline.named_steps["features"].transform(texts) @ model._weights + model._bias
    assert fast.shape == slow.shape and abs(fast - slow).max() < 1e-9
    one_by_one = [model.analyse(t).scores for t in texts[:40]]
    assert one_by_one == [a.scores for a in model.analyse_many(texts[:40])]


def test_forbidden_word_only_by_rule(models):
    clean = models["zh-CN"].analyse("这个费用我来帮您查清楚。")
    assert "forbidden_word" not in clean.acts and clean.forbidden == ()
    assert "forbidden_word" not in clean.scores


def test_fit_is_deterministic():
    data, _ = load_examples("zh-CN", ACTS_DIR)
    train, held = split_examples(data.examples)
    texts = [ex.text for ex in held]
    one = fit_intent_model("zh-CN", train, tune=False).analyse_many(texts)
    two = fit_intent_model("zh-CN", train, tune=False).analyse_many(texts)
    assert one == two


def test_evaluate_reports_heldout_figures(models, model_cache):
    report = evaluate("zh-CN", ACTS_DIR, model_cache)
    assert set(report["per_act"]) == set(ACTS)
    assert report["n_heldout"] == sum(1 for _ in split_examples(load_examples("zh-CN", ACTS_DIR)[0].examples)[1])
    assert report["per_act"]["forbidden_word"]["f1"] == 1.0 and report["rule_macro_f1"] == 1.0
    assert report["macro_f1"] > 0.75
    assert all(v["support"] > 0 for v in report["per_act"].values())


# --- cache --------------------------------------------------------------------------

def _counting_fit(monkeypatch) -> list[str]:
    """Replace the fit with a cheap, counted one (no threshold tuning)."""
    calls: list[str] = []
    real = acts_mod.fit_intent_model

    def fit(language, examples, tune=True, cache_key=""):
        calls.append(language)
        return real(language, examples, tune=False, cache_key=cache_key)

    monkeypatch.setattr(acts_mod, "fit_intent_model", fit)
    return calls


def test_second_load_reads_the_cache_without_training(models, model_cache, monkeypatch):
    forget_loaded_models()
    calls = _counting_fit(monkeypatch)
    model = load_intent_model("zh-CN", ACTS_DIR, model_cache)
    assert calls == [] and model.cache_key == models["zh-CN"].cache_key
    assert load_intent_model("zh-CN", ACTS_DIR, model_cache) is model  # memo: same object


def test_cold_cache_trains_once_then_memo_and_disk(tmp_path, monkeypatch):
    forget_loaded_models()
    calls = _counting_fit(monkeypatch)
    stale = tmp_path / "intent-en-0000stale.pkl"
    stale.write_bytes(b"old model")
    first = load_intent_model("en", ACTS_DIR, tmp_path)
    assert not stale.exists()  # older pickles of the language are pruned
    path = cache_file("en", first.cache_key, tmp_path)
    mtime = path.stat().st_mtime_ns
    load_intent_model("en", ACTS_DIR, tmp_path)
    forget_loaded_models()
    load_intent_model("en", ACTS_DIR, tmp_path)
    assert calls == ["en"] and path.stat().st_mtime_ns == mtime


def test_corrupt_cache_is_retrained(models, tmp_path, monkeypatch):
    key = models["zh-CN"].cache_key
    path = cache_file("zh-CN", key, tmp_path)
    path.write_bytes(b"not a pickle at all")
    forget_loaded_models()
    calls = _counting_fit(monkeypatch)
    model = load_intent_model("zh-CN", ACTS_DIR, tmp_path)
    assert calls == ["zh-CN"] and model.cache_key == key
    assert path.read_bytes()[:1] == b"\x80"  # rewritten as a pickle


def test_cache_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HOTLINE_CACHE_DIR", str(tmp_path))
    assert acts_mod.default_cache_dir() == tmp_path
    monkeypatch.delenv("HOTLINE_CACHE_DIR")
    assert acts_mod.default_cache_dir() == Path("instance") / "cache"


def test_train_all_one_line_per_language(models, model_cache):
    lines = train_all(ACTS_DIR, model_cache)
    assert [line.split(":")[0] for line in lines] == list(LANGS)
    assert all("macro-F1" in line for line in lines)


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="unknown language"):
        load_intent_model("fr", ACTS_DIR)


def test_core_modules_do_not_import_flask():
    for name in ("acts.py", "acts_data.py", "acts_rules.py", "numbers.py"):
        tree = ast.parse((ROOT / "app" / "core" / name).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            mods = ([a.name for a in node.names] if isinstance(node, ast.Import)
                    else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(m.split(".")[0] in {"flask", "flask_sqlalchemy"} for m in mods), name


def test_the_data_stamp_notices_a_batch_added_removed_or_edited(tmp_path):
    """load_intent_model skips hashing the data while its stamp is unchanged; the stamp
    lists the batch folder again only when the folder's mtime moves, so each change a
    retrain needs must still change it."""
    import os

    forget_loaded_models()
    (tmp_path / "zh-CN.yaml").write_text("main: 1\n", encoding="utf-8")
    batches = tmp_path / "zh-CN.d"
    batches.mkdir()
    (batches / "a.yaml").write_text("a: 1\n", encoding="utf-8")
    first = acts_mod._data_stamp("zh-CN", tmp_path)
    assert first == acts_mod._data_stamp("zh-CN", tmp_path)
    assert str(batches / "a.yaml") in {part[0] for part in first[2:]}
    (batches / "b.yaml").write_text("b: 1\n", encoding="utf-8")
    os.utime(batches, ns=(1, 1))  # a folder mtime that moved, however coarse the clock
    added = acts_mod._data_stamp("zh-CN", tmp_path)
    assert added != first and str(batches / "b.yaml") in {part[0] for part in added[2:]}
    (batches / "a.yaml").write_text("a: 2, edited\n", encoding="utf-8")
    assert acts_mod._data_stamp("zh-CN", tmp_path) != added
    (batches / "b.yaml").unlink()
    os.utime(batches, ns=(2, 2))
    assert str(batches / "b.yaml") not in {part[0] for part in acts_mod._data_stamp("zh-CN", tmp_path)[2:]}
    (tmp_path / "zh-CN.yaml").unlink()
    assert acts_mod._data_stamp("zh-CN", tmp_path) is None
