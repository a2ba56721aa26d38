"""The LLM understanding in a drill turn: off unless LLM_UNDERSTANDING is set (even with a
server configured for the LLM customer), and when on, one model call per agent turn
whose quoted acts reach the stored turn; a broken answer leaves the local acts."""
from __future__ import annotations

import json

import pytest

from app.extensions import db
from app.services import drill_turns, drills, engines
from tests.fakes.openai_server import FakeOpenAI

LINE = "您好，这里是客服中心，工号1024，很高兴为您服务。请问是哪里不清楚？"


@pytest.fixture
def fake():
    with FakeOpenAI() as server:
        yield server


def play_one(app_factory, **config):
    app = app_factory(**config)
    with app.app_context():
        engines.forget_engines()
        from app.services.accounts import create_user

        user = create_user("llmu-trainee", "password-123", "trainee")
        db.session.commit()
        drill = drills.start_drill(user, "billing_complaint", "zh-CN", "calm", "scripted", seed=7)
        result = drill_turns.post_agent_turn(drill, LINE)
        meta = result.turns[0].meta
        acts = set(meta["acts"])
        assert ("llm_understanding" in meta) == bool(config.get("LLM_UNDERSTANDING"))
        engines.forget_engines()
        return acts


def understanding_calls(fake: FakeOpenAI) -> list[dict]:
    return [r for r in fake.requests if r.get("response_format") == {"type": "json_object"}]


def test_off_by_default_even_with_a_server(app_factory, fake):
    play_one(app_factory, OPENAI_BASE_URL=fake.base_url, OPENAI_MODEL="fake-model")
    assert understanding_calls(fake) == []


def test_on_asks_once_per_turn_and_adds_quoted_acts(app_factory, fake):
    reply = {"acts": [{"act": "empathy", "quote": "很高兴为您服务"}, {"act": "upsell", "quote": "办个5G套餐"}]}
    fake.queue("normal", json.dumps(reply, ensure_ascii=False))
    acts = play_one(app_factory, OPENAI_BASE_URL=fake.base_url, OPENAI_MODEL="fake-model",
                    LLM_UNDERSTANDING=True, LLM_UNDERSTANDING_RULE="union")
    assert len(understanding_calls(fake)) == 1
    assert "empathy" in acts and "upsell" not in acts  # the unquoted act is void


def test_on_with_a_broken_answer_keeps_the_local_acts(app_factory, fake):
    local = play_one(app_factory, OPENAI_BASE_URL=fake.base_url, OPENAI_MODEL="fake-model")
    fake.reset().queue("malformed")
    acts = play_one(app_factory, OPENAI_BASE_URL=fake.base_url, OPENAI_MODEL="fake-model",
                    LLM_UNDERSTANDING=True, LLM_UNDERSTANDING_RULE="llm")
    assert len(understanding_calls(fake)) == 1
    assert acts == local and acts


def test_add_rule_adds_only_the_configured_acts(app_factory, fake):
    reply = {"acts": [{"act": "empathy", "quote": "很高兴为您服务"}, {"act": "closing", "quote": "很高兴为您服务"}]}
    fake.queue("normal", json.dumps(reply, ensure_ascii=False))
    acts = play_one(app_factory, OPENAI_BASE_URL=fake.base_url, OPENAI_MODEL="fake-model",
                    LLM_UNDERSTANDING=True, LLM_UNDERSTANDING_RULE="add", LLM_UNDERSTANDING_ADDS="closing")
    assert "closing" in acts and "empathy" not in acts
