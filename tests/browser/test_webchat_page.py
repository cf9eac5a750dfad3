"""The owner's web-chat page in a real browser on a phone screen: texts from the
catalogues in the chosen language, and an API error shown as a sentence she can read."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from backend.i18n import t
from tests.fakes.server import Served

PHONE = {"width": 390, "height": 844}


def phone_page(browser: Any) -> Any:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    return context.new_page()


def test_an_english_owner_asks_and_is_answered_on_a_phone(browser: Any, served: Served) -> None:
    page = phone_page(browser)
    page.goto(f"{served.base_url}/chat?session=demo-session&lang=en")
    assert page.inner_text("#title") == t("en", "webchat.title")
    assert page.get_attribute("#text", "placeholder") == t("en", "webchat.placeholder")
    page.fill("#text", "where are the parcel lockers")
    page.click("#send")
    page.wait_for_selector("text=Parcel lockers are", timeout=15000)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1

    page.select_option("#lang", "zh")  # the page switches at once and tells the server
    page.wait_for_function(
        f"document.getElementById('title').textContent === {t('zh', 'webchat.title')!r}"
    )
    assert page.inner_text("#send") == t("zh", "webchat.send")
    page.context.close()


def test_an_api_error_reads_as_a_sentence_in_her_language(browser: Any, served: Served) -> None:
    page = phone_page(browser)
    # A session id the API refuses (422 invalid_input): the greeting request fails.
    page.goto(f"{served.base_url}/chat?session={quote('bad session!')}&lang=en")
    page.wait_for_selector(f"text={t('en', 'webchat.error.invalid_input')}", timeout=15000)
    assert "letters, digits" not in page.inner_text("#log")  # not the API's own message
    page.context.close()


QUESTION = "where are the parcel lockers"
ANSWER = "Parcel lockers are"


def intercept_question(page: Any, *steps: str) -> list[str]:
    """Play ``steps`` on the page's tries to send QUESTION, then let it through.

    ``busy``: the server's 503; ``drop``: the network fails before the server; ``lost``:
    the server answers but the answer never reaches the page. Returns each try's id.
    """
    ids: list[str] = []

    def handle(route: Any) -> None:
        body = route.request.post_data_json if route.request.method == "POST" else None
        if not body or body.get("text") != QUESTION:
            route.continue_()
            return
        ids.append(body["id"])
        step = steps[len(ids) - 1] if len(ids) <= len(steps) else "pass"
        if step == "busy":
            route.fulfill(
                status=503,
                headers={"Retry-After": "1"},
                content_type="application/json",
                body=json.dumps({"error": {"code": "busy", "message": "busy"}}),
            )
        elif step == "drop":
            route.abort("connectionreset")
        elif step == "lost":
            route.fetch()  # stored and answered by the server...
            route.abort("connectionreset")  # ...but the page never hears it
        else:
            route.continue_()

    page.route("**/api/webchat/messages", handle)
    return ids


def open_chat(browser: Any, served: Served, session: str) -> tuple[Any, int]:
    """The page with its history and greeting shown, and how many answers it already has."""
    page = phone_page(browser)
    page.goto(f"{served.base_url}/chat?session={session}&lang=en")
    page.wait_for_load_state("networkidle")
    return page, page.locator(".bot", has_text=ANSWER).count()


def wait_for_answers(page: Any, count: int) -> None:
    page.wait_for_function(
        "([text, n]) => [...document.querySelectorAll('.bot')]"
        ".filter((e) => e.textContent.includes(text)).length >= n",
        arg=[ANSWER, count],
        timeout=30000,
    )


def test_a_busy_server_and_a_network_failure_are_retried_with_the_same_id(
    browser: Any, served: Served
) -> None:
    page, before = open_chat(browser, served, "demo-session")
    ids = intercept_question(page, "busy", "busy", "drop")
    page.fill("#text", QUESTION)
    page.click("#send")
    page.wait_for_selector(f"text={t('en', 'webchat.error.busy')}", timeout=15000)
    wait_for_answers(page, before + 1)
    assert len(ids) == 4 and len(set(ids)) == 1
    assert page.locator(".retrying").count() == 0  # the notice goes once it got through
    assert page.locator(".pending, .failed").count() == 0
    assert page.locator(".me", has_text=QUESTION).count() == 1
    page.context.close()


def test_an_answer_lost_on_the_way_is_fetched_not_asked_again(browser: Any, served: Served) -> None:
    page, before = open_chat(browser, served, "demo-session-b")
    ids = intercept_question(page, "lost")
    page.fill("#text", QUESTION)
    page.click("#send")
    wait_for_answers(page, before + 1)
    page.wait_for_timeout(3500)  # a second copy would show by the next poll
    assert len(ids) == 2 and ids[0] == ids[1]
    assert page.locator(".bot", has_text=ANSWER).count() == before + 1
    page.context.close()
