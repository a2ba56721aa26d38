"""Issue 15, item 8 (admin pages): rename and delete cohorts, a person in several
cohorts, importing people from a CSV file with a per-line fault report."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Cohort, User


@pytest.fixture
def admin(login_as):
    return login_as("admin")


def cohort(name: str, trainer=None) -> Cohort:
    row = Cohort(name=name, trainer_id=trainer.id if trainer else None)
    db.session.add(row)
    db.session.commit()
    return row


def test_rename_and_delete_from_the_cohort_page(client, admin, make_user):
    full, empty, other = cohort("一班"), cohort("旧班"), cohort("二班")
    make_user("trainee", username="xiaowang", cohort=full)
    page = client.get("/admin/cohorts").text
    assert f"/admin/cohorts/{full.id}" in page
    assert "xiaowang" in client.get(f"/admin/cohorts/{full.id}").text
    r = client.post(f"/admin/cohorts/{full.id}", data={"name": "二班"})
    assert r.status_code == 400 and "已有同名班组。" in r.text  # the interface is Chinese by default
    assert client.post(f"/admin/cohorts/{full.id}", data={"name": "一班（春）"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Cohort, full.id).name == "一班（春）"
    r = client.post(f"/admin/cohorts/{full.id}/delete")
    assert r.status_code == 400 and "还有 1 名成员和 0 项任务" in r.text
    assert db.session.get(Cohort, full.id) is not None
    assert client.post(f"/admin/cohorts/{empty.id}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(Cohort, empty.id) is None and db.session.get(Cohort, other.id) is not None
    assert client.get("/admin/cohorts/999999").status_code == 404


def test_a_person_in_two_cohorts_through_the_form(client, admin, make_user):
    a, b = cohort("一班"), cohort("产品复训")
    user = make_user("trainee", username="xiaowang")
    r = client.post(f"/admin/users/{user.id}", data={"display_name": "小王", "role": "trainee",
                                                     "cohort_ids": [str(a.id), str(b.id)], "active": "y"})
    assert r.status_code == 302
    db.session.expire_all()
    assert {c.name for c in db.session.get(User, user.id).cohorts} == {"一班", "产品复训"}
    home = client.get("/admin/").text
    assert "一班, 产品复训" in home
    form = client.get(f"/admin/users/{user.id}").text
    assert form.count("selected") >= 2  # both shown as chosen
    r = client.post(f"/admin/users/{user.id}", data={"display_name": "小王", "role": "trainee",
                                                     "cohort_ids": [str(b.id)], "active": "y"})
    db.session.expire_all()
    assert [c.name for c in db.session.get(User, user.id).cohorts] == ["产品复训"]


def test_import_page_lists_every_bad_line_and_creates_nobody(client, admin):
    cohort("一班")
    before = db.session.scalar(select(func.count()).select_from(User))
    text = "用户名,姓名,角色,班组,初始密码\nzhangsan,张三,学员,一班,long-enough-1\nlisi,李四,学员,三班,short\n"
    r = client.post("/admin/users/import", data={"file": (io.BytesIO(text.encode("utf-8")), "people.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 400
    faults = r.text.split('id="import-faults"', 1)[1]
    assert "三班" in faults and "<td>3</td>" in faults and "<td>2</td>" not in faults
    assert db.session.scalar(select(func.count()).select_from(User)) == before
    good = text.replace("三班", "一班").replace("short", "long-enough-2")
    r = client.post("/admin/users/import", data={"file": (io.BytesIO(good.encode("utf-8")), "people.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(User)) == before + 2
    r = client.post("/admin/users/import", data={"file": (io.BytesIO(b"name\nx\n"), "people.csv")},
                    content_type="multipart/form-data")
    assert r.status_code == 400 and "username / 用户名" in r.text
