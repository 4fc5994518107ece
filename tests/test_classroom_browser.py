"""Class vs BERT in real browsers: a presenter and three students (separate browser contexts, phone-sized) on
one server, then on two replicas that share a private Redis (the presenter on one, the students on the other)."""
from __future__ import annotations

import contextlib
import importlib.util
import re
from pathlib import Path

import pytest

from harness.browser import CHROMIUM, streamlit_server
from harness.redis import REDIS_SERVER
from tests.test_browser import TIMEOUT_MS, assert_no_exception, browser, wait_idle  # noqa: F401
from ui.text import t

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() or importlib.util.find_spec("playwright") is None,
                                reason="needs /usr/bin/chromium and the playwright package")

if importlib.util.find_spec("playwright") is not None:
    from playwright.sync_api import expect

ANSWERS = ["yes", "no", "yes"]


def presenter_asks(browser, url: str):  # noqa: F811 -- the imported fixture's name
    """The presenter opens distillation's agreement step on a 1280 x 720 projector, switches Class vs BERT on in
    the sidebar and asks the class: (page, join address)."""
    context = browser.new_context(viewport={"width": 1280, "height": 720}, device_scale_factor=1.5)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{url}/distillation?present=1&step=2")
    wait_idle(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    expand = page.locator('[data-testid="stExpandSidebarButton"]')
    if expand.count() and expand.is_visible():  # presenter mode starts with the sidebar closed
        expand.click()
    expect(sidebar.get_by_text(t("classroom.mode"))).to_be_in_viewport()
    sidebar.get_by_text(t("classroom.mode")).click()
    wait_idle(page)
    page.keyboard.press("Escape")
    page.get_by_role("button", name=t("classroom.ask")).click()
    code = page.locator(".inside-bert-code b")
    expect(code).to_have_text(re.compile(r"^[A-Z2-9]{6}$"))
    expect(page.locator('img[alt="QR"]')).to_be_visible()
    address = page.locator(".inside-bert-address").inner_text()
    assert code.inner_text() in address
    return page, address


def student_answers(browser, address: str, answer: str):  # noqa: F811
    context = browser.new_context(viewport={"width": 420, "height": 860}, is_mobile=True, has_touch=True)
    context.set_default_timeout(TIMEOUT_MS)
    phone = context.new_page()
    phone.goto(address)
    wait_idle(phone)
    expect(phone.locator('[data-testid="stSidebar"]')).to_be_hidden()
    phone.get_by_role("button", name=t(f"classroom.{answer}")).click()
    expect(phone.get_by_text(t("classroom.sent", word=t(f"classroom.{answer}")).replace("**", ""))).to_be_visible()
    return phone


def play(browser, presenter_url: str, student_url: str) -> None:  # noqa: F811
    page, address = presenter_asks(browser, presenter_url)
    address = student_url + address[address.index("/join"):]
    phones = [student_answers(browser, address, a) for a in ANSWERS]
    expect(page.locator('[data-testid="stMetricValue"]').first).to_have_text("3", timeout=TIMEOUT_MS)
    page.get_by_role("button", name=t("classroom.reveal")).click()
    share = t("classroom.agree_class", share=2 / 3, n=3).replace("**", "")
    expect(page.get_by_text(share, exact=False)).to_be_visible()
    for phone in phones:  # the students see the reveal too, without a reload
        expect(phone.get_by_text(share, exact=False)).to_be_visible(timeout=TIMEOUT_MS)
        assert_no_exception(phone)
    assert_no_exception(page)
    for p in (page, *phones):
        p.context.close()


def test_a_presenter_and_three_phones_on_one_server(browser):  # noqa: F811
    with streamlit_server() as url:
        play(browser, url, url)


@pytest.mark.skipif(not Path(REDIS_SERVER).exists(), reason="needs Debian's redis-server")
def test_the_presenter_on_one_replica_counts_the_students_on_another_through_redis(browser, monkeypatch):  # noqa: F811
    from harness.redis import redis_server

    with redis_server() as redis_url:
        monkeypatch.setenv("INSIDE_BERT_STORE", redis_url)  # both replicas inherit it
        monkeypatch.setenv("INSIDE_BERT_SECRET", "one secret for the class")
        with contextlib.ExitStack() as stack:
            first, second = (stack.enter_context(streamlit_server(warm=False)) for _ in range(2))
            play(browser, first, second)
