"""Issue 15: the red-line mark "⚑" in lists was never explained. Wherever a list shows it,
it now carries its word, in the reader's language (a tooltip never shows on a phone)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.extensions import db
from app.models import Cohort
from app.services import scoring

NOVERIFY = Path(__file__).resolve().parent.parent / "data" / "transcripts" / "billing_complaint.good.noverify.json"


@pytest.fixture
def flagged_drill(app, make_user):
    trainer = make_user("trainer", username="coach")
    group = Cohort(name="一班", trainer_id=trainer.id)
    db.session.add(group)
    db.session.commit()
    trainee = make_user("trainee", username="xiaowang", display_name="小王", cohort=group)
    drill = scoring.import_transcript(NOVERIFY.read_bytes(), NOVERIFY.name, trainee, trainee=trainee)
    assert scoring.latest_score(drill).flags
    return trainer, trainee, drill


def marks(page: str) -> list[str]:
    """The visible text of every red-line mark on the page."""
    return [re.sub(r"\s+", " ", m).strip() for m in re.findall(r'class="rp-flag-mark"[^>]*>(.*?)</span>', page, re.S)]


@pytest.mark.parametrize("lang, word", [("zh", "红线"), ("en", "red line")])
def test_red_line_mark_says_what_it_is(client, auth, flagged_drill, lang, word):
    trainer, trainee, drill = flagged_drill
    assert auth.login(trainer.username).status_code == 302
    client.post(f"/language/{lang}")
    for url in ("/trainer/review", f"/trainer/trainees/{trainee.id}"):
        assert_marked(client.get(url).get_data(as_text=True), word, url)
    auth.logout()
    assert auth.login(trainee.username).status_code == 302
    client.post(f"/language/{lang}")
    assert_marked(client.get("/trainee/").get_data(as_text=True), word, "/trainee/")


def assert_marked(page: str, word: str, url: str) -> None:
    assert f"⚑ {word}" in marks(page), url
    assert "⚑" not in re.sub(r'class="rp-flag-mark"[^>]*>⚑', "", page), url  # no bare mark left
