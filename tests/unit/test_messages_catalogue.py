"""The message catalogues: every message id has a translation in every shipped language, with the same
placeholders, and the English constants the code names are the catalogue's."""

import pytest

from assistant.locales import REFERENCE, catalogue, fixed_prefix, languages, placeholders, supported, template, text
from assistant.locales.local_formats import day_in, money_in
from assistant.turn.handover_rules import REPLIES, WAITING
from assistant.turn.input_guard import BLOCKED_REPLIES
from assistant.turn.prompts import NOTHING_FOUND, REFUSE_OTHER_ORDER, UNAVAILABLE
from assistant.turn.state import HELD

OTHERS = [lang for lang in languages() if lang != REFERENCE]


def test_english_and_simplified_chinese_ship() -> None:
    assert languages()[0] == "en" and "zh" in languages()


@pytest.mark.parametrize("language", OTHERS)
def test_every_message_has_a_translation(language: str) -> None:
    reference, translated = catalogue(REFERENCE), catalogue(language)

    assert sorted(set(reference) - set(translated)) == []
    assert sorted(set(translated) - set(reference)) == []  # no stale ids either
    assert all(value.strip() for value in translated.values())


@pytest.mark.parametrize("language", OTHERS)
def test_placeholders_match_the_reference(language: str) -> None:
    reference, translated = catalogue(REFERENCE), catalogue(language)

    mismatched = {key: (placeholders(reference[key]), placeholders(translated[key]))
                  for key in reference if placeholders(reference[key]) != placeholders(translated.get(key, ""))}

    assert mismatched == {}


@pytest.mark.parametrize("language", languages())
def test_every_template_fills(language: str) -> None:
    for key, value in catalogue(language).items():
        filled = text(key, language, **{name: f"<{name}>" for name in placeholders(value)})
        assert "{" not in filled, key


@pytest.mark.parametrize("language", languages())
def test_a_reply_that_offers_a_person_says_so_in_every_language(language: str) -> None:
    offer = text("offers_a_person", language)

    assert offer in template("nothing_found", language) and offer in template("unavailable", language)


def test_the_english_constants_are_the_english_catalogue() -> None:
    assert template("nothing_found") == NOTHING_FOUND and template("unavailable") == UNAVAILABLE
    assert template("refuse_other_order") == REFUSE_OTHER_ORDER and template("handover.held") == HELD
    assert template("handover.waiting") == WAITING and REPLIES["angry_customer"] == template("handover.angry_customer")
    assert BLOCKED_REPLIES["too_long"] == template("blocked.too_long")


def test_a_language_without_a_catalogue_falls_back_to_english() -> None:
    assert supported("zh-CN") == "zh" and supported("zh_Hans") == "zh" and supported("fr") == "en"
    assert text("greeting", "fr") == text("greeting", "en")


def test_a_message_is_recognised_by_its_fixed_prefix_in_every_language() -> None:
    reply = text("nothing_found", "zh", shop="北风户外")

    assert reply.startswith(fixed_prefix("nothing_found"))


def test_money_and_dates_are_written_for_the_language() -> None:
    assert money_in(1299, "CNY", "zh") == "¥1,299.00" and money_in(89.99, "USD", "zh") == "US$89.99"
    assert money_in(1299, "USD", "en") == "$1,299.00"  # English as the replies always wrote it
    assert day_in("2026-11-28T10:00:00+00:00", "zh") == "2026年11月28日" and day_in("2026-11-28", "en") == "2026-11-28"
