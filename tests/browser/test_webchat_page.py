"""The owner's web-chat page in a real browser on a phone screen: texts from the
catalogues in the chosen language, and an API error shown as a sentence she can read."""

from __future__ import annotations

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
