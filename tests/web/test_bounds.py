"""Size bounds and rate limits over HTTP (issue 16, findings 3 and 5): an imported file
over a limit is refused before it is parsed whole or scored, with a message in the
trainer's language naming the limit, and nothing is stored; a drill holding a turn of
1.5 million characters gives a small PDF that says the turn was shortened; drill starts
and turns past the configured rate get 429 in the trainee's language."""
from __future__ import annotations

import json
import tracemalloc
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.extensions import db
from app.models import Drill, Turn
from app.services.content import scenario_version
from tests.web.test_upload import GOOD, count, files, setup  # noqa: F401 - the fixture

HUGE_TURN = 1_500_000


def _upload(client, trainee, name: str, raw: bytes):
    return client.post("/trainer/upload/file", content_type="multipart/form-data",
                       headers={"Accept": "application/json"},
                       data={"trainee_id": str(trainee.id), "files": files((name, raw))})


def _transcript(turns: int, text: str = "您好，这里是客服中心。") -> bytes:
    items = [{"speaker": "customer" if i % 2 == 0 else "agent", "text": text} for i in range(turns)]
    return json.dumps({"format": "transcript/1", "scenario": "billing_complaint", "turns": items},
                      ensure_ascii=False).encode()


def test_a_file_over_the_byte_limit_is_refused_naming_the_limit(app, client, setup):
    _, trainee = setup
    app.config["IMPORT_MAX_BYTES"] = 4096
    r = _upload(client, trainee, "big.json", _transcript(200))
    assert r.status_code == 422
    assert r.get_json()["faults"] == ["big.json: (top): 文件大于 4 KB，超过了每个文件的上限。"]
    assert count(Drill) == 0


def test_a_file_with_too_many_turns_is_refused_before_scoring(app, client, setup):
    _, trainee = setup
    app.config["IMPORT_MAX_TURNS"] = 50
    r = _upload(client, trainee, "long.json", _transcript(51))
    assert r.status_code == 422
    assert r.get_json()["faults"] == ["long.json: turns: 文件有 51 个发言，每个文件最多接受 50 个。"]
    assert count(Drill) == 0
    assert _upload(client, trainee, "ok.json", _transcript(50)).status_code == 201


def test_a_turn_over_the_character_limit_is_refused_in_english_too(app, client, setup):
    _, trainee = setup
    app.config["IMPORT_MAX_TURN_CHARS"] = 100
    data = json.loads(GOOD.read_bytes())
    data["turns"][3]["text"] = "x" * 101
    r = client.post("/trainer/upload/file", content_type="multipart/form-data",
                    headers={"Accept": "application/json", "Accept-Language": "en"},
                    data={"trainee_id": str(trainee.id), "files": files(("t.json", json.dumps(data).encode()))})
    assert r.status_code == 422
    fault = r.get_json()["faults"][0]
    assert fault.startswith("t.json: turns[3].text: ")
    assert fault == "t.json: turns[3].text: Turn 3 has 101 characters; at most 100 are accepted per turn."
    assert count(Drill) == 0


def test_the_default_limits_refuse_the_attack_file(client, setup):
    """The file of the finding: 100,000 short turns in 3.25 MB (under the request limit)."""
    _, trainee = setup
    raw = _transcript(100_000, "好")
    assert 3_000_000 < len(raw) < 5 * 1024 * 1024
    r = _upload(client, trainee, "attack.json", raw)
    assert r.status_code == 422 and "上限" in r.get_json()["faults"][0]
    assert count(Drill) == 0


def _huge_drill(trainee) -> Drill:
    """An ended drill with one turn of 1.5 million characters (imported before the bound)."""
    version = scenario_version("billing_complaint", "zh-CN")
    drill = Drill(trainee_id=trainee.id, scenario_version_id=version.id, customer_kind="import",
                  mode="practice", status="ended")
    drill.turns = [Turn(position=0, speaker="customer", text="我要投诉。"),
                   Turn(position=1, speaker="agent", text="您好" * (HUGE_TURN // 2)),
                   Turn(position=2, speaker="customer", text="好的，谢谢。")]
    db.session.add(drill)
    db.session.commit()
    return drill


def test_pdf_of_a_huge_turn_is_bounded_and_says_it_was_shortened(app, client, make_user, auth):
    trainee = make_user("trainee", username="xiaoli")
    drill = _huge_drill(trainee)
    assert auth.login(trainee.username).status_code == 302
    tracemalloc.start()
    r = client.get(f"/trainee/drills/{drill.id}/transcript.pdf")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    # Unbounded, reportlab laid the turn out at about 1 GiB; here well under 200 MiB.
    assert peak < 200 * 2**20, peak
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(r.data)).pages)
    assert "第 1 个发言在此处有删节" in text and "1,500,000" in text
    assert "好的，谢谢" in text  # the turns after it are still there
    assert len(r.data) < 2 * 2**20


def test_pdf_stops_at_the_transcript_budget_with_a_note(app, client, make_user, auth):
    app.config["PDF_MAX_TRANSCRIPT_CHARS"] = 30
    trainee = make_user("trainee", username="xiaoli")
    drill = _huge_drill(trainee)
    assert auth.login(trainee.username).status_code == 302
    r = client.get(f"/trainee/drills/{drill.id}/transcript.pdf")
    text = "".join(page.extract_text() for page in PdfReader(BytesIO(r.data)).pages)
    assert "另有 1 个发言未在 PDF 中显示" in text and "好的，谢谢" not in text


# --- rate limits --------------------------------------------------------------------------

@pytest.fixture
def trainee_in(app, make_user, auth):
    user = make_user("trainee", username="xiaozhang")
    assert auth.login(user.username).status_code == 302
    return user


def test_drill_starts_past_the_limit_get_429_in_chinese(app, client, trainee_in):
    app.config["DRILL_STARTS_PER_WINDOW"] = 2
    for seed in (1, 2):
        r = client.post("/trainee/start/billing_complaint", data={"persona": "calm", "customer": "scripted",
                                                                 "seed": str(seed)})
        assert r.status_code == 302
    r = client.post("/trainee/start/billing_complaint", data={"persona": "calm", "customer": "scripted", "seed": "3"})
    assert r.status_code == 429 and r.headers["Retry-After"] == "60"
    assert "您在最近 60 秒内已开始 2 次演练，已达上限" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Drill.id))) == 2


def test_turns_past_the_limit_get_429_in_json(app, client, trainee_in):
    app.config["TURNS_PER_WINDOW"] = 1
    r = client.post("/trainee/start/billing_complaint", data={"persona": "calm", "customer": "scripted", "seed": "1"})
    drill_id = int(r.headers["Location"].rsplit("/", 1)[1])
    url = f"/trainee/drills/{drill_id}/turns"
    assert client.post(url, json={"text": "您好，请问有什么可以帮您？", "after": 0}).status_code == 200
    r = client.post(url, json={"text": "请提供一下机主姓名。", "after": 2})
    assert r.status_code == 429 and r.headers["Retry-After"] == "60"
    body = r.get_json()
    assert body["code"] == "too_many_turns" and "您在最近 60 秒内已发送 1 条发言，已达上限" in body["error"]
    assert db.session.scalar(select(func.count(Turn.id)).where(Turn.drill_id == drill_id)) == 3
