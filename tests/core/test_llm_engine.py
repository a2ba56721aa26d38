"""The LLM customer against a real OpenAI-compatible server on 127.0.0.1 (tests/fakes)."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.core.llm import LLMClient, LLMResult
from app.core.scenario_files import load_scenario
from app.core.simulation import make_engine
from app.core.simulation.llm_engine import TurnResult
from tests.fakes.analyser import fake_analyser_for_language
from tests.fakes.openai_server import FakeOpenAI

ROOT = Path(__file__).resolve().parents[2]
SC = load_scenario(ROOT / "scenarios/billing_complaint.yaml")
GREETING = "您好，客服中心，工号1024，很高兴为您服务。非常抱歉给您带来不便。"


@pytest.fixture
def fake():
    with FakeOpenAI(default_text="你们这个月多扣了我五十块，到底怎么回事？") as server:
        yield server


def engine_for(fake, timeout=2.0):
    client = LLMClient(fake.base_url, "test-key", "fake-model", timeout=timeout)
    return make_engine("llm", fake_analyser_for_language, client, prompts_dir=ROOT / "scenarios/prompts")


def fallback(events):
    return next((e["reason"] for e in events if e["type"] == "llm_fallback"), None)


def test_normal_reply_is_used_and_recorded(fake):
    engine = engine_for(fake)
    fake.queue("normal", text="客户：你们这个月多扣了我五十块，到底怎么回事？")
    text, state, events = engine.start_turn(SC, "calm", 7)
    assert text == "你们这个月多扣了我五十块，到底怎么回事？"  # speaker label stripped
    meta = next(e for e in events if e["type"] == "llm")
    assert meta["model"] == "fake-model" and meta["seed"] == 7000 and meta["used"] == "llm"
    assert meta["latency_ms"] >= 0 and meta["prompt_tokens"] > 0 and meta["completion_tokens"] > 0
    body = fake.requests[-1]
    assert body["seed"] == 7000 and body["temperature"] == 0.3  # scenarios/prompts/customer.zh-CN.yaml
    assert any("来电客户" in m["content"] for m in body["messages"])
    fake.queue("normal", text="嗯，你这么说我心里舒服点了。")
    text, state, events = engine.next_turn(GREETING, state)
    assert text == "嗯，你这么说我心里舒服点了。" and fallback(events) is None
    assert state["history"][-1]["text"] == text  # the model's words are what the customer said


@pytest.mark.parametrize("behaviour, text, reason", [
    ("slow", None, "timeout"),
    ("http_500", None, "http_error"),
    ("malformed", None, "malformed"),
    ("normal", "", "empty"),
    ("normal", "您好，这里是客服中心，工号1024，请问有什么可以帮您？", "role_flip"),
    ("normal", GREETING, "role_flip"),
    ("normal", "我知道，是那个视频彩铃会员十五块吧？", "leak"),
    ("normal", "I am very angry about my bill this month.", "language"),
    ("normal", "我真的很生气。" * 30, "length"),
    ("normal", "你们多扣了我八十八块！", "contradiction"),
    ("truncated", "嗯，你这么说我心里", "length"),
])
def test_bad_replies_fall_back_and_the_drill_goes_on(fake, behaviour, text, reason):
    engine = engine_for(fake, timeout=1.0)
    fake.queue("normal", text="你们这个月多扣了我五十块！")
    _, state, _ = engine.start_turn(SC, "calm", 7)
    fake.queue(behaviour, text=text, delay=3.0)
    reply, state, events = engine.next_turn(GREETING, state)
    assert fallback(events) == reason
    assert reply in {v for vs in [*SC.lines.values(), *SC.persona("calm").lines.values()] for v in vs} or reply
    scripted = make_engine("scripted", fake_analyser_for_language)
    _, s0 = scripted.start(SC, "calm", 7)
    expected, _, _ = scripted.next_turn(GREETING, s0, SC)
    assert reply == expected  # exactly the scripted line
    fake.queue("normal", text="好，我叫王丽华，手机号 139 0013 9000，身份证后四位 4421。")
    reply2, state, events = engine.next_turn("为了核实身份，麻烦您提供一下机主姓名和身份证后四位。", state)
    assert fallback(events) is None and state["verified"] and "4421" in reply2


def test_streaming_yields_chunks_then_a_final_result(fake):
    engine = engine_for(fake)
    fake.queue("normal", text="你们这个月多扣了我五十块！")
    _, state, _ = engine.start_turn(SC, "calm", 7)
    fake.queue("normal", text="嗯，那你先帮我查一下吧。", chunk_size=3)
    items = list(engine.stream_turn(GREETING, state))
    chunks, final = items[:-1], items[-1]
    assert isinstance(final, TurnResult) and len(chunks) > 1
    assert "".join(chunks) == final.text and not final.replaced and final.fallback_reason is None


@pytest.mark.parametrize("behaviour, text, reason", [
    ("cut", "嗯，那你先帮我查一下吧，我等着呢。", "malformed"),
    ("truncated", "嗯，那你先帮我查一下", "length"),
    ("normal", "您好，这里是客服中心，请问有什么可以帮您？", "role_flip"),
    ("http_500", None, "http_error"),
])
def test_failed_stream_is_replaced_by_the_scripted_line(fake, behaviour, text, reason):
    engine = engine_for(fake)
    fake.queue("normal", text="你们这个月多扣了我五十块！")
    _, state, _ = engine.start_turn(SC, "calm", 7)
    fake.queue(behaviour, text=text)
    final = list(engine.stream_turn(GREETING, state))[-1]
    assert final.replaced and final.fallback_reason == reason
    assert any(e["type"] == "llm_fallback" and e["reason"] == reason for e in final.events)
    assert final.state["turn"] == 1 and final.state["history"][-1]["text"] == final.text


def test_client_never_raises_and_reports_the_kind(fake):
    client = LLMClient(fake.base_url, None, "fake-model", timeout=1.0)
    msgs = [{"role": "user", "content": "hi"}]
    for behaviour, kind in [("http_500", "http_error"), ("malformed", "malformed"), ("slow", "timeout")]:
        fake.queue(behaviour, delay=3.0)
        r = client.chat("t", msgs, temperature=0.0)
        assert isinstance(r, LLMResult) and r.error_kind == kind and r.text == ""
    fake.queue("normal", text="not json")
    assert client.chat("judge", msgs, temperature=0.0, json_mode=True).error_kind == "malformed"
    fake.queue("normal", text='{"score": 3}')
    ok = client.chat("judge", msgs, temperature=0.0, json_mode=True)
    assert ok.ok and ok.text == '{"score": 3}'
    assert fake.requests[-1]["response_format"] == {"type": "json_object"}


def test_unreachable_server_is_an_http_error():
    client = LLMClient("http://127.0.0.1:9/v1", None, "m", timeout=1.0)
    r = client.chat("t", [{"role": "user", "content": "hi"}], temperature=0.0)
    assert r.error_kind in ("http_error", "timeout")


def test_prompt_examples_go_before_the_request_as_answered_turns(fake):
    from app.core.simulation.prompts import PromptExample, load_prompt

    base = load_prompt("zh-CN", ROOT / "scenarios/prompts")
    prompt = base.model_copy(update={"examples": [
        PromptExample(agent="您好，请问有什么可以帮您？", line="我的账单不对。", reply="喂，我这个月账单不对劲啊！"),
        PromptExample(line="好的，谢谢。", reply="行，谢谢你啊。")]})
    client = LLMClient(fake.base_url, None, "fake-model", timeout=2.0)
    engine = make_engine("llm", fake_analyser_for_language, client, prompts={"zh-CN": prompt})
    fake.queue("normal", text="你们这个月多扣了我五十块！")
    engine.start_turn(SC, "calm", 7)
    messages = fake.requests[-1]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert "「我的账单不对。」" in messages[1]["content"] and "客服：您好，请问有什么可以帮您？" in messages[1]["content"]
    assert messages[2]["content"] == "喂，我这个月账单不对劲啊！"
    assert "「好的，谢谢。」" in messages[3]["content"] and messages[4]["content"] == "行，谢谢你啊。"
    assert "\n-\n" in messages[3]["content"] and "客服：" not in messages[3]["content"]  # no agent words: none shown
    # The real request comes last, with the scripted line the state machine chose.
    scripted = make_engine("scripted", fake_analyser_for_language)
    line, _ = scripted.start(SC, "calm", 7)
    assert f"「{line}」" in messages[-1]["content"]


def test_stop_strings_and_finish_reason_reach_the_server_and_back(fake):
    base = load_prompt_zh()
    client = LLMClient(fake.base_url, None, "fake-model", timeout=2.0)
    engine = make_engine("llm", fake_analyser_for_language, client,
                         prompts={"zh-CN": base.model_copy(update={"stop": ["\n"]})})
    fake.queue("normal", text="你们这个月多扣了我五十块！")
    _, state, _ = engine.start_turn(SC, "calm", 7)
    assert fake.requests[-1]["stop"] == ["\n"]
    fake.queue("normal", text="嗯，你先查吧。")
    final = list(engine.stream_turn(GREETING, state))[-1]
    assert fake.requests[-1]["stop"] == ["\n"] and final.fallback_reason is None
    assert next(e for e in final.events if e["type"] == "llm")["finish_reason"] == "stop"
    # No stop strings configured: none are sent (some servers reject an empty list).
    make_engine("llm", fake_analyser_for_language, client,
                prompts={"zh-CN": base.model_copy(update={"stop": []})}).start_turn(SC, "calm", 7)
    assert "stop" not in fake.requests[-1]


def load_prompt_zh():
    from app.core.simulation.prompts import load_prompt

    return load_prompt("zh-CN", ROOT / "scenarios/prompts")


def test_a_reply_that_leaves_out_the_lines_numbers_falls_back(fake):
    """The state machine counts the ID digits as told: a rephrasing without them would make
    the transcript say the customer never gave them."""
    engine = engine_for(fake)
    fake.queue("normal", text="你们这个月多扣了我五十块！")
    _, state, _ = engine.start_turn(SC, "calm", 7)
    fake.queue("normal", text="行，那你快查吧。")
    ask = "为了核实身份，麻烦您提供一下机主姓名和身份证后四位。"
    reply, _, events = engine.next_turn(ask, state)
    assert fallback(events) == "contradiction" and "4421" in reply
    fake.queue("normal", text="行，我是王丽华，139-0013-9000，身份证后四位是4421，快查。")
    _, _, events = engine.next_turn(ask, state)
    assert fallback(events) is None  # the same numbers, written differently


def test_an_outbound_call_opens_without_asking_the_model(fake):
    """callback_followup: the agent speaks first, so there is nothing to rephrase; the
    first model call is the reply to the agent's opening, with that opening in it."""
    outbound = load_scenario(ROOT / "scenarios/callback_followup.yaml")
    engine = engine_for(fake)
    text, state, events = engine.start_turn(outbound, "busy", 7)
    assert text == "" and fake.requests == [] and state["engine"] == "llm"
    assert not any(e["type"] in ("llm", "llm_fallback") for e in events)
    fake.queue("normal", text="哦，回访啊，你说吧。")
    opening = "您好，我是客服中心回访专员，工号7021，您昨天反映的扣费问题我来回访一下，请问现在方便吗？"
    text, state, events = engine.next_turn(opening, state, outbound)
    assert len(fake.requests) == 1 and any(opening in m["content"] for m in fake.requests[0]["messages"])
    assert [t["speaker"] for t in state["history"]] == ["agent", "customer"]
