"""Class vs BERT in real browsers: a presenter and three students (separate browser contexts, phone-sized) on
one server, then on two replicas that share a private Redis (the presenter on one, the students on the other)."""
from __future__ import annotations

import contextlib
import importlib.util
import re
from pathlib import Path

import pytest

from harness.browser import streamlit_server
from harness.redis import REDIS_SERVER
from deploy.local_replicas import NGINX
from tests.browser_fixtures import NEEDS_BROWSER, TIMEOUT_MS, assert_no_exception, browser, wait_idle  # noqa: F401
from ui.text import t

pytestmark = NEEDS_BROWSER

if importlib.util.find_spec("playwright") is not None:
    from playwright.sync_api import expect

ANSWERS = ["yes", "no", "yes"]


def _keep(context, url: str, affinity: str | None) -> None:
    """Behind nginx: the browser holds the affinity cookie `affinity`, which picks its replica."""
    if affinity:
        context.add_cookies([{"name": "ib_affinity", "value": affinity, "url": url}])


def presenter_asks(browser, url: str, affinity: str | None = None):  # noqa: F811 -- the fixture's name
    """The presenter opens distillation's agreement step on a 1280 x 720 projector, switches Class vs BERT on in
    the sidebar and asks the class: (page, join address)."""
    context = browser.new_context(viewport={"width": 1280, "height": 720}, device_scale_factor=1.5)
    _keep(context, url, affinity)
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


def student_answers(browser, address: str, answer: str, affinity: str | None = None):  # noqa: F811
    context = browser.new_context(viewport={"width": 420, "height": 860}, is_mobile=True, has_touch=True)
    _keep(context, address, affinity)
    context.set_default_timeout(TIMEOUT_MS)
    phone = context.new_page()
    phone.goto(address)
    wait_idle(phone)
    expect(phone.locator('[data-testid="stSidebar"]')).to_be_hidden()
    phone.get_by_role("button", name=t(f"classroom.{answer}")).click()
    expect(phone.get_by_text(t("classroom.sent", word=t(f"classroom.{answer}")).replace("**", ""))).to_be_visible()
    return phone


def play(browser, presenter_url: str, student_url: str, affinities: list[str | None] | None = None) -> None:  # noqa: F811
    """A presenter asks, three students answer, the presenter's count reaches 3, the reveal reaches every phone.
    `affinities`: behind nginx, the presenter's and each student's affinity cookie."""
    keys = affinities or [None] * (1 + len(ANSWERS))
    page, address = presenter_asks(browser, presenter_url, keys[0])
    address = student_url + address[address.index("/join"):]
    phones = [student_answers(browser, address, a, k) for a, k in zip(ANSWERS, keys[1:])]
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


@pytest.mark.skipif(not Path(REDIS_SERVER).exists() or not Path(NGINX).exists(),
                    reason="needs Debian's redis-server and nginx")
def test_a_class_spread_over_two_replicas_behind_nginx_plays_one_game(browser, monkeypatch, tmp_path):  # noqa: F811
    """deploy/nginx.conf in front of two replicas sharing Redis, as deployed: the presenter on one replica, the
    students on both (their affinity cookies chosen by the replica nginx answers them from), one count, one
    reveal for all; nginx's log shows both replicas served the class."""
    import subprocess
    import urllib.request

    from deploy.local_replicas import render_conf, wait_healthy
    from harness.browser import free_port
    from harness.redis import redis_server

    with redis_server() as redis_url, contextlib.ExitStack() as stack:
        monkeypatch.setenv("INSIDE_BERT_STORE", redis_url)
        monkeypatch.setenv("INSIDE_BERT_SECRET", "one secret for the class")
        replicas = [stack.enter_context(streamlit_server(warm=False)) for _ in range(2)]
        listen = free_port()
        (tmp_path / "logs").mkdir()
        (tmp_path / "nginx.conf").write_text(render_conf([int(u.rsplit(":", 1)[1]) for u in replicas], listen))
        nginx = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g",
                                  f"daemon off; pid {tmp_path / 'nginx.pid'};"],
                                 stdout=open(tmp_path / "access.log", "w"), stderr=open(tmp_path / "error.log", "w"))
        stack.callback(nginx.wait, 15)
        stack.callback(nginx.terminate)
        proxy = f"http://127.0.0.1:{listen}"
        wait_healthy(proxy, nginx)

        def replica_of(key: str) -> str:
            ask = urllib.request.Request(f"{proxy}/_stcore/health", headers={"Cookie": f"ib_affinity={key}"})
            return urllib.request.urlopen(ask, timeout=10).headers["X-Replica"]

        by_replica: dict[str, list[str]] = {}
        for i in range(64):  # keys until each replica has two
            by_replica.setdefault(replica_of(f"student-{i}"), []).append(f"student-{i}")
            if len(by_replica) == 2 and all(len(k) >= 2 for k in by_replica.values()):
                break
        (a, b) = by_replica.values()
        play(browser, proxy, proxy, [a[0], a[1], b[0], b[1]])  # the presenter and a student on one, two on the other
        log = (tmp_path / "access.log").read_text()
        served = {m for key in (a[0], a[1], b[0], b[1])
                  for m in re.findall(rf"upstream=(\S+?),? affinity={key}\b", log)}
        assert len(served) == 2, served
