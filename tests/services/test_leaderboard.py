"""The opt-in cohort leaderboard (issue 15 item 3): only trainees who joined, of the
viewer's cohort, ranked by average current score; nothing for one who has not joined."""
from __future__ import annotations

from pathlib import Path

import pytest

from app.extensions import db
from app.models import Cohort
from app.services import leaderboard, scoring

DATA = Path(__file__).resolve().parent.parent / "data" / "transcripts"


def imported(trainee, name):
    path = DATA / name
    return scoring.import_transcript(path.read_bytes(), path.name, trainee, trainee=trainee)


@pytest.fixture
def people(app, make_user):
    trainer = make_user("trainer", username="coach")
    a, b = Cohort(name="一班", trainer_id=trainer.id), Cohort(name="二班", trainer_id=trainer.id)
    db.session.add_all([a, b])
    db.session.commit()
    good = make_user("trainee", username="good", display_name="好学员", cohort=a)
    weak = make_user("trainee", username="weak", display_name="新学员", cohort=a)
    shy = make_user("trainee", username="shy", display_name="不参加", cohort=a)
    elsewhere = make_user("trainee", username="else", display_name="别班", cohort=b)
    for u in (good, weak, elsewhere):
        u.leaderboard_opt_in = True
    db.session.commit()
    imported(good, "billing_complaint.good.json")
    imported(weak, "billing_complaint.bad.json")
    imported(shy, "billing_complaint.good.json")
    imported(elsewhere, "billing_complaint.good.json")
    return good, weak, shy, elsewhere


def test_only_opted_in_trainees_of_the_cohort_ranked_by_average(people):
    good, weak, shy, elsewhere = people
    rows = leaderboard.cohort_board(weak)
    assert [r.user.username for r in rows] == ["good", "weak"]
    assert [r.rank for r in rows] == [1, 2] and rows[0].average > rows[1].average
    assert rows[0].drills == 1 and rows[0].best == rows[0].average
    from app.services.drill_score import current_score
    from app.services.progress import scored_drills

    assert rows[0].average == round(current_score(scored_drills(good)[0].drill).total, 1)


def test_not_joined_sees_nothing_and_joining_shows_the_board(people):
    good, weak, shy, elsewhere = people
    assert leaderboard.cohort_board(shy) == []
    leaderboard.set_opt_in(shy, True)
    assert {r.user.username for r in leaderboard.cohort_board(shy)} == {"good", "weak", "shy"}
    leaderboard.set_opt_in(good, False)
    assert "good" not in {r.user.username for r in leaderboard.cohort_board(shy)}
