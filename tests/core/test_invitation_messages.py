"""The invitation's words: neutral, the link only, in the participant's language or Swedish."""

from __future__ import annotations

import pytest

from core.invitation_messages import email_text, participant_language, sms_text

LINK = "https://samverkan.example.se/enkat/abc123"


@pytest.mark.parametrize(
    ("written", "code"),
    [("Arabiska", "ar"), ("engelska", "en"), ("English", "en"), ("svenska", "sv"),
     ("tigrinja", "ti"), ("persiska", "sv"), ("", "sv"), (None, "sv")],
)  # fmt: skip
def test_the_recorded_language_names_a_survey_language_or_swedish(
    written: str | None, code: str
) -> None:
    assert participant_language(written) == code


def test_the_sms_is_a_greeting_and_the_link_in_swedish_english_and_swedish_as_fallback() -> None:
    swedish = "Hej! Vi vill gärna höra hur du har det. Svara på några korta frågor här: " + LINK
    assert sms_text("sv", LINK) == swedish
    assert sms_text("en", LINK).startswith("Hi! ") and sms_text("en", LINK).endswith(LINK)
    assert sms_text("so", LINK) == swedish  # no translation yet: Swedish
    assert len(sms_text("sv", LINK)) <= 160  # one SMS part


def test_the_email_has_a_neutral_subject_and_the_link_and_end_date_only() -> None:
    mail = email_text("sv", LINK, "2026-04-09")
    assert mail.subject == "Några korta frågor"
    assert LINK in mail.body and "2026-04-09" in mail.body
    assert "team" not in mail.body.lower()
