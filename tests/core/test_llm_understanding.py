"""The optional LLM understanding against a fake OpenAI-compatible server on 127.0.0.1:
quoted acts are combined with the local ones, unquoted ones are void, and any failure
leaves the local result."""
from __future__ import annotations

import json
import socket
from pathlib import Path
from types import SimpleNamespace

import pytest

from app.core.datafiles import DataFileError
from app.core.llm import LLMClient
from app.core.llm_understanding import (DEFAULT_ADDS, RULES, LLMActs, LLMUnderstanding, combine,
                                        load_understanding_prompt, parse_acts)
from app.core.understanding import understand
from tests.fakes.openai_server import FakeOpenAI

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = ROOT / "rubrics" / "understanding"
TEXT = "非常抱歉给您添麻烦了，我马上帮您退订彩铃。"


def local_model(*acts: str):
    """A stand-in act model: every text gets `acts`."""
    def analyse(text: str):
        return SimpleNamespace(acts=frozenset(acts), scores={a: 0.99 for a in acts})
    return analyse


@pytest.fixture(scope="module")
def server():
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def fake(server):
    return server.reset()


def llm_for(fake: FakeOpenAI, rule: str = "union", adds=frozenset(), timeout: float = 5.0) -> LLMUnderstanding:
    client = LLMClient(fake.base_url, None, "fake-model", timeout=timeout)
    return LLMUnderstanding(client, lambda lang: load_understanding_prompt(lang, PROMPTS), rule=rule,
                            adds={"zh-CN": frozenset(adds)})


def answer(*items: tuple[str, str]) -> str:
    return json.dumps({"acts": [{"act": a, "quote": q} for a, q in items]}, ensure_ascii=False)


def test_good_json_adds_quoted_acts(fake):
    fake.queue("normal", answer(("apology", "非常抱歉"), ("solution_offer", "我马上帮您退订彩铃")))
    u = understand(TEXT, local_model("apology"), language="zh-CN", llm=llm_for(fake))
    assert u.acts == {"apology", "solution_offer"}
    assert u.llm_acts.ok and u.llm_acts.acts["solution_offer"] == "我马上帮您退订彩铃"
    body = fake.requests[-1]
    assert body["response_format"] == {"type": "json_object"}
    assert TEXT in body["messages"][-1]["content"]  # the turn is sent last, after the fixed prefix


def test_quote_not_in_text_is_void(fake):
    fake.queue("normal", answer(("solution_offer", "我帮您退款五十元"), ("apology", "非常抱歉")))
    u = understand(TEXT, local_model("explanation"), language="zh-CN", llm=llm_for(fake))
    assert "solution_offer" not in u.acts
    assert u.acts == {"explanation", "apology"}
    assert len(u.llm_acts.void) == 1


def test_unknown_act_name_is_void():
    acts, void = parse_acts(answer(("refund", "退订彩铃"), ("forbidden_word", "彩铃")), TEXT)
    assert acts == {} and len(void) == 2


@pytest.mark.parametrize("reply", ["这句话里有道歉和解决方案", '{"acts": "apology"}', "[1, 2]", '{"acts": [1, "x"]}'])
def test_bad_json_leaves_local_result(fake, reply):
    fake.queue("normal", reply)
    u = understand(TEXT, local_model("apology"), language="zh-CN", llm=llm_for(fake, rule="llm"))
    assert u.acts == {"apology"}
    assert not u.llm_acts.ok


def test_timeout_leaves_local_result(fake):
    fake.queue("slow", answer(("solution_offer", "退订彩铃")), delay=3.0)
    u = understand(TEXT, local_model("apology"), language="zh-CN", llm=llm_for(fake, rule="llm", timeout=0.5))
    assert u.acts == {"apology"}
    assert u.llm_acts.error_kind == "timeout"


def test_server_down_leaves_local_result():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    client = LLMClient(f"http://127.0.0.1:{port}/v1", None, "m", timeout=2)
    llm = LLMUnderstanding(client, lambda lang: load_understanding_prompt(lang, PROMPTS), rule="llm")
    u = understand(TEXT, local_model("apology"), language="zh-CN", llm=llm)
    assert u.acts == {"apology"} and u.llm_acts.error_kind == "http_error"


def test_add_rule_only_adds_chosen_acts(fake):
    fake.queue("normal", answer(("empathy", "给您添麻烦了"), ("solution_offer", "帮您退订彩铃")))
    u = understand(TEXT, local_model("apology"), language="zh-CN",
                   llm=llm_for(fake, rule="add", adds={"solution_offer"}))
    assert u.acts == {"apology", "solution_offer"}


def test_no_llm_no_request(fake):
    u = understand(TEXT, local_model("apology"), language="zh-CN")
    assert u.acts == {"apology"} and u.llm_acts is None
    assert fake.requests == []


def test_keyword_list_asks_nothing(fake):
    u = understand("理解您 核实 姓名 身份证 15元 退订彩铃", local_model("empathy"), language="zh-CN", llm=llm_for(fake))
    assert u.acts == frozenset() and fake.requests == []


def test_rules():
    said = LLMActs(acts={"empathy": "理解", "apology": "抱歉"})
    local = frozenset({"apology", "explanation", "forbidden_word"})
    assert combine(local, said, "local") == local
    assert combine(local, said, "llm") == {"empathy", "apology", "forbidden_word"}
    assert combine(local, said, "union") == local | {"empathy"}
    assert combine(local, said, "agree") == {"apology", "forbidden_word"}
    assert combine(local, said, "add", frozenset({"empathy"})) == local | {"empathy"}
    assert combine(local, said, "add") == local
    for rule in RULES:
        assert combine(local, LLMActs(error_kind="timeout"), rule) == local
    with pytest.raises(ValueError, match="unknown combination rule"):
        combine(local, said, "majority")


def test_prompts_load_and_name_only_acts(tmp_path):
    for lang in ("zh-CN", "en"):
        p = load_understanding_prompt(lang, PROMPTS)
        assert p.language == lang and p.examples
        assert set(DEFAULT_ADDS[lang]) <= set(p.definitions)
    bad = (PROMPTS / "en.yaml").read_text(encoding="utf-8").replace("quote: \"I'm agent 2046\"",
                                                                     "quote: \"agent 9999\"")
    (tmp_path / "en.yaml").write_text(bad, encoding="utf-8")
    with pytest.raises(DataFileError, match="not in the example"):
        load_understanding_prompt("en", tmp_path)
