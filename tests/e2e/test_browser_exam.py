"""The certification exam in Chromium: the clock runs, a click is autosaved, a reload
keeps the answer, pages move, submission asks first and lands on the results with the
right answers."""
from __future__ import annotations

import re

import pytest

from tests.e2e.support import skip_module_without_browser

skip_module_without_browser()

try:
    from playwright.sync_api import expect
except ImportError:  # only under CI: the `browser` fixture fails each test, saying why
    expect = None

pytestmark = pytest.mark.browser


def test_exam_clock_autosave_pages_and_results(open_session):
    s = open_session("trainee")
    page = s.page
    s.goto("/trainee/certification/core")
    with page.expect_navigation():
        page.click("form[action$='/start'] button[type=submit]")
    s.goto("/trainee/certification/core/exam")
    with page.expect_navigation():
        page.click("form[action$='/exam/begin'] button[type=submit]")
    clock = page.locator("#exam-clock")
    expect(clock).to_have_text(re.compile(r"^\d+:\d\d$"))
    first_text = clock.text_content()
    expect(clock).not_to_have_text(first_text)  # the countdown runs in the page
    first = page.locator("fieldset input").first
    name = first.get_attribute("name")
    first.check()
    expect(page.locator("#exam-saved")).to_have_text("已保存")  # the change was posted and stored
    s.shot("cert_exam")
    page.reload()
    expect(page.locator(f"input[name='{name}']").first).to_be_checked()  # the server kept it
    with page.expect_navigation():
        page.click("nav.exam-pages button:has-text('下一页')")
    expect(page.locator(".exam-bar")).to_contain_text("第 2 / 6 页")
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("#exam-submit")
    assert page.url.endswith("/exam/results"), page.url
    expect(page.locator("h1")).to_have_text("考试结果")
    expect(page.locator(".exam-review li.card").first).to_contain_text("正确答案")
    s.shot("cert_results")
