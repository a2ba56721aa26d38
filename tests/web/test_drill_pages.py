"""The trainee's drill in the browser: start, turns (plain and streamed), reload, end,
ownership, roles and bad input."""
from __future__ import annotations

import json
import re

import pytest
from flask import g
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Drill
from app.services import drill_turns, drills, engines, scoring

GOOD = [
    "您好，这里是客服中心，工号1024，很高兴为您服务。非常理解您的心情，为了查询账单，麻烦您提供一下机主姓名和身份证后四位，核实一下身份。",
    "谢谢王女士，身份核实好了。我帮您查了，多出的50元是视频彩铃会员15元和超套流量费35元。",
    "彩铃是10月3日回复短信Y订购的，您不知情的话我马上帮您退订彩铃，15元给您退回，3个工作日内退回话费账户。",
    "流量是10月12日到15日出差期间用了13.5G，超出3.5G按每G10元计费。我再帮您开通80%和95%的用量提醒，还给您提交了工单，24小时内回访。",
    "已经为您退订彩铃并办理了退费，请问还有其他可以帮您的吗？感谢您的来电，祝您生活愉快。",
]
JSON = {"Accept": "application/json"}


@pytest.fixture
def trainee(login_as):
    return login_as("trainee")


@pytest.fixture
def drill_url(client, trainee):
    r = client.post("/trainee/start/billing_complaint", data={"persona": "calm", "customer": "scripted", "seed": "7"})
    assert r.status_code == 302, r.data[:500]
    return r.headers["Location"]


def post_turn(client, url, **body):
    return client.post(url + "/turns", json=body, headers=JSON)


def ndjson(response):
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines() if line.strip()]


def test_home_lists_scenarios_with_personas(client, trainee):
    html = client.get("/trainee/").get_data(as_text=True)
    assert "账单异常投诉处理" in html and "billing" in html
    assert "讲理型" in html and "激动型" in html
    assert "/trainee/start/billing_complaint" in html


def test_start_page_offers_personas_and_only_configured_customers(client, trainee):
    html = client.get("/trainee/start/billing_complaint").get_data(as_text=True)
    assert 'value="calm"' in html and 'value="furious"' in html
    assert 'value="scripted"' in html and 'value="llm"' not in html
    assert client.get("/trainee/start/no_such_scenario").status_code == 404


def test_start_form_rejects_bad_choices(client, trainee):
    r = client.post("/trainee/start/billing_complaint", data={"persona": "nobody", "customer": "scripted"})
    assert r.status_code == 400
    r = client.post("/trainee/start/billing_complaint", data={"persona": "calm", "customer": "llm"})
    assert r.status_code == 400
    r = client.post("/trainee/start/billing_complaint", data={"persona": "calm", "customer": "scripted", "seed": "-3"})
    assert r.status_code == 400
    assert Drill.query.count() == 0


def test_full_call_in_the_browser(client, drill_url):
    page = client.get(drill_url).get_data(as_text=True)
    opening = drills.turns_of(Drill.query.one())[0]
    assert opening.speaker == "customer" and opening.text in page
    assert "背景资料" in page and "后台可查" in page  # practice mode shows the background
    assert 'id="turn-form"' in page and "drill.js" in page

    r = post_turn(client, drill_url, text=GOOD[0], after=0)
    assert r.status_code == 200
    body = r.get_json()
    assert [(t["position"], t["speaker"]) for t in body["turns"]] == [(1, "agent"), (2, "customer")]
    assert body["drill"]["status"] == "active"

    r = post_turn(client, drill_url, text=GOOD[1], after=2, stream=True)
    assert r.status_code == 200 and r.mimetype == "application/x-ndjson"
    events = ndjson(r)
    assert [e["type"] for e in events] == ["agent", "chunk", "customer"]
    assert events[0]["turn"]["position"] == 3 and events[2]["turn"]["position"] == 4
    assert "".join(e["text"] for e in events if e["type"] == "chunk") == events[2]["turn"]["text"]

    # A reload shows the drill where it was.
    page = client.get(drill_url).get_data(as_text=True)
    assert GOOD[1] in page and events[2]["turn"]["text"] in page
    assert len(re.findall(r'data-position="\d+"', page)) == 5
    assert 'data-pending="0"' in page

    for i, line in enumerate(GOOD[2:]):
        r = post_turn(client, drill_url, text=line, after=4 + 2 * i)
        assert r.status_code == 200, r.get_json()
    assert r.get_json()["drill"] == {"id": int(drill_url.rsplit("/", 1)[1]), "status": "ended", "outcome": "resolved"}
    page = client.get(drill_url).get_data(as_text=True)
    assert 'id="turn-form"' not in page and "已解决" in page
    r = post_turn(client, drill_url, text="还在吗", after=10)
    assert r.status_code == 409 and r.get_json()["code"] == "ended"


def test_end_call(client, drill_url):
    post_turn(client, drill_url, text=GOOD[0])
    r = client.post(drill_url + "/end", headers=JSON, json={})
    assert r.status_code == 200 and r.get_json()["drill"]["outcome"] == "unfinished"
    page = client.get(drill_url).get_data(as_text=True)
    assert GOOD[0] in page and "未完成" in page and 'id="end-form"' not in page
    # Without JavaScript the end button is a plain form post.
    assert client.post(drill_url + "/end").status_code == 302


def test_another_trainee_gets_404(client, drill_url, auth, make_user):
    other = make_user("trainee")
    auth.logout()
    auth.login(other.username)
    assert client.get(drill_url).status_code == 404
    assert post_turn(client, drill_url, text=GOOD[0]).status_code == 404
    assert client.post(drill_url + "/end", headers=JSON).status_code == 404
    assert client.get("/trainee/drills/999999").status_code == 404


@pytest.mark.parametrize("role", ["trainer", "hr", "admin"])
def test_other_roles_get_403(client, drill_url, auth, make_user, role):
    user = make_user(role)
    auth.logout()
    auth.login(user.username)
    for url in ("/trainee/", "/trainee/start/billing_complaint", drill_url):
        assert client.get(url).status_code == 403, url
    assert post_turn(client, drill_url, text=GOOD[0]).status_code == 403
    assert client.post(drill_url + "/end", headers=JSON).status_code == 403


@pytest.mark.parametrize("body, code", [
    ({"text": ""}, "empty"),
    ({"text": "   \x00 "}, "empty"),
    ({}, "empty"),
    ({"text": 12}, "not_text"),
    ({"text": "好" * 2001}, "too_long"),
    ({"text": "您好", "after": "x"}, "bad_request"),
    ({"text": "您好", "stream": "yes"}, "bad_request"),
    ([1, 2], "bad_request"),
])
def test_bad_input_is_a_400_json_with_a_message(client, drill_url, body, code):
    r = client.post(drill_url + "/turns", json=body, headers=JSON)
    assert r.status_code == 400
    data = r.get_json()
    assert data["code"] == code and data["error"] and "Traceback" not in data["error"]
    r = client.post(drill_url + "/turns", data="not json", headers={**JSON, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.get_json()["code"] == "bad_request"
    page = client.get(drill_url).get_data(as_text=True)
    assert len(re.findall(r'data-position="\d+"', page)) == 1


def test_too_long_message_names_the_limit(client, drill_url):
    r = post_turn(client, drill_url, text="好" * 2001)
    assert "2000" in r.get_json()["error"]


def test_engine_failure_is_503_and_the_page_retries(client, drill_url, monkeypatch):
    real = engines.engine_for("scripted")

    class Down:
        def understand(self, *a, **kw):
            raise ConnectionError("engine down")

        def reply_stream(self, *a, **kw):
            raise ConnectionError("engine down")

    monkeypatch.setattr(drill_turns, "engine_for", lambda kind: Down())
    r = post_turn(client, drill_url, text=GOOD[0], after=0)
    assert r.status_code == 503 and r.get_json()["code"] == "customer_unavailable"
    r = post_turn(client, drill_url, text=GOOD[0], after=0, stream=True)
    assert [e["type"] for e in ndjson(r)] == ["agent", "error"]
    page = client.get(drill_url).get_data(as_text=True)
    assert GOOD[0] in page and 'data-pending="1"' in page

    monkeypatch.setattr(drill_turns, "engine_for", lambda kind: real)
    r = post_turn(client, drill_url, retry=True, stream=True)
    events = ndjson(r)
    assert [e["type"] for e in events] == ["agent", "chunk", "customer"] and events[-1]["turn"]["position"] == 2
    assert post_turn(client, drill_url, retry=True).get_json()["turns"] == []  # nothing left to answer
    assert 'data-pending="0"' in client.get(drill_url).get_data(as_text=True)


def test_double_submit_returns_the_stored_exchange(client, drill_url):
    first = post_turn(client, drill_url, text=GOOD[0], after=0).get_json()
    again = post_turn(client, drill_url, text=GOOD[0], after=0).get_json()
    assert again["turns"] == first["turns"]
    r = post_turn(client, drill_url, text="另一句", after=0)
    assert r.status_code == 409 and r.get_json()["code"] == "moved_on"


def test_test_mode_hides_the_background(app, client, trainee):
    drill = drills.start_drill(trainee, "billing_complaint", "zh-CN", "furious", "scripted", seed=1, mode="test")
    page = client.get(f"/trainee/drills/{drill.id}").get_data(as_text=True)
    assert "任务说明" in page and "后台可查" not in page


def test_test_drill_past_its_time_limit_refuses_new_turns_and_ends(app, client, trainee):
    """The page ends a test drill at zero; a client that ignores the timer is refused by the
    server (after a grace for the request in flight) and the drill ends. Practice runs on."""
    from datetime import timedelta

    test = drills.start_drill(trainee, "billing_complaint", "zh-CN", "calm", "scripted", seed=1, mode="test")
    practice = drills.start_drill(trainee, "billing_complaint", "zh-CN", "calm", "scripted", seed=1)
    limit = timedelta(minutes=drills.scenario_of(test).time_limit_minutes)
    for d in (test, practice):
        d.started_at = d.started_at - limit - drills.TIME_GRACE - timedelta(seconds=1)
    app.extensions["sqlalchemy"].session.commit()

    url = f"/trainee/drills/{test.id}"
    assert 'data-seconds-left="0"' in client.get(url).get_data(as_text=True)
    r = post_turn(client, url, text=GOOD[0], after=0)
    assert r.status_code == 409 and r.get_json()["code"] == "time_up" and "时间已到" in r.get_json()["error"]
    ended = app.extensions["sqlalchemy"].session.get(Drill, test.id)
    assert ended.status == "ended" and ended.outcome == "unfinished"
    assert [t.speaker for t in drills.turns_of(ended)] == ["customer"]

    r = post_turn(client, f"/trainee/drills/{practice.id}", text=GOOD[0], after=0)
    assert r.status_code == 200


def test_drill_pages_have_no_inline_script_or_style(client, drill_url):
    for url in ("/trainee/", "/trainee/start/billing_complaint", drill_url):
        html = client.get(url).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), url
        assert " style=" not in html and "<style" not in html, url


class TestCsrf:
    @pytest.fixture
    def app(self, app_factory):
        app = app_factory(WTF_CSRF_ENABLED=True)
        with app.app_context():
            yield app

    @pytest.fixture
    def drill_url(self, client, trainee):
        drill = drills.start_drill(trainee, "billing_complaint", "zh-CN", "calm", "scripted", seed=2)
        return f"/trainee/drills/{drill.id}"

    @pytest.fixture
    def login_as(self, client, make_user):
        def do(role):
            user = make_user(role)
            page = client.get("/login").get_data(as_text=True)
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
            r = client.post("/login", data={"username": user.username, "password": "password-123", "csrf_token": token})
            assert r.status_code == 302
            # The test's app context outlives requests, and Flask-WTF caches the token on
            # `g`; a real request starts without it (login resets the session's token).
            g.pop("csrf_token", None)
            return user
        return do

    def test_json_turn_needs_the_csrf_header(self, client, drill_url):
        r = client.post(drill_url + "/turns", json={"text": GOOD[0]}, headers=JSON)
        assert r.status_code == 400 and "error" in r.get_json()
        page = client.get(drill_url).get_data(as_text=True)
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
        r = client.post(drill_url + "/turns", json={"text": GOOD[0]}, headers={**JSON, "X-CSRFToken": token})
        assert r.status_code == 200, r.get_json()
        r = client.post(drill_url + "/end", json={}, headers={**JSON, "X-CSRFToken": token})
        assert r.status_code == 200 and r.get_json()["drill"]["status"] == "ended"


class TestLlmCustomer:
    """The llm customer through the page, against a real OpenAI-compatible server on 127.0.0.1."""

    @pytest.fixture
    def fake(self):
        from tests.fakes.openai_server import FakeOpenAI

        with FakeOpenAI(default_text="你们这个月多扣了我五十块，到底怎么回事？") as server:
            yield server

    @pytest.fixture
    def app(self, app_factory, fake):
        app = app_factory(OPENAI_BASE_URL=fake.base_url, OPENAI_API_KEY="test-key", OPENAI_MODEL="fake-model",
                          OPENAI_TIMEOUT=2.0)
        with app.app_context():
            yield app

    def test_streamed_llm_reply_and_fallback(self, client, trainee, fake):
        assert 'value="llm"' in client.get("/trainee/start/billing_complaint").get_data(as_text=True)
        r = client.post("/trainee/start/billing_complaint", data={"persona": "calm", "customer": "llm", "seed": "5"})
        url = r.headers["Location"]
        drill = Drill.query.one()
        assert drill.customer_kind == "llm" and drill.llm_model == "fake-model"
        opening = drills.turns_of(drill)[0]  # the opening line records its model call like any reply
        assert opening.meta["llm"]["model"] == "fake-model" and opening.meta["engine"] == "llm"

        fake.queue("normal", text="嗯，你这么说我心里舒服点了。")
        events = ndjson(post_turn(client, url, text="您好，客服中心，工号1024。非常抱歉给您带来不便。", after=0, stream=True))
        assert [e["type"] for e in events][:2] == ["agent", "chunk"] and events[-1]["type"] == "customer"
        assert len([e for e in events if e["type"] == "chunk"]) > 1  # it really streamed
        turn = drills.turns_of(drill)[2]
        assert turn.text == events[-1]["turn"]["text"]
        assert turn.meta["llm"]["model"] == "fake-model" and "fallback" not in turn.meta

        fake.queue("http_500")
        r = post_turn(client, url, text="请问您能提供一下机主姓名和身份证后四位吗？我帮您核实身份。", after=2)
        assert r.status_code == 200  # the LLM failing never fails the drill
        turn = drills.turns_of(drill)[4]
        assert turn.meta["fallback"] == "http_error" and turn.text == r.get_json()["turns"][1]["text"]


def test_streamed_turn_without_an_outer_app_context(app_factory):
    """As under a real server: each request brings its own app context and the NDJSON body is
    generated after the view returned. Rows loaded by the view are detached by then; the stream
    must reload them by id (it once raised DetachedInstanceError: a 500 on every streamed turn)."""
    from app.extensions import db
    from app.services.accounts import create_user

    app = app_factory()
    with app.app_context():
        create_user("streamer", "password-123", "trainee", None, None)
        db.session.commit()
    client = app.test_client()
    r = client.post("/login", data={"username": "streamer", "password": "password-123"})
    assert r.status_code == 302
    r = client.post("/trainee/start/billing_complaint", data={"persona": "calm", "customer": "scripted", "seed": "7"})
    assert r.status_code == 302
    url = r.headers["Location"]

    r = post_turn(client, url, text=GOOD[0], after=0, stream=True)
    assert r.status_code == 200 and r.mimetype == "application/x-ndjson"
    events = ndjson(r)
    assert [e["type"] for e in events][0] == "agent" and events[-1]["type"] == "customer"
    assert events[-1]["turn"]["position"] == 2 and events[-1]["turn"]["text"]
    with app.app_context():
        assert [t.speaker for t in drills.turns_of(db.session.get(Drill, int(url.rsplit("/", 1)[1])))] == [
            "customer", "agent", "customer"]


def test_the_seed_is_folded_under_advanced(client, trainee):
    page = client.get("/trainee/start/billing_complaint").get_data(as_text=True)
    folded = re.search(r'<details class="advanced"( open)?>\s*<summary>高级选项</summary>(.*?)</details>', page, re.S)
    assert folded and not folded.group(1) and 'name="seed"' in folded.group(2)
    assert page.count('name="seed"') == 1  # nowhere else on the page
    # A bad seed opens the fold, so its error is seen.
    page = client.post("/trainee/start/billing_complaint",
                       data={"persona": "calm", "customer": "scripted", "seed": "-3"}).get_data(as_text=True)
    assert '<details class="advanced" open>' in page


def test_an_abandoned_drill_can_be_discarded_unscored(client, trainee, drill_url):
    drill_id = int(drill_url.rsplit("/", 1)[1])
    home = client.get("/trainee/").get_data(as_text=True)
    assert f"/trainee/drills/{drill_id}/discard" in home  # offered next to "continue"
    r = client.post(f"/trainee/drills/{drill_id}/discard")
    assert r.status_code == 303 and r.headers["Location"].endswith("/trainee/")
    drill = db.session.get(Drill, drill_id)
    db.session.refresh(drill)
    assert drill.status == "discarded" and scoring.latest_score(drill) is None
    home = client.get("/trainee/").get_data(as_text=True)
    assert "这通练习已放弃" in home and f"/trainee/drills/{drill_id}\"" not in home
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.target == f"drill:{drill_id}")) == "drill_discarded"
    # A turn on it now is refused like on an ended call, and it cannot be discarded twice.
    assert post_turn(client, drill_url, text="您好").status_code == 409
    again = client.post(f"/trainee/drills/{drill_id}/discard", follow_redirects=True).get_data(as_text=True)
    assert "flash-error" in again and db.session.get(Drill, drill_id).status == "discarded"


def test_an_ended_or_certification_drill_is_not_discarded(client, trainee, drill_url):
    drill_id = int(drill_url.rsplit("/", 1)[1])
    client.post(f"{drill_url}/end", headers=JSON, json={})
    page = client.post(f"/trainee/drills/{drill_id}/discard", follow_redirects=True).get_data(as_text=True)
    assert db.session.get(Drill, drill_id).status == "ended" and 'flash-error' in page
    cert = drills.start_drill(trainee, "billing_complaint", "zh-CN", "calm", "scripted", seed=1)
    from app.services.certification import start_attempt

    cert.certification_attempt_id = start_attempt(trainee, "core", seed=1).id
    db.session.commit()
    with pytest.raises(drills.DrillConflict, match="certification"):
        drills.discard_drill(cert, trainee)
    assert db.session.get(Drill, cert.id).status == "active"
