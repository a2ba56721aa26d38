"""The trainer's analytics page: renders charts and tables, filters, empty data, bad input."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from tests.services.test_analytics import build_cohort


def clean(html: str) -> None:
    assert " style=" not in html and "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)


def test_analytics_page_shows_charts_and_tables(app, client, make_user, auth):
    trainer, _other, cohort = build_cohort(make_user)
    auth.login(trainer.username)
    page = client.get("/trainer/analytics")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    clean(html)
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(svgs) >= 8
    for svg in svgs:
        ET.fromstring(svg)  # each chart is well-formed on its own
    assert "billing_complaint" in html and "5g_plan_launch" in html  # difficulty links to the library
    assert "an-other" not in html
    filtered = client.get(f"/trainer/analytics?cohort={cohort.id}&start=2026-11-03&end=2026-11-30")
    assert filtered.status_code == 200


def test_analytics_page_without_drills(client, login_as):
    login_as("trainer")
    page = client.get("/trainer/analytics")
    assert page.status_code == 200
    clean(page.get_data(as_text=True))
    assert "<svg" not in page.get_data(as_text=True)


def test_analytics_bad_filters_are_400(client, login_as):
    login_as("trainer")
    assert client.get("/trainer/analytics?start=yesterday").status_code == 400
    assert client.get("/trainer/analytics?cohort=9999").status_code == 400
    assert client.get("/trainer/analytics?start=2026-11-05&end=2026-11-01").status_code == 400


def test_analytics_is_trainer_only(client, login_as):
    login_as("hr")
    assert client.get("/trainer/analytics").status_code == 403
